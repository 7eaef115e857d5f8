"""Charts over time from ``PanelResult.series``: lines, (stacked) areas and stacked bars."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from codex_bot.charts import frame, overlays
from codex_bot.charts.palette import colours, translucent
from codex_bot.charts.scales import axis_title, time_axis, time_labels, value_axis
from codex_bot.metrics.ranges import TimeRange
from codex_bot.panels.result import PanelResult, Series

DOT_LIMIT = 40  # draw point markers only on short series


def _time_points(window: TimeRange, series: list[Series]) -> list[datetime]:
    """Every step end of the window (so steps without a point show as gaps, not squeezed out) and every point."""
    answered = {t for s in series for t, _ in s.points}
    grid = window.step_ends(answered) if window.step_seconds > 0 else []
    return sorted(answered.union(grid))


def _aligned(series: Series, times: list[datetime]) -> list[float | None]:
    """The series' values on the shared time points (None where it has no point: a gap)."""
    values = dict(series.points)
    return [frame.finite(values.get(t)) for t in times]


def _dataset(kind: str, series: Series, values: list[float | None], colour: str, index: int) -> dict[str, Any]:
    dataset: dict[str, Any] = {"label": frame.words(series.name), "data": values, "borderColor": colour}
    if kind == "stacked_bar":
        return dataset | {"backgroundColor": colour, "borderWidth": 0}
    dataset |= {
        "borderWidth": 2,
        "tension": 0.3,
        "cubicInterpolationMode": "monotone",  # smooth without overshooting below zero
        "pointRadius": 2 if len(values) <= DOT_LIMIT else (1.5 if None in values else 0),  # lone points show
        "backgroundColor": translucent(colour, 0.35 if kind == "area" else 1.0),
        "spanGaps": False,
    }
    if kind == "area":
        dataset["fill"] = "origin" if index == 0 else "-1"
    return dataset


def time_chart(
    result: PanelResult,
    tz: ZoneInfo,
    kind: str,
    threshold: float | None = None,
    firing: tuple[datetime, datetime] | None = None,
) -> dict[str, Any] | None:
    """A line, area or stacked-bar chart of the series; None when no series has a point."""
    series = [s for s in result.series if s.points]
    if not series:
        return None
    times = _time_points(result.range, series)
    palette = colours([s.name for s in series])
    datasets = [_dataset(kind, s, _aligned(s, times), palette[i], i) for i, s in enumerate(series)]
    stacked = kind == "stacked_bar" or (kind == "area" and len(series) > 1)
    fallback = frame.words(series[0].name) if len(series) == 1 else "count"
    scales = {
        "x": time_axis(tz, stacked=stacked),
        "y": value_axis(result.unit, axis_title(result.unit, fallback), stacked=stacked),
    }
    if threshold is not None:
        datasets.append(overlays.threshold_line(threshold, result.unit, len(times)))
    shading = overlays.firing_window(times, firing, result.range.step_seconds) if firing else None
    if shading:
        datasets.append(shading[0])
        scales[overlays.FIRING_AXIS] = shading[1]
    options = frame.options(result, tz, legend="top" if len(datasets) > 1 else None)
    return {
        "type": "bar" if kind == "stacked_bar" else "line",
        "data": {"labels": time_labels(times, tz), "datasets": datasets},
        "options": options | {"scales": scales},
    }
