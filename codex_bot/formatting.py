"""Numbers for people: compact figures with units and change strings.

Units are the ones panels use: ``tokens``, ``count``, ``seconds``, ``percent``, ``usd``
(anything else is shown as a plain compact number).  Used by the CLI table, charts and Slack.
"""

from __future__ import annotations

import math
from typing import Literal

from codex_bot.change import change

Unit = Literal["tokens", "count", "seconds", "percent", "usd"]
MISSING = "—"
_SUFFIXES = ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k"))


def compact(value: float) -> str:
    """12 → "12", 12345 → "12.3k", 4_500_000 → "4.5M", 0.25 → "0.25"; one decimal below 100 of a suffix."""
    magnitude = abs(value)
    for scale, suffix in _SUFFIXES:
        if magnitude >= scale * 0.9995:
            scaled = value / scale
            text = f"{scaled:.1f}" if abs(round(scaled, 1)) < 100 else f"{scaled:.0f}"
            return text + suffix
    if value == int(value):
        return str(int(value))
    return f"{value:.2f}".rstrip("0").rstrip(".") if magnitude < 10 else f"{value:.1f}"


def duration(seconds: float) -> str:
    """350 ms, 1.2 s, 2.5 min, 10 min, 1.5 h (a trailing ".0" is dropped)."""
    magnitude = abs(seconds)
    if magnitude < 1:
        return f"{seconds * 1000:.0f} ms"
    for scale, suffix in ((3600, "h"), (60, "min"), (1, "s")):
        if magnitude >= scale:
            return f"{seconds / scale:.1f}".removesuffix(".0") + f" {suffix}"
    raise AssertionError("unreachable")


def usd(value: float) -> str:
    """$12.34, $1,234.56, -$3.00."""
    sign = "-" if value < 0 else ""
    return f"{sign}${abs(value):,.2f}"


def humanize(value: float | None, unit: str) -> str:
    """A figure as people read it: 12.3k, 4.5M, 1.2 s / 350 ms, 97.3 %, $12.34; None → "—"."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return MISSING
    if unit == "seconds":
        return duration(value)
    if unit == "percent":
        return f"{value:.1f} %"
    if unit == "usd":
        return usd(value)
    return compact(value)


def _signed(text: str, value: float) -> str:
    return text if value < 0 else "+" + text


def humanize_delta(delta: float, unit: str) -> str:
    """A difference with its sign: +1.2k, -350 ms, +2.0 pp (percentage points), +$1.50."""
    if unit == "percent":
        return _signed(f"{delta:.1f} pp", delta)
    return _signed(humanize(delta, unit), delta)


def humanize_change(current: float | None, previous: float | None, unit: str) -> str:
    """ "+12.3 % (+1.2k)"; "new (+1.2k)" when the previous period was 0; "—" when either is unknown."""
    diff = change(current, previous)
    if diff.absolute is None:
        return MISSING
    delta = humanize_delta(diff.absolute, unit)
    if diff.percent is None:
        return "no change" if diff.absolute == 0 else f"new ({delta})"
    return f"{_signed(f'{diff.percent:.1f} %', diff.percent)} ({delta})"
