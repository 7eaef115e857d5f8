"""Change of a figure against the previous period of equal length."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Change:
    """``absolute`` = current − previous; ``percent`` is None when there is no base to compare with."""

    absolute: float | None
    percent: float | None


def change(current: float | None, previous: float | None) -> Change:
    """The absolute and relative change from ``previous`` to ``current`` (None where undefined)."""
    if current is None or previous is None:
        return Change(None, None)
    absolute = current - previous
    percent = None if previous == 0 else 100.0 * absolute / abs(previous)
    return Change(absolute, percent)
