"""Alert overlays for time charts: a dashed threshold line and a shaded firing window.

Both are ordinary datasets (no annotation plugin), so any Chart.js 4 renderer draws them.  The
window is a full-height bar per time point on a hidden 0–1 axis, drawn behind the data.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from codex_bot.charts.palette import FIRING_FILL, THRESHOLD
from codex_bot.formatting import humanize

FIRING_AXIS = "firing"


def threshold_line(value: float, unit: str, points: int) -> dict[str, Any]:
    """A dashed horizontal line at ``value`` across ``points`` categories."""
    return {
        "type": "line",
        "label": f"threshold {humanize(value, unit)}",
        "data": [value] * points,
        "borderColor": THRESHOLD,
        "backgroundColor": THRESHOLD,
        "borderDash": [8, 5],
        "borderWidth": 2,
        "pointRadius": 0,
        "fill": False,
        "stack": "threshold",
        "order": -1,
    }


def in_window(times: Sequence[datetime], window: tuple[datetime, datetime], step_seconds: int) -> list[bool]:
    """Which time points' steps (±half a step around each point) overlap ``window``."""
    start, end = window
    half = timedelta(seconds=step_seconds / 2)
    return [t + half >= start and t - half <= end for t in times]


def firing_window(
    times: Sequence[datetime], window: tuple[datetime, datetime], step_seconds: int
) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The shading dataset and its hidden axis, or None when the window misses the chart."""
    inside = in_window(times, window, step_seconds)
    if not any(inside):
        return None
    dataset = {
        "type": "bar",
        "label": "firing",
        "data": [1 if hit else None for hit in inside],
        "yAxisID": FIRING_AXIS,
        "backgroundColor": FIRING_FILL,
        "borderWidth": 0,
        "barPercentage": 1.0,
        "categoryPercentage": 1.0,
        "grouped": False,  # do not take a slot beside the data bars
        "inflateAmount": 1,  # overlap neighbours: no seams between the bars
        "stack": "firing",
        "order": 100,
    }
    axis = {"axis": "y", "type": "linear", "display": False, "min": 0, "max": 1, "position": "right"}
    return dataset, axis
