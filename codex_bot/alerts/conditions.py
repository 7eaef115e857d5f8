"""Alert conditions as people write them, and what they mean.

Absolute::

    below 95              value < 95
    above 30              value > 30

Relative to a baseline, the same window earlier (``vs 1d``: one day before; ``vs 7d median``:
the median of the same window on each of the 7 previous days)::

    drops 20% vs 1d       value < 0.8 × baseline
    rises 50% vs 7d       value > 1.5 × baseline
    rises 2x vs 7d median value > 2 × baseline
    drops 2x vs 1d        value < baseline / 2

A factor of the baseline, handy for a resolve condition::

    above 90% of 1d       value > 0.9 × baseline
    below 1.5x of 7d median
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

Op = Literal["below", "above"]

_NUMBER = r"([0-9]+(?:\.[0-9]+)?)"
_BASELINE = r"([0-9]+)([mhdw])(\s+median)?"
_ABSOLUTE = re.compile(r"(below|above)\s+(-?[0-9]+(?:\.[0-9]+)?)")
_CHANGE = re.compile(rf"(drops|rises)\s+{_NUMBER}\s*(%|x)\s+vs\s+{_BASELINE}")
_FACTOR = re.compile(rf"(below|above)\s+{_NUMBER}\s*(%|x)\s+(?:of|vs)\s+{_BASELINE}")
_UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 604800}
DAY = timedelta(days=1)

FORMS = "'below 95', 'above 30', 'drops 20% vs 1d', 'rises 2x vs 7d median', 'above 90% of 1d'"


class ConditionError(ValueError):
    """The text is not a condition; the message says what is accepted."""


@dataclass(frozen=True)
class Baseline:
    """The same window ``offset`` earlier, or the median over each whole day back to ``offset``."""

    offset: timedelta
    median: bool = False

    def offsets(self) -> tuple[timedelta, ...]:
        """How far back each baseline sample is taken."""
        if not self.median:
            return (self.offset,)
        return tuple(DAY * n for n in range(1, self.offset // DAY + 1))

    def text(self) -> str:
        seconds = int(self.offset.total_seconds())
        unit = next(u for u in ("w", "d", "h", "m") if seconds % _UNITS[u] == 0)
        return f"{seconds // _UNITS[unit]}{unit}" + (" median" if self.median else "")


@dataclass(frozen=True)
class Condition:
    """``value <op> threshold`` where threshold = ``amount`` (absolute) or ``amount × baseline``."""

    op: Op
    amount: float
    baseline: Baseline | None = None
    text: str = ""

    @property
    def relative(self) -> bool:
        return self.baseline is not None

    def threshold(self, baseline_value: float | None = None) -> float | None:
        """The number ``value`` is compared with (None when a relative condition has no baseline)."""
        if self.baseline is None:
            return self.amount
        if baseline_value is None or baseline_value <= 0:
            return None
        return self.amount * baseline_value

    def holds(self, value: float, threshold: float) -> bool:
        return value < threshold if self.op == "below" else value > threshold


def parse_condition(text: str) -> Condition:
    """Parse one condition; :class:`ConditionError` names the accepted forms."""
    if not isinstance(text, str):
        raise ConditionError(f"a condition is text such as {FORMS}")
    normal = " ".join(text.lower().split())
    if found := _ABSOLUTE.fullmatch(normal):
        return Condition(found.group(1), float(found.group(2)), None, normal)  # type: ignore[arg-type]
    if found := _CHANGE.fullmatch(normal):
        direction, number, unit = found.group(1), float(found.group(2)), found.group(3)
        op: Op = "below" if direction == "drops" else "above"
        return Condition(op, _change_factor(direction, number, unit), _baseline(*found.group(4, 5, 6)), normal)
    if found := _FACTOR.fullmatch(normal):
        number, unit = float(found.group(2)), found.group(3)
        factor = number / 100 if unit == "%" else number
        if factor <= 0:
            raise ConditionError(f"{text!r}: the factor must be positive")
        return Condition(found.group(1), factor, _baseline(*found.group(4, 5, 6)), normal)  # type: ignore[arg-type]
    raise ConditionError(f"{text!r} is not a condition; write one of {FORMS}")


def _change_factor(direction: str, number: float, unit: str) -> float:
    if unit == "%":
        if direction == "drops" and not 0 < number < 100:
            raise ConditionError(f"'drops {number:g}%': the drop must be between 0 and 100 %")
        if number <= 0:
            raise ConditionError(f"'rises {number:g}%': the rise must be positive")
        return 1 - number / 100 if direction == "drops" else 1 + number / 100
    if number <= 1:
        raise ConditionError(f"'{direction} {number:g}x': the factor must be greater than 1")
    return 1 / number if direction == "drops" else number


def _baseline(count: str, unit: str, median: str | None) -> Baseline:
    offset = timedelta(seconds=int(count) * _UNITS[unit])
    if offset <= timedelta(0):
        raise ConditionError("the baseline must be a positive time back, e.g. 1d or 7d")
    if median and (offset % DAY or offset < 2 * DAY):
        raise ConditionError(f"'{count}{unit} median': a median needs whole days, at least 2 (e.g. 7d median)")
    return Baseline(offset, bool(median))
