"""Several counter queries answered by one read of their counter, added up here.

A digest asks many ``sum [by (…)]`` exact increases (:mod:`codex_bot.metrics.increase`) of one
counter: tokens by type, by user and by model, for several panels.  Prometheus spends its time
reading samples, so one read grouped by every label those queries group or fix by, split up in
Python, costs a fraction of the separate reads (the sums are the same: whole numbers add up exactly
in any order).  Worth it where total work counts, as in a digest on a small machine; a single
panel's few queries run in parallel and answer sooner on their own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from codex_bot.metrics.client import Sample
from codex_bot.metrics.increase import window_increase
from codex_bot.metrics.promql import label_name, one_of, selector
from codex_bot.panels.queries import Increase, Query
from codex_bot.telemetry.contract import MetricFamily


@dataclass(frozen=True)
class CombinedRead:
    """One read of ``family`` that answers each of ``members``."""

    family: MetricFamily
    members: frozenset[Increase]
    by: tuple[str, ...]  # every label a member groups or fixes by
    only: tuple[tuple[str, tuple[str, ...]], ...]  # labels every member fixes, with the values they fix

    def promql(self, filters: Mapping[str, str], window_seconds: int) -> str:
        restricted = [one_of(label, values) for label, values in self.only]
        series = selector(self.family.series_name, filters, restricted)
        grouping = ", ".join(label_name(label) for label in self.by)
        return f"sum by ({grouping}) ({window_increase(series, window_seconds)})"

    def answer(self, query: Increase, read: Iterable[Sample]) -> list[Sample]:
        """What ``query`` alone would have answered, added up from this read's groups."""
        sums: dict[tuple[str, ...], float] = {}
        for sample in read:  # plain loops: a digest splits a few thousand samples this way
            labels = sample.labels
            for label, value in query.fixed:
                if labels.get(label, "") != value:
                    break
            else:
                key = tuple([labels.get(label, "") for label in query.by])
                sums[key] = sums.get(key, 0.0) + sample.value
        return [
            Sample({label: value for label, value in zip(query.by, key) if value}, total) for key, total in sums.items()
        ]


def combined_reads(queries: Iterable[Query]) -> dict[Increase, CombinedRead]:
    """For every counter that two or more distinct ``increase`` queries read, their combined read,
    keyed by each member query."""
    by_family: dict[MetricFamily, set[Increase]] = {}
    for query in queries:
        if isinstance(query, Increase):
            by_family.setdefault(query.family, set()).add(query)
    reads = [_combine(family, members) for family, members in by_family.items() if len(members) > 1]
    return {query: read for read in reads for query in read.members}


def _combine(family: MetricFamily, members: set[Increase]) -> CombinedRead:
    labels = sorted({label for query in members for label in (*query.by, *dict(query.fixed))})
    fixed_by_all = set.intersection(*(set(dict(query.fixed)) for query in members))
    only = tuple(
        (label, tuple(sorted({dict(query.fixed)[label] for query in members}))) for label in sorted(fixed_by_all)
    )
    return CombinedRead(family, frozenset(members), tuple(labels), only)
