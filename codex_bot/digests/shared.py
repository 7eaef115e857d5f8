"""One digest's queries, each identical query run once: panels of a digest repeat many of the same
PromQL (input tokens for tokens, cache rate, usage and cost; model calls for sessions and success).
A query asked at both ends of the digest's period (a figure now and for the period before) is one
range query of two steps."""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from codex_bot.metrics.client import PrometheusClient, RangeSeries, Sample
from codex_bot.metrics.ranges import TimeRange

K = TypeVar("K")
T = TypeVar("T")


@dataclass(frozen=True)
class _BothEnds:
    start: datetime
    end: datetime
    promqls: frozenset[str]

    @property
    def seconds(self) -> int:
        return int((self.end - self.start).total_seconds())


class SharedQueries:
    """A :class:`PrometheusClient` stand-in for one digest build: concurrent callers of an identical
    query wait for the one that runs it (answers and failures alike).  Not for long-lived use: it
    remembers every answer."""

    def __init__(self, client: PrometheusClient) -> None:
        self.client = client
        self._lock = threading.Lock()
        self._answers: dict[Hashable, Future[Any]] = {}
        self._together: _BothEnds | None = None

    def read_together(self, window: TimeRange, promqls: Iterable[str]) -> None:
        """Read each of ``promqls`` at the start and the end of ``window`` in one range query of two
        steps (the now and previous values of a digest's figures: one request and one pass instead of two)."""
        self._together = _BothEnds(window.start, window.end, frozenset(promqls))

    def _once(self, key: Hashable, call: Callable[[], T]) -> T:
        with self._lock:
            answer = self._answers.get(key)
            runs_it = answer is None
            if answer is None:
                answer = self._answers[key] = Future()
        if runs_it:
            try:
                answer.set_result(call())
            except BaseException as exc:  # noqa: BLE001 - handed to every caller of this query
                answer.set_exception(exc)
        return answer.result()

    def query(self, promql: str, at: datetime) -> list[Sample]:
        together = self._together
        if together and promql in together.promqls and at in (together.start, together.end):
            both = self._once(
                ("both ends", promql),
                lambda: self.client.query_instants(promql, together.start, together.end, together.seconds),
            )
            return both[at]
        return self._once(("query", promql, at), lambda: self.client.query(promql, at))

    def query_range(self, promql: str, start: datetime, end: datetime, step_seconds: int) -> list[RangeSeries]:
        return self._once(
            ("range", promql, start, end, step_seconds),
            lambda: self.client.query_range(promql, start, end, step_seconds),
        )

    def label_values(self, label: str, match: Sequence[str] = ()) -> list[str]:
        return self._once(("labels", label, tuple(match)), lambda: self.client.label_values(label, match))

    def gather(self, calls: Mapping[K, Callable[[], T]], timeout: float | None = None) -> dict[K, T]:
        return self.client.gather(calls, timeout)

    @property
    def queries_run(self) -> int:
        return len(self._answers)
