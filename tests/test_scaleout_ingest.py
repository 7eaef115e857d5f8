"""Two ``codex-bot ingest`` replicas behind a round-robin balancer, one real Prometheus scraping both.

A simulated fleet is streamed request by request to alternate replicas (as a round-robin load balancer
would), one request is re-delivered to the replica that already counted it (a client retry kept on
its replica), and the sums over both replicas' series must equal the fleet's ground truth exactly.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from codex_e2e.ingest_process import running_ingest
from fault_helpers import prometheus_scraping
from promhelpers import query

from codex_bot.simulate.fleet import FleetConfig, simulate
from codex_bot.simulate.output import batches, stream
from codex_bot.simulate.truth import GroundTruth

pytestmark = pytest.mark.prometheus

FLEET = FleetConfig(developers=10, days=2, seed=4242, end=datetime(2026, 3, 4, 18, tzinfo=UTC))
BATCH = 128  # records per OTLP request (the OpenTelemetry batch processor sends up to 512)


def totals(url: str, promql: str, by: tuple[str, ...] = ()) -> dict[tuple[str, ...], float]:
    """``promql``'s values keyed by the values of the ``by`` labels, in that order."""
    return {tuple(labels[k] for k in by): value for labels, value in query(url, promql)}


def settle(check: Callable[[], object], timeout: float = 30) -> None:
    """Poll ``check`` (an assertion) until it passes: Prometheus scrapes each replica every second."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            check()
            return
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def test_two_replicas_sum_to_the_ground_truth(tmp_path: Path) -> None:
    events = list(simulate(FLEET))
    truth = GroundTruth(events)
    window = (FLEET.start - timedelta(seconds=1), FLEET.end)
    with running_ingest(tmp_path / "a") as a, running_ingest(tmp_path / "b") as b:
        replicas = [a, b]
        targets = [url.removeprefix("http://") for url in replicas]
        with prometheus_scraping(targets, tmp_path / "prometheus") as prometheus:
            requests_sent = 0
            for n, batch in enumerate(batches(events, BATCH)):
                stream(batch, replicas[n % 2])
                requests_sent += 1
            stream(next(batches(events, BATCH)), replicas[0])  # a retried export, kept on its replica

            def expected(measure: str, by: tuple[str, ...]) -> dict[tuple[str, ...], float]:
                return {k: float(v) for k, v in truth.total(measure, *window, by=by).items() if v}  # type: ignore[union-attr]

            checks = [
                ('sum by (model) (codex_tokens_total{type="input"})', "input_tokens", ("model",)),
                ('sum by (user) (codex_tokens_total{type="output"})', "output_tokens", ("user",)),
                ("sum by (user, terminal) (codex_prompts_total)", "prompts", ("user", "terminal")),
                ("sum by (transport, success) (codex_model_calls_total)", "model_calls", ("transport", "success")),
                ("sum by (tool, success) (codex_tool_calls_total)", "tool_calls", ("tool", "success")),
                ("sum by (model) (codex_conversations_total)", "conversations", ("model",)),
            ]

            def all_equal() -> None:
                for promql, measure, by in checks:
                    got = {k: v for k, v in totals(prometheus, promql, by).items() if v}
                    assert got == expected(measure, by), promql

            settle(all_equal)
            durations = truth.durations(*window)
            assert query(prometheus, "sum(codex_tool_duration_seconds_count)")[0][1] == len(durations)
            assert abs(query(prometheus, "sum(codex_tool_duration_seconds_sum)")[0][1] - sum(durations)) < 1e-6
            per_replica = totals(
                prometheus, 'sum by (instance) (codex_bot_ingest_requests_total{outcome="accepted"})', ("instance",)
            )
            assert per_replica == {
                (targets[0],): requests_sent // 2 + requests_sent % 2 + 1,
                (targets[1],): requests_sent // 2,
            }
            (duplicates,) = totals(prometheus, 'sum(codex_bot_ingest_records_total{outcome="duplicate"})').values()
            assert 0 < duplicates <= BATCH  # the retry was recognised (and, per the sums above, not counted)
            series = totals(prometheus, 'count by (instance) (codex_tokens_total{type="input"})', ("instance",))
            assert set(series) == {(t,) for t in targets}  # the same series exist on both replicas
    print(
        f"\n{len(events)} events in {requests_sent} requests over 2 replicas (+1 retried): every sum equals the truth"
    )
