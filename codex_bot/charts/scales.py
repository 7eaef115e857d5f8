"""Axes without JavaScript: unit-aware value axes and time labels pre-formatted in the timezone.

Chart.js 4 formats linear ticks with ``Intl.NumberFormat`` options given as plain JSON
(``ticks.format``), so value axes read 12.5K / 4.5M / 1.2s / 97.3% / $12 without callbacks.
Time axes are category axes whose labels we format here, so no date adapter is needed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

_TICK_FORMATS: dict[str, dict[str, Any]] = {
    "seconds": {"style": "unit", "unit": "second", "unitDisplay": "narrow", "maximumFractionDigits": 2},
    "percent": {"style": "unit", "unit": "percent", "maximumFractionDigits": 1},
    "usd": {"style": "currency", "currency": "USD", "notation": "compact", "maximumFractionDigits": 2},
}
_COMPACT = {"notation": "compact", "maximumFractionDigits": 1}
_AXIS_TITLES = {"seconds": "seconds", "percent": "percent", "usd": "US dollars (estimate)", "tokens": "tokens"}
_GRID = {"color": "rgba(0, 0, 0, 0.08)"}


def axis_title(unit: str, fallback: str) -> str:
    """The value axis title: the unit, or what is counted (``fallback``) for plain counts."""
    return _AXIS_TITLES.get(unit, fallback)


def value_axis(unit: str, title: str, *, stacked: bool = False) -> dict[str, Any]:
    """A linear axis whose ticks carry the unit and compact numbers."""
    return {
        "type": "linear",
        "stacked": stacked,
        "beginAtZero": unit != "percent",
        "title": {"display": True, "text": title},
        "ticks": {"format": _TICK_FORMATS.get(unit, _COMPACT), "maxTicksLimit": 6},
        "grid": _GRID,
    }


def time_axis(tz: ZoneInfo, *, stacked: bool = False) -> dict[str, Any]:
    """A category axis over sparse pre-formatted time labels (see :func:`time_labels`), titled with the timezone."""
    return {
        "type": "category",
        "stacked": stacked,
        "title": {"display": True, "text": f"time ({tz.key})"},
        "ticks": {"autoSkip": False, "maxRotation": 0},
        "grid": {"display": False},
    }


MAX_TIME_LABELS = 8
# Label intervals that read well, in seconds; days and weeks count from a Monday midnight.
_INTERVALS = (300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800, 1209600, 2419200)
_ANCHOR = datetime(2000, 1, 3)  # a Monday


def _wall_seconds(t: datetime, tz: ZoneInfo) -> int:
    return int((t.astimezone(tz).replace(tzinfo=None) - _ANCHOR).total_seconds())


def _marks(walls: Sequence[int], interval: int) -> list[bool]:
    """True at each point that is the first one on or after an interval boundary (the first point only on one)."""
    buckets = [w // interval for w in walls]
    first = walls[0] % interval == 0
    return [first] + [buckets[i] != buckets[i - 1] for i in range(1, len(walls))]


def _label_pattern(interval: int, span: timedelta) -> str:
    if interval >= 7 * 86400 or span > timedelta(days=15):
        return "%b %d"
    if interval >= 86400:
        return "%a %d"
    return "%H:%M" if span <= timedelta(hours=36) else "%a %H:%M"


def time_labels(times: Sequence[datetime], tz: ZoneInfo) -> list[str]:
    """One label per point, empty except at up to 8 round boundaries (hours, days, weeks in ``tz``):
    clock times within a day and a half, weekday and time or day within two weeks, dates beyond."""
    if not times:
        return []
    walls = [_wall_seconds(t, tz) for t in times]
    interval = next((i for i in _INTERVALS if sum(_marks(walls, i)) <= MAX_TIME_LABELS), _INTERVALS[-1])
    pattern = _label_pattern(interval, times[-1] - times[0])
    return [t.astimezone(tz).strftime(pattern) if m else "" for t, m in zip(times, _marks(walls, interval))]


def moment(t: datetime, tz: ZoneInfo) -> str:
    """A point in time for titles: ``Mar 05 14:00``."""
    return t.astimezone(tz).strftime("%b %d %H:%M")
