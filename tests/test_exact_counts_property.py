"""Property: on synthetic live streams (random scrape intervals and phases, zero-birth, ingest restarts
with downtime, increments lost when never scraped), the bot's counter PromQL, run by a real Prometheus,
counts exactly the increments Prometheus scraped in (start, end] — as one instant, as a chart's
per-step series and as a digest's two-step read.

Each stream is one user's counter as an ingest would expose it; every restart starts a new series
(a new ``ingest_boot``) at 0.  The samples go into a fresh TSDB with promtool, and the ground truth
is computed from the increments alone: an increment counts in the window holding the first scrape
that showed it (the registry shows a new series at 0 once, before any of its increments).
"""

from __future__ import annotations

import bisect
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prometheus_fleet import PrometheusServer, require_binaries

from codex_bot.metrics.client import PrometheusClient
from codex_bot.panels.queries import Increase
from codex_bot.telemetry.contract import PROMPTS
from codex_bot.telemetry.promtool import create_blocks

SPAN_MS = 2 * 3600 * 1000
BASE_MS = (int(time.time()) // 3600 - 4) * 3600 * 1000  # once per run: hypothesis replays examples exactly
PROMQL_BY_USER = Increase(PROMPTS, by=("user",))


@dataclass(frozen=True)
class Stream:
    user: str
    interval_ms: int
    phase_ms: int
    jitter_ms: int
    restarts: tuple[tuple[int, int], ...]  # (time the ingest stopped, scrapes it missed before it was back)
    events: tuple[tuple[int, int], ...]  # (time, amount)

    def scrapes(self) -> list[int]:
        count = (SPAN_MS - self.phase_ms) // self.interval_ms
        return [self.phase_ms + k * self.interval_ms + (k * 7919) % (self.jitter_ms + 1) for k in range(count)]

    def boots(self) -> list[tuple[int, int]]:
        """[start, stop) of each ingest process."""
        edges, start = [], 0
        for stop, missed in sorted(self.restarts):
            if stop > start:
                edges.append((start, stop))
                start = stop + missed * self.interval_ms + 1
        return edges + [(start, SPAN_MS + 1)]

    def simulate(self) -> tuple[dict[int, list[tuple[int, float]]], list[tuple[int, int]]]:
        """Samples per boot, and (time Prometheus first saw it, amount) of every increment it saw."""
        scrapes: list[int] = self.scrapes()
        samples: dict[int, list[tuple[int, float]]] = {}
        seen: list[tuple[int, int]] = []
        for boot, (start, stop) in enumerate(self.boots()):
            mine = sorted((t, n) for t, n in self.events if start <= t < stop)
            shown = [t for t in scrapes if start <= t < stop]
            if not mine or not shown or shown[-1] <= mine[0][0]:
                continue  # no series, or never shown: its increments are lost with the process
            born = bisect.bisect_right(shown, mine[0][0])  # the first scrape after the first increment
            values, total, pending = [(shown[born], 0.0)], 0, list(mine)  # shown at 0 once, then counting
            for t in shown[born + 1 :]:
                while pending and pending[0][0] < t:
                    total += pending[0][1]
                    seen.append((t, pending.pop(0)[1]))
                values.append((t, float(total)))
            samples[boot] = values
        return samples, seen


def truth(seen: list[tuple[int, int]], start_ms: int, end_ms: int) -> int:
    return sum(amount for t, amount in seen if start_ms < t <= end_ms)


@st.composite
def streams(draw: st.DrawFn, user: str) -> Stream:
    interval = draw(st.sampled_from([1000, 5000, 15000, 60000]))
    times = st.integers(0, SPAN_MS - 1)
    return Stream(
        user,
        interval,
        draw(st.integers(0, interval - 1)),
        draw(st.integers(0, 40)),
        tuple(draw(st.lists(st.tuples(times, st.integers(0, 3)), max_size=2))),
        tuple(draw(st.lists(st.tuples(times, st.integers(1, 5000)), min_size=1, max_size=25))),
    )


@st.composite
def fleets(draw: st.DrawFn) -> list[Stream]:
    return [draw(streams(f"u{i}")) for i in range(draw(st.integers(1, 4)))]


def write_openmetrics(path: Path, fleet: list[Stream], base_ms: int) -> list[list[tuple[int, int]]]:
    lines, seen_all = ["# TYPE codex_prompts counter"], []
    for stream in fleet:
        samples, seen = stream.simulate()
        seen_all.append([(base_ms + t, n) for t, n in seen])
        for boot, points in samples.items():
            labels = f'user="{stream.user}",ingest_boot="{boot}",instance="{stream.user}"'
            lines += [f"codex_prompts_total{{{labels}}} {value:g} {(base_ms + t) / 1000:.3f}" for t, value in points]
    path.write_text("\n".join(lines + ["# EOF", ""]))
    return seen_all


def _at(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


@settings(max_examples=8, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(fleet=fleets(), data=st.data())
def test_exact_counts_equal_the_scraped_increments(tmp_path_factory, fleet: list[Stream], data: st.DataObject) -> None:
    prometheus, _ = require_binaries()
    work = tmp_path_factory.mktemp("streams")
    base_ms = BASE_MS
    seen = write_openmetrics(work / "streams.om", fleet, base_ms)
    create_blocks(work / "streams.om", work / "tsdb", base_ms // 1000 - 1, base_ms // 1000 + SPAN_MS // 1000 + 1)
    server = PrometheusServer(prometheus, work / "tsdb", work)
    client = PrometheusClient(server.start())
    try:
        ends = st.integers(0, SPAN_MS + 600_000).map(lambda offset: base_ms + offset)
        for _ in range(6):  # one instant each: any end, to the millisecond, any window length
            end, seconds = data.draw(ends), data.draw(st.integers(1, SPAN_MS // 1000 + 600))
            got = {s.labels.get("user"): s.value for s in client.query(PROMQL_BY_USER.promql({}, seconds), _at(end))}
            expected = {s.user: truth(mine, end - seconds * 1000, end) for s, mine in zip(fleet, seen)}
            assert {u: got.get(u, 0.0) for u in expected} == expected, (end, seconds)
        step = data.draw(st.sampled_from([60, 300, 900]))
        first = data.draw(ends)
        chart = client.query_range(PROMQL_BY_USER.promql({}, step), _at(first), _at(first + 40 * step * 1000), step)
        for series in chart:
            mine = seen[[s.user for s in fleet].index(series.labels["user"])]
            for moment, value in series.points:
                end = int(moment.timestamp() * 1000)
                assert value == truth(mine, end - step * 1000, end), (moment, step)
        assert sum(p[1] for s in chart for p in s.points) == sum(
            truth(mine, first - step * 1000, first + 40 * step * 1000) for mine in seen
        )
        seconds = data.draw(st.integers(60, 3600))
        both = client.query_instants(
            PROMQL_BY_USER.promql({}, seconds), _at(first), _at(first + seconds * 1000), seconds
        )
        for moment, samples in both.items():
            end = int(moment.timestamp() * 1000)
            total = sum(truth(mine, end - seconds * 1000, end) for mine in seen)
            assert sum(s.value for s in samples) == total, (moment, seconds)
    finally:
        client.close()
        server.stop()
