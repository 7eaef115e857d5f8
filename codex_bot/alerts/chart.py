"""The chart of a firing alert: the rule's figure over a few windows, the threshold line, the firing span shaded."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from codex_bot.alerts.evaluate import window_seconds
from codex_bot.alerts.rules import Rule
from codex_bot.alerts.sampling import FigureQuery, Instants, Sampler
from codex_bot.charts.renderer import ChartRenderer
from codex_bot.charts.spec import chart_config
from codex_bot.delivery.message import ChartImage
from codex_bot.errors import UserError
from codex_bot.metrics.ranges import TimeRange, step_for
from codex_bot.panels.result import PanelResult, Series

log = logging.getLogger(__name__)
MIN_SPAN = timedelta(hours=3)
WINDOWS_SHOWN = 4


def history(rule: Rule, labels: Mapping[str, str], at: datetime, sampler: Sampler) -> PanelResult:
    """The rule's figure for one group at every step of the chart span ending at ``at``, as a line panel."""
    seconds = window_seconds(rule.window)
    span = max(MIN_SPAN, timedelta(seconds=seconds * WINDOWS_SHOWN))
    step = step_for(int(span.total_seconds()))
    instants = Instants(at, int(span.total_seconds()) // step + 1, timedelta(seconds=step))
    filters = tuple(sorted({**rule.filters, **labels}.items()))
    query = FigureQuery(rule.figure, filters, (), seconds)
    sampler.fetch([(query, instants)])
    values = sampler.values(query, instants)
    points = [(t, value) for t, v in values.items() if (value := v.get(())) is not None]
    definition = rule.figure.definition
    return PanelResult(
        panel=definition.name,
        title=f"{rule.name}: {definition.title}",
        unit=rule.figure.unit,
        shape="timeseries",
        chart_kind="line",
        range=TimeRange(instants.start, at, f"last {span.total_seconds() / 3600:g}h", step),
        filters=dict(filters),
        series=[Series(f"{rule.figure.key} over {rule.window}", points)],
    )


def alert_chart(
    rule: Rule,
    labels: Mapping[str, str],
    threshold: float | None,
    since: datetime,
    at: datetime,
    sampler: Sampler,
    renderer: ChartRenderer | None,
    tz: ZoneInfo,
) -> tuple[ChartImage | None, str]:
    """The PNG chart and, when there is none, a short note why (a chart problem never stops the alert)."""
    if renderer is None:
        return None, ""
    try:
        result = history(rule, labels, at, sampler)
        config = chart_config(result, tz, threshold=threshold, firing=(since, at))
        if config is None:
            return None, "no chart: no data to draw"
        png = renderer.png(config)
    except UserError as exc:
        return None, f"no chart: {exc}"
    except Exception as exc:
        log.exception("alert chart for %s failed", rule.name)
        return None, f"no chart: {type(exc).__name__}"
    name = f"{rule.name}-{at:%Y%m%dT%H%M}.png"
    return ChartImage(png, name, result.title, f"{result.title} with threshold and firing window"), ""
