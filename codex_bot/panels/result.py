"""Typed panel results: what commands, charts, alerts and digests all consume."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from codex_bot.metrics.ranges import TimeRange

Shape = Literal["figures", "breakdown", "timeseries", "table"]
ChartKind = Literal["stacked_bar", "line", "area", "doughnut", "hbar", "none"]


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
        return (
            any(v not in (None, 0) for v in self.figures.values())
            or bool(self.rows)
            or any(
                v
                for s in self.series
                for _, v in s.points  # steps without events are 0-valued points
            )
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
            "series": [{"name": s.name, "points": [[t.isoformat(), v] for t, v in s.points]} for s in self.series],
            "previous": dict(self.previous),
            "notes": list(self.notes),
            "units": dict(self.units),
        }
