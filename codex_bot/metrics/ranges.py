"""Time ranges people type (``7d``, ``yesterday``, ``last week``) → exact windows.

Rolling ranges (and "today", "this week") end at ``now`` rounded up to the whole second, so they
hold every sample Prometheus has scraped; the exact window counts (:mod:`codex_bot.metrics.increase`)
need no grid, and on grid-aligned instants (backfilled data, ``--at``) they are the grid's.  Calendar
ranges follow the configured timezone (weeks start on Monday); a day is 23 or 25 hours long
across a DST change.  The step for series gives about 30–200 points and is a multiple of 60 s.

Resolved ranges are in UTC: Python subtracts aware datetimes sharing one ``ZoneInfo`` on
the wall clock (an hour off across DST), fixed-offset UTC keeps every length exact.
Convert to the configured timezone only to show them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo

from codex_bot.errors import BadRange

GRID_SECONDS = 60
MAX_RANGE = timedelta(days=366)
MAX_POINTS = 200
# Steps that read well on a chart axis, smallest first; every one is a multiple of GRID_SECONDS.
NICE_STEPS = (60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800)
CALENDAR_RANGES = ("today", "yesterday", "this week", "last week")
RANGE_FORMS = "30m, 6h, 24h, 7d, 2w (any number with m=minutes, h=hours, d=days, w=weeks), " + ", ".join(
    CALENDAR_RANGES
)

_ROLLING = re.compile(r"([0-9]{1,6})([mhdw])")
_UNITS = {"m": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}


_PREVIOUS_OF = {
    "today": "the same length of time before",
    "yesterday": "the day before",
    "this week": "the same length of time before",
    "last week": "the week before",
}


@dataclass(frozen=True)
class TimeRange:
    """A closed query window [start, end] (timezone-aware), as typed and as resolved."""

    start: datetime
    end: datetime
    label: str  # what the user typed, e.g. "7d", "yesterday"
    step_seconds: int  # step for series over this range (≈30–200 points)

    @property
    def seconds(self) -> int:
        return int((self.end - self.start).total_seconds())

    def step_ends(self, answered: Iterable[datetime] = ()) -> list[datetime]:
        """The end of every step in the window.  When a backend ``answered`` on steps of its own (a query
        frontend aligns them to the step, for its cache), its grid: moved back so it still ends in the window."""
        step = timedelta(seconds=self.step_seconds)
        first = min(answered, default=None)
        moved = (self.start - first) % step if first is not None else timedelta(0)
        return [self.start + i * step - moved for i in range(1, self.seconds // self.step_seconds + 1)]

    def previous(self) -> TimeRange:
        """The period of equal length just before this one."""
        length = self.end - self.start
        return TimeRange(self.start - length, self.start, self.previous_label, self.step_seconds)

    @property
    def previous_label(self) -> str:
        """How people name the period before: "previous 7d", "the day before" (for "yesterday")."""
        return _PREVIOUS_OF.get(self.label, f"previous {self.label}")


def normalize(text: str) -> str:
    """Lower-case with single spaces: " Last  Week" → "last week"."""
    return " ".join(text.lower().split())


def looks_like_range(text: str) -> bool:
    """True for any range form :func:`parse_range` accepts (its size is checked there)."""
    text = normalize(text)
    return text in CALENDAR_RANGES or _ROLLING.fullmatch(text) is not None


def floor_to_grid(moment: datetime) -> datetime:
    """The latest grid instant (a whole minute) at or before ``moment``, in UTC."""
    seconds = int(moment.timestamp() // GRID_SECONDS * GRID_SECONDS)
    return datetime.fromtimestamp(seconds, UTC)


def ceil_to_second(moment: datetime) -> datetime:
    """The first whole second at or after ``moment``, in UTC (every window is whole seconds long)."""
    return datetime.fromtimestamp(math.ceil(moment.timestamp()), UTC)


def step_for(seconds: int) -> int:
    """The smallest nice step giving at most ``MAX_POINTS`` points over ``seconds``."""
    for step in NICE_STEPS:
        if seconds / step <= MAX_POINTS:
            return step
    return NICE_STEPS[-1]


def parse_range(text: str, now: datetime, tz: tzinfo) -> TimeRange:
    """Resolve ``text`` as of ``now`` (timezone-aware) into a UTC window; calendar words follow ``tz``.

    Raises :class:`BadRange` listing the valid forms when ``text`` is not one of them.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    label = normalize(text)
    end = ceil_to_second(now)
    rolling = _ROLLING.fullmatch(label)
    if rolling:
        start = end - _rolling_length(int(rolling.group(1)), rolling.group(2), label)
    elif label in CALENDAR_RANGES:
        start, end = _calendar(label, end, tz)
    else:
        raise BadRange(f"I don't understand the range {text!r}. Use one of: {RANGE_FORMS}.")
    if end <= start:
        raise BadRange(f"{label} has not started yet; try a rolling range such as 24h.")
    return TimeRange(start, end, label, step_for(int((end - start).total_seconds())))


def _rolling_length(count: int, unit: str, label: str) -> timedelta:
    length = count * _UNITS[unit]
    if count == 0 or length > MAX_RANGE:
        raise BadRange(f"{label} is out of bounds: ranges go from 1m to {MAX_RANGE.days}d.")
    return length


def _midnight(day: date, tz: tzinfo) -> datetime:
    """The first instant of ``day`` in ``tz``, in UTC (built from the calendar date, so DST-safe)."""
    return datetime(day.year, day.month, day.day, tzinfo=tz).astimezone(UTC)


def _calendar(label: str, end: datetime, tz: tzinfo) -> tuple[datetime, datetime]:
    today = end.astimezone(tz).date()
    monday = today - timedelta(days=today.weekday())
    if label == "today":
        return _midnight(today, tz), end
    if label == "yesterday":
        return _midnight(today - timedelta(days=1), tz), _midnight(today, tz)
    if label == "this week":
        return _midnight(monday, tz), end
    return _midnight(monday - timedelta(weeks=1), tz), _midnight(monday, tz)


def parse_instant(text: str) -> datetime:
    """An instant given as RFC 3339 (``2025-01-31T12:00:00Z``) or Unix seconds; :class:`BadRange` otherwise."""
    stripped = text.strip()
    try:
        if re.fullmatch(r"\d+(\.\d+)?", stripped):
            return datetime.fromtimestamp(float(stripped), UTC)
        moment = datetime.fromisoformat(stripped.replace("Z", "+00:00").replace("z", "+00:00"))
    except (ValueError, OverflowError, OSError):
        moment = None
    if moment is None or moment.tzinfo is None:
        raise BadRange(
            f"I don't understand the time {text!r}: use RFC 3339 with a timezone "
            "(2025-01-31T12:00:00Z) or Unix seconds (1738324800)."
        )
    return moment
