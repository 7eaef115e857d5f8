"""Typed panel results: what commands, charts, alerts and digests all consume."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

Shape = Literal["figures", "breakdown", "timeseries", "table"]
ChartKind = Literal["stacked_bar", "line", "area", "doughnut", "hbar", "none"]


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


@dataclass(frozen=True)
class Series:
    """One line of a time series: name (e.g. "input") and (time, value) points."""

    name: str
    points: list[tuple[datetime, float]]


@dataclass
class PanelResult:
    panel: str  # canonical panel name, e.g. "tokens"
    title: str  # human title, e.g. "Total token usage"
    unit: str  # "tokens", "seconds", "percent", "count", "usd"
    shape: Shape
    chart_kind: ChartKind
    range: TimeRange
    filters: dict[str, str] = field(default_factory=dict)
    figures: dict[str, float | None] = field(default_factory=dict)
    rows: list[dict[str, Any]] = field(default_factory=list)
    series: list[Series] = field(default_factory=list)
    previous: dict[str, float | None] = field(default_factory=dict)  # same figure keys, previous period
    notes: list[str] = field(default_factory=list)  # e.g. "estimate", "unpriced: model-x"
    units: dict[str, str] = field(default_factory=dict)  # unit of each figure key and row column
    choices: dict[str, list[str]] = field(default_factory=dict)  # filter key → values Prometheus has (if asked)

    @property
    def has_data(self) -> bool:
        return any(v not in (None, 0) for v in self.figures.values()) or bool(self.rows) or any(
            v for s in self.series for _, v in s.points  # steps without events are 0-valued points
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "panel": self.panel,
            "title": self.title,
            "unit": self.unit,
            "range": {
                "start": self.range.start.isoformat(),
                "end": self.range.end.isoformat(),
                "label": self.range.label,
                "step_seconds": self.range.step_seconds,
            },
            "filters": dict(self.filters),
            "figures": dict(self.figures),
            "rows": list(self.rows),
            "series": [
                {"name": s.name, "points": [[t.isoformat(), v] for t, v in s.points]} for s in self.series
            ],
            "previous": dict(self.previous),
            "notes": list(self.notes),
            "units": dict(self.units),
        }
