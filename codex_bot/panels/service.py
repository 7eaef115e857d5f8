"""Answering panel requests: the single entry point for commands, alerts and digests.

For one request, every query of the panel runs concurrently (for the range and, when the panel
has figures to compare, for the previous period of equal length), together with the series and
the filter-value checks.
"""

from __future__ import annotations

import difflib
import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, tzinfo
from functools import partial
from typing import Any, Protocol

from codex_bot.errors import BadFilter
from codex_bot.metrics.client import PrometheusClient, RangeSeries, Sample
from codex_bot.metrics.promql import selector
from codex_bot.metrics.ranges import TimeRange, parse_range
from codex_bot.panels.catalog import Panel, SeriesSpec, find_panel
from codex_bot.panels.combined import CombinedRead
from codex_bot.panels.cost import PriceTable
from codex_bot.panels.measured import Measured
from codex_bot.panels.queries import Increase, Query
from codex_bot.panels.request import PanelRequest
from codex_bot.panels.result import PanelResult, Series
from codex_bot.telemetry.contract import MetricFamily

Share = Callable[[list[Sample]], list[Sample]]  # a query's answer out of what its PromQL returned
MAX_SUGGESTIONS = 3
MAX_LISTED = 10


class PanelRunner(Protocol):
    """What answers panel requests (:class:`Panels`, or a stand-in in tests)."""

    def run(self, request: PanelRequest, at: datetime | None = None, *, choices: bool = False) -> PanelResult: ...

    def run_many(self, requests: Sequence[PanelRequest], at: datetime | None = None) -> list[PanelResult]: ...


class Panels:
    """Runs panel requests against one Prometheus; safe to share between threads."""

    def __init__(
        self,
        client: PrometheusClient,
        tz: tzinfo,
        prices: PriceTable,
        max_parallel: int = 4,
        combined: Mapping[Increase, CombinedRead] | None = None,
    ) -> None:
        """``combined``: queries answered from a combined read of their counter (see :mod:`.combined`)."""
        self.client = client
        self.tz = tz
        self.prices = prices
        self._max_parallel = max_parallel
        self._combined = combined or {}

    def run(self, request: PanelRequest, at: datetime | None = None, *, choices: bool = False) -> PanelResult:
        """The panel's figures, rows and series over the request's range as of ``at`` (default: now);
        ``choices`` also reads the values Prometheus has for every filter the panel takes (for pickers)."""
        panel = find_panel(request.panel)
        panel.check_filter_keys(request.filters)
        window = parse_range(request.range_text, at or datetime.now(UTC), self.tz)
        checked = tuple(request.filters) if request.check_values else ()  # filter values to check exist
        labels = panel.filters if choices else checked
        answers = self.client.gather(self._calls(panel, request.filters, window, labels))
        for label in checked:
            _check_value(label, request.filters[label], answers["labels", label])
        result = self._result(panel, request, window, answers)
        if choices:
            result.choices = {label: list(answers["labels", label]) for label in panel.filters}
        return result

    def _calls(
        self, panel: Panel, filters: Mapping[str, str], window: TimeRange, labels: Sequence[str]
    ) -> dict[tuple[str, str], Callable[[], Any]]:
        """Every request to make, keyed ("now" | "previous" | "series" | "labels", name); the previous
        period only feeds figures' changes, so a panel of rows alone skips it.  ``labels``: the filter
        keys whose existing values are read (to check the given filters, and for pickers)."""
        step = window.step_seconds
        periods = [("now", window), ("previous", window.previous())] if panel.figures else [("now", window)]
        calls: dict[tuple[str, str], Callable[[], Any]] = {}
        for (period, span), (key, template) in itertools.product(periods, panel.queries.items()):
            calls[period, key] = partial(self._instant, template, filters, span)
        for spec in panel.series:
            first = window.start + timedelta(seconds=step)
            promql = spec.query.promql(filters, step)
            calls["series", spec.name] = partial(self.client.query_range, promql, first, window.end, step)
        for label in labels:
            calls["labels", label] = partial(self.client.label_values, label, _label_sources(panel, label))
        return calls

    def _instant(self, template: Query, filters: Mapping[str, str], span: TimeRange) -> list[Sample]:
        """``template`` over ``span``: its own query, or its share of its counter's combined read."""
        promql, share = self._read(template, filters, span.seconds)
        return share(self.client.query(promql, span.end))

    def _read(self, template: Query, filters: Mapping[str, str], seconds: int) -> tuple[str, Share]:
        """The PromQL that answers ``template``, and how its answer comes out of what that PromQL returns."""
        if isinstance(template, Increase) and (combined := self._combined.get(template)) is not None:
            return combined.promql(filters, seconds), partial(combined.answer, template)
        return template.promql(filters, seconds), _whole

    def compared_reads(self, request: PanelRequest, window: TimeRange) -> set[str]:
        """The PromQL :meth:`run` reads at the end of ``window`` and again at its start, for the changes
        of its figures (the previous period has the same length, hence the same PromQL)."""
        panel = find_panel(request.panel)
        if not panel.figures:
            return set()
        return {self._read(template, request.filters, window.seconds)[0] for template in panel.queries.values()}

    def run_many(self, requests: Sequence[PanelRequest], at: datetime | None = None) -> list[PanelResult]:
        """:meth:`run` for each request concurrently, all as of the same instant; results in request order."""
        moment = at or datetime.now(UTC)
        with ThreadPoolExecutor(max_workers=self._max_parallel, thread_name_prefix="panels") as pool:
            return list(pool.map(lambda request: self.run(request, moment), requests))

    def _result(
        self, panel: Panel, request: PanelRequest, window: TimeRange, answers: Mapping[tuple[str, str], Any]
    ) -> PanelResult:
        now = self._measured(panel, "now", answers)
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
            previous=self._previous(panel, answers),
            notes=panel.notes(now) if panel.notes else [],
            units=dict(panel.units()),
        )

    def _previous(self, panel: Panel, answers: Mapping[tuple[str, str], Any]) -> dict[str, float | None]:
        if not panel.figures:
            return {}
        before = self._measured(panel, "previous", answers)
        return {figure.key: figure.compute(before) for figure in panel.figures}

    def _measured(self, panel: Panel, period: str, answers: Mapping[tuple[str, str], Any]) -> Measured:
        return Measured(panel.queries, {key: answers[period, key] for key in panel.queries}, self.prices)


def _whole(samples: list[Sample]) -> list[Sample]:
    return samples


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
        listed = ", ".join(known[:MAX_LISTED]) + (
            f" and {len(known) - MAX_LISTED} more" if len(known) > MAX_LISTED else ""
        )
        hint = f"Known values: {listed}."
    else:
        hint = "Prometheus has no values for it yet."
    raise BadFilter(f"No {label} {shown!r} in the data. {hint}")


def _series(spec: SeriesSpec, window: TimeRange, answer: list[RangeSeries]) -> Series:
    """One point per step ending in the window (on the backend's grid if it moved the steps, see
    :meth:`TimeRange.step_ends`); steps without an answer get the query's empty value."""
    found = {moment: value for item in answer for moment, value in item.points if not math.isnan(value)}
    points = []
    for moment in window.step_ends(found):
        value = found.get(moment, spec.query.empty)
        if value is not None:
            points.append((moment, value))
    return Series(spec.name, points)
