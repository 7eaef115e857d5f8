"""Answering panel requests: the single entry point for commands, alerts and digests.

For one request, every query of the panel runs concurrently (for the range and for the
previous period of equal length), together with the series and the filter-value checks.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone, tzinfo
from functools import partial
from typing import Any

from codex_bot.errors import BadFilter
from codex_bot.metrics.client import PrometheusClient, RangeSeries
from codex_bot.metrics.promql import selector
from codex_bot.metrics.ranges import parse_range
from codex_bot.panels.catalog import Panel, SeriesSpec, find_panel
from codex_bot.panels.cost import PriceTable
from codex_bot.panels.measured import Measured
from codex_bot.panels.request import PanelRequest
from codex_bot.panels.result import PanelResult, Series, TimeRange
from codex_bot.telemetry.contract import MetricFamily

MAX_SUGGESTIONS = 3
MAX_LISTED = 10


class Panels:
    """Runs panel requests against one Prometheus; safe to share between threads."""

    def __init__(self, client: PrometheusClient, tz: tzinfo, prices: PriceTable, max_parallel: int = 4) -> None:
        self.client = client
        self.tz = tz
        self.prices = prices
        self._max_parallel = max_parallel

    def run(self, request: PanelRequest, at: datetime | None = None) -> PanelResult:
        """The panel's figures, rows and series over the request's range as of ``at`` (default: now)."""
        panel = find_panel(request.panel)
        panel.check_filter_keys(request.filters)
        window = parse_range(request.range_text, at or datetime.now(timezone.utc), self.tz)
        answers = self.client.gather(self._calls(panel, request.filters, window))
        for label, value in request.filters.items():
            _check_value(label, value, answers["labels", label])
        return self._result(panel, request, window, answers)

    def _calls(
        self, panel: Panel, filters: Mapping[str, str], window: TimeRange
    ) -> dict[tuple[str, str], Callable[[], Any]]:
        """Every request to make, keyed ("now" | "previous" | "series" | "labels", name)."""
        query, previous, step = self.client.query, window.previous(), window.step_seconds
        calls: dict[tuple[str, str], Callable[[], Any]] = {}
        for key, template in panel.queries.items():
            calls["now", key] = partial(query, template.promql(filters, window.seconds), window.end)
            calls["previous", key] = partial(query, template.promql(filters, previous.seconds), previous.end)
        for spec in panel.series:
            first = window.start + timedelta(seconds=step)
            promql = spec.query.promql(filters, step)
            calls["series", spec.name] = partial(self.client.query_range, promql, first, window.end, step)
        for label in filters:
            calls["labels", label] = partial(self.client.label_values, label, _label_sources(panel, label))
        return calls

    def run_many(self, requests: Sequence[PanelRequest], at: datetime | None = None) -> list[PanelResult]:
        """:meth:`run` for each request concurrently, all as of the same instant; results in request order."""
        moment = at or datetime.now(timezone.utc)
        with ThreadPoolExecutor(max_workers=self._max_parallel, thread_name_prefix="panels") as pool:
            return list(pool.map(lambda request: self.run(request, moment), requests))

    def _result(
        self, panel: Panel, request: PanelRequest, window: TimeRange, answers: Mapping[tuple[str, str], Any]
    ) -> PanelResult:
        now = self._measured(panel, "now", answers)
        before = self._measured(panel, "previous", answers)
        return PanelResult(
            panel=panel.name,
            title=panel.title,
            unit=panel.unit,
            shape=panel.shape,
            chart_kind=panel.chart_kind,
            range=window,
            filters=dict(request.filters),
            figures={figure.key: figure.compute(now) for figure in panel.figures},
            rows=panel.rows.rows(now) if panel.rows else [],
            series=[_series(spec, window, answers["series", spec.name]) for spec in panel.series],
            previous={figure.key: figure.compute(before) for figure in panel.figures},
            notes=panel.notes(now) if panel.notes else [],
            units=dict(panel.units()),
        )

    def _measured(self, panel: Panel, period: str, answers: Mapping[tuple[str, str], Any]) -> Measured:
        return Measured(panel.queries, {key: answers[period, key] for key in panel.queries}, self.prices)


def _label_sources(panel: Panel, label: str) -> list[str]:
    """Selectors of the panel's series that carry ``label`` (for the label-values lookup)."""
    return [_series_selector(family) for family in panel.families() if label in family.labels]


def _series_selector(family: MetricFamily) -> str:
    name = family.name + "_count" if family.kind == "histogram" else family.series_name
    return selector(name)


def _check_value(label: str, value: str, known: Sequence[str]) -> None:
    """:class:`BadFilter` with the closest existing values when ``value`` is not one of ``known``."""
    if value in known:
        return
    shown = value if len(value) <= 60 else value[:60] + "…"
    close = difflib.get_close_matches(value, known, n=MAX_SUGGESTIONS, cutoff=0.5)
    if close:
        hint = "Did you mean " + " or ".join(close) + "?"
    elif known:
        listed = ", ".join(known[:MAX_LISTED]) + (f" and {len(known) - MAX_LISTED} more" if len(known) > MAX_LISTED else "")
        hint = f"Known values: {listed}."
    else:
        hint = "Prometheus has no values for it yet."
    raise BadFilter(f"No {label} {shown!r} in the data. {hint}")


def _series(spec: SeriesSpec, window: TimeRange, answer: list[RangeSeries]) -> Series:
    """One point per step ending in the window; steps without an answer get the query's empty value."""
    found = {moment: value for item in answer for moment, value in item.points if not math.isnan(value)}
    points = []
    for index in range(1, window.seconds // window.step_seconds + 1):
        moment = window.start + timedelta(seconds=index * window.step_seconds)
        value = found.get(moment, spec.query.empty)
        if value is not None:
            points.append((moment, value))
    return Series(spec.name, points)
