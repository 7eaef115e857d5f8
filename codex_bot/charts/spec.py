"""The Chart.js 4 config of a panel result: pure JSON (no JS functions), ready for any QuickChart.

``chart_config`` picks the chart from the result's ``chart_kind`` and what data it carries:
line / area → the series over time; stacked_bar → the series as stacked bars over time, else
one bar split into the headline parts (input vs output tokens); doughnut → shares of the rows
(else of the figures; a single percentage becomes a half-doughnut gauge); hbar → the top rows.

No data is not a chart: for chart_kind "none" or a result with nothing to draw in the range
the answer is None, and callers send the text (which says "no data in this range") without
an image.  Alert overlays (threshold line, firing window) apply to time charts only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from codex_bot.charts.categorical import categorical_chart
from codex_bot.charts.timeseries import time_chart
from codex_bot.panels.result import PanelResult

TIME_KINDS = ("line", "area")


def chart_config(
    result: PanelResult,
    tz: ZoneInfo,
    threshold: float | None = None,
    firing: tuple[datetime, datetime] | None = None,
) -> dict[str, Any] | None:
    """The chart of ``result`` with times in ``tz``, or None when there is nothing to draw."""
    kind = result.chart_kind
    if kind == "none" or not result.has_data:
        return None
    has_series = any(s.points for s in result.series)
    if kind in TIME_KINDS or (kind == "stacked_bar" and has_series):
        return time_chart(result, tz, kind, threshold, firing)
    return categorical_chart(result, tz, kind)
