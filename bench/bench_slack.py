"""Slack reply speed: ack latency of /codex, and the full reply time next to its bare cost.

Setup: the synthetic test fleet (tests/prometheus_fleet.py: ~12 developers × 8 days) backfilled into
the real Prometheus, the bundled chart renderer, the local Slack emulator, and the bot's Bolt app
served over HTTP by its WSGI server on 127.0.0.1 — Slack's side sends properly signed requests.

1. Ack latency: signed POST of ``/codex tokens 7d`` → HTTP 200, one request at a time (each answer
   awaited before the next), --acks requests after warm-up.  Target: p99 ≤ 50 ms.
2. Full reply: POST → the answer arriving at the response_url (after its chart upload, if any),
   median of --runs, for ``tokens 7d`` and ``usage 7d`` (a panel with a chart).  Baseline for the
   same request: the panel's PromQL sent straight to Prometheus over HTTP (concurrently, as the
   bot does) plus one chart render, measured interleaved with the replies (the machine's load moves
   them alike).  Target: reply ≤ 1.3 × baseline.

    python bench/bench_slack.py [--acks 300] [--runs 15]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from prometheus_fleet import PrometheusServer, build_fleet, require_binaries
from slack_emulator import ServedApp, SlackEmulator, build_bot

from codex_bot.charts.local_renderer import LocalRenderer
from codex_bot.charts.renderer import ChartRenderer
from codex_bot.charts.spec import chart_config
from codex_bot.metrics.client import PrometheusClient
from codex_bot.metrics.ranges import parse_range
from codex_bot.panels.catalog import find_panel
from codex_bot.panels.cost import load_prices
from codex_bot.panels.request import parse_request
from codex_bot.panels.service import Panels

TZ = ZoneInfo("UTC")
ACK_TARGET_MS = 50.0
REPLY_TARGET_RATIO = 1.3


def percentile(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def timed_ms(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return (time.perf_counter() - start) * 1000


class Bench:
    def __init__(self, slack: SlackEmulator, bot: ServedApp, prometheus_url: str, renderer: ChartRenderer,
                 at: datetime) -> None:
        self.slack, self.bot, self.prometheus_url, self.renderer, self.at = slack, bot, prometheus_url, renderer, at
        self.panels = Panels(PrometheusClient(prometheus_url), TZ, load_prices())
        self._count = 0

    def ask(self, text: str) -> tuple[float, float]:
        """(ack ms, full reply ms) of one ``/codex text``; waits for the answer."""
        self._count += 1
        url = self.slack.response_url(f"bench{self._count}")
        start = time.perf_counter()
        response = self.bot.command(text, url)
        ack = (time.perf_counter() - start) * 1000
        assert response.status_code == 200, response.text
        path = url.split("127.0.0.1", 1)[1].split("/", 1)[1]
        answer = self.slack.wait_for(lambda: [c for c in self.slack.calls_to("response_url") if path in c.path])
        assert answer, f"no answer to {text}"
        return ack, (answer[0].received - start) * 1000

    def bare_promql_ms(self, text: str) -> float:
        """The panel's queries (range and previous period, plus series) straight to Prometheus, concurrently."""
        request = parse_request(text)
        panel = find_panel(request.panel)
        window = parse_range(request.range_text, self.at, TZ)
        previous = window.previous()
        instant = [(q.promql({}, w.seconds), w.end) for q in panel.queries.values() for w in (window, previous)]
        first = window.start + timedelta(seconds=window.step_seconds)
        ranged = [spec.query.promql({}, window.step_seconds) for spec in panel.series]

        def query(promql: str, at: datetime) -> None:
            requests.get(f"{self.prometheus_url}/api/v1/query", params={"query": promql, "time": at.timestamp()},
                         timeout=30).raise_for_status()

        def query_range(promql: str) -> None:
            params = {"query": promql, "start": first.timestamp(), "end": window.end.timestamp(),
                      "step": window.step_seconds}
            requests.get(f"{self.prometheus_url}/api/v1/query_range", params=params, timeout=30).raise_for_status()

        def all_queries() -> None:
            with ThreadPoolExecutor(max_workers=8) as pool:
                futures = [pool.submit(query, p, t) for p, t in instant] + [pool.submit(query_range, p) for p in ranged]
                for future in futures:
                    future.result()

        return timed_ms(all_queries)

    def chart_ms(self, text: str) -> float:
        config = chart_config(self.panels.run(parse_request(text), self.at), TZ)
        return 0.0 if config is None else timed_ms(lambda: self.renderer.png(config))


def run(bench: Bench, acks: int, runs: int) -> None:
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} (other work skews the tail)")
    for _ in range(5):
        bench.ask("tokens 7d")
        bench.ask("usage 7d")
    ack_samples = [bench.ask("tokens 7d")[0] for _ in range(acks)]
    p50, p99 = percentile(ack_samples, 50), percentile(ack_samples, 99)
    verdict = "meets" if p99 <= ACK_TARGET_MS else "MISSES"
    print(f"ack latency of /codex tokens 7d over {acks} signed requests: p50 {p50:.1f} ms, p99 {p99:.1f} ms, "
          f"max {max(ack_samples):.1f} ms ({verdict} the p99 ≤ {ACK_TARGET_MS:.0f} ms target)")
    print(f"\n{'request':<18} {'reply ms':>9} {'PromQL ms':>10} {'chart ms':>9} {'baseline':>9} {'ratio':>6}")
    for text in ("tokens 7d", "usage 7d"):
        samples = [(bench.ask(text)[1], bench.bare_promql_ms(text), bench.chart_ms(text)) for _ in range(runs)]
        reply, promql, chart = (statistics.median(column) for column in zip(*samples))  # interleaved runs
        baseline = promql + chart
        ratio = reply / baseline
        verdict = "meets" if ratio <= REPLY_TARGET_RATIO else "MISSES"
        print(f"/codex {text:<11} {reply:>9.1f} {promql:>10.1f} {chart:>9.1f} {baseline:>9.1f} {ratio:>5.2f}x "
              f"({verdict} ≤ {REPLY_TARGET_RATIO}x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--acks", type=int, default=300)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    prometheus_binary, _ = require_binaries()
    with tempfile.TemporaryDirectory() as work:
        print("building the fleet (simulate + backfill) …", flush=True)
        config, _, _, tsdb = build_fleet(Path(work))
        server = PrometheusServer(prometheus_binary, tsdb, Path(work))
        prometheus_url = server.start()
        try:
            with LocalRenderer() as local, SlackEmulator() as slack:
                app, deps = build_bot(slack, prometheus_url=prometheus_url, quickchart_url=local.url,
                                      timezone=TZ.key)
                at = config.end - timedelta(hours=1)
                deps.clock = lambda: at
                bot = ServedApp(app)
                try:
                    run(Bench(slack, bot, prometheus_url, ChartRenderer(local.url), at), args.acks, args.runs)
                finally:
                    bot.stop()
        finally:
            server.stop()


if __name__ == "__main__":
    main()
