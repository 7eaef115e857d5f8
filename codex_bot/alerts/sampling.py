"""Panel figures per group at given instants, each unique PromQL run once, concurrently.

A rule's figure comes from its panel's queries in the catalog, with the rule's ``group_by``
labels added to every query's ``by`` clause: one query answers all groups at once, and
several rules over the same panel, filters and window share it.  The panel's own figure
formula (:class:`~codex_bot.panels.figures.Figure`) then runs on each group's answers.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import lru_cache

from codex_bot.alerts.figures import FigureRef
from codex_bot.errors import PrometheusUnavailable
from codex_bot.metrics.client import PrometheusClient, Sample
from codex_bot.panels.cost import PriceTable
from codex_bot.panels.measured import Measured

Group = tuple[str, ...]  # the values of the rule's group_by labels, in order
Answers = dict[datetime, list[Sample]]


@dataclass(frozen=True)
class Instants:
    """Evaluation instants: ``end`` alone (``count`` = 1) or ``end − (count−1)·step`` … ``end``."""

    end: datetime
    count: int = 1
    step: timedelta = timedelta(minutes=1)

    @property
    def start(self) -> datetime:
        return self.end - (self.count - 1) * self.step

    def shifted(self, back: timedelta) -> Instants:
        return Instants(self.end - back, self.count, self.step)

    def times(self) -> list[datetime]:
        return [self.start + i * self.step for i in range(self.count)]


@dataclass(frozen=True)
class FigureQuery:
    """One figure of one panel, with filters, grouped by labels, over a rolling window."""

    ref: FigureRef
    filters: tuple[tuple[str, str], ...]
    group_by: tuple[str, ...]
    window_seconds: int

    @property
    def promql(self) -> dict[str, str]:
        """Query key → PromQL, grouped by ``group_by`` on top of the query's own grouping."""
        return _promql(self)


@lru_cache(maxsize=4096)
def _promql(figure: FigureQuery) -> dict[str, str]:
    """The PromQL of a figure query (cached: rules ask for the same texts every cycle)."""
    filters = dict(figure.filters)
    out = {}
    for key, query in figure.ref.definition.queries.items():
        by = tuple(dict.fromkeys((*query.by, *figure.group_by)))
        out[key] = replace(query, by=by).promql(filters, figure.window_seconds)
    return out


class Sampler:
    """Runs and remembers queries for one evaluation cycle (make a new one per cycle)."""

    def __init__(self, client: PrometheusClient, prices: PriceTable) -> None:
        self.client = client
        self.prices = prices
        self._answers: dict[tuple[str, Instants], Answers | Exception] = {}

    @property
    def queries_run(self) -> int:
        return len(self._answers)

    def fetch(self, wanted: Iterable[tuple[FigureQuery, Instants]]) -> None:
        """Run, concurrently, every query of ``wanted`` not run yet (failures are kept per query)."""
        todo = {
            (promql, instants)
            for figure, instants in wanted
            for promql in figure.promql.values()
            if (promql, instants) not in self._answers
        }
        if not todo:
            return
        calls = {item: (lambda item=item: self._run(*item)) for item in todo}
        try:
            self._answers.update(self.client.gather(calls, timeout=self.client.timeout * (1 + len(todo) // 16)))
        except PrometheusUnavailable as exc:  # the batch as a whole timed out
            self._answers.update({item: exc for item in todo})

    def _run(self, promql: str, instants: Instants) -> Answers | Exception:
        try:
            if instants.count == 1:
                return {instants.end: self.client.query(promql, instants.end)}
            step = int(instants.step.total_seconds())
            return self.client.query_instants(promql, instants.start, instants.end, step)
        except Exception as exc:  # noqa: BLE001 - a failed query marks its rules as "error"
            return exc

    def values(self, figure: FigureQuery, instants: Instants) -> dict[datetime, dict[Group, float | None]]:
        """For each instant, each group's figure value; raises the query's error if one failed."""
        promql = figure.promql
        answers = {}
        for key, text in promql.items():
            found = self._answers[(text, instants)]
            if isinstance(found, Exception):
                raise found
            answers[key] = found
        return {t: self._groups(figure, {k: a.get(t, []) for k, a in answers.items()}) for t in instants.times()}

    def _groups(self, figure: FigureQuery, answers: Mapping[str, list[Sample]]) -> dict[Group, float | None]:
        queries = figure.ref.definition.queries
        compute = figure.ref.figure.compute
        if not figure.group_by:
            return {(): _clean(compute(Measured(queries, answers, self.prices)))}
        split: dict[Group, dict[str, list[Sample]]] = {}
        for key, samples in answers.items():
            for sample in samples:
                group = tuple(sample.labels.get(label, "") for label in figure.group_by)
                split.setdefault(group, {k: [] for k in answers})[key].append(sample)
        return {group: _clean(compute(Measured(queries, parts, self.prices))) for group, parts in split.items()}


def _clean(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else value
