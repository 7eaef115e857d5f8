"""Slack reply speed: ack latency of /codex, and the full reply time next to its bare cost.

Setup: the shared context (bench/common.py: the demo's simulated fleet in a real Prometheus, the
bundled chart renderer), a local Slack stand-in (bench/slack_stub.py), and the bot assembled as
``codex-bot serve`` assembles it, its Bolt app served over HTTP by its WSGI server on 127.0.0.1;
requests are signed as Slack signs them.

1. Ack latency: signed POST of ``/codex tokens 7d`` → HTTP 200, one request at a time (each answer
   awaited before the next), --acks requests after warm-up.  Target: p99 ≤ 50 ms.
2. Full reply: POST → the answer arriving at the response_url (after its chart upload), median of
   --runs, for ``tokens 7d`` and ``usage 7d``.  Baseline for the same request: the panel's PromQL sent
   straight to Prometheus over HTTP (concurrently, as the bot does) plus one chart render, measured
   interleaved with the replies (the machine's load moves them alike).  Target: reply ≤ 1.3 × baseline.

    python bench/bench_slack.py [--acks 300] [--runs 15]
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

import requests
from common import (
    REPO,
    Context,
    Figure,
    at_most,
    run_alone,
    say,
    timed_ms,
)
from slack_stub import BOT_TOKEN, SIGNING_SECRET, SlackStub, post_command

from codex_bot.bot import assemble
from codex_bot.charts.renderer import ChartRenderer
from codex_bot.charts.spec import chart_config
from codex_bot.metrics.client import PrometheusClient
from codex_bot.metrics.ranges import parse_range
from codex_bot.panels.catalog import find_panel
from codex_bot.panels.cost import load_prices
from codex_bot.panels.request import parse_request
from codex_bot.panels.service import Panels
from codex_bot.settings import Settings, load_settings
from codex_bot.slack.serve import EVENTS_PATH, make_http_server

TZ = ZoneInfo("UTC")
ACK_TARGET_MS = 50.0
REPLY_TARGET_RATIO = 1.3
REQUESTS = ("tokens 7d", "usage 7d")


def percentile(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def bot_settings(ctx: Context, slack: SlackStub, work: Path) -> Settings:
    """The settings ``codex-bot serve`` would read, pointed at the context and the Slack stand-in."""
    return load_settings(
        slack_bot_token=BOT_TOKEN,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=slack.base_url,
        prometheus_url=ctx.prometheus_url,
        quickchart_url=ctx.renderer_url,
        timezone=TZ.key,
        state_db=work / "bench-state.sqlite",
        rules_dir=REPO / "rules",
        digests_file=REPO / "rules" / "digests.yaml",
    )


@contextmanager
def served_bot(ctx: Context, slack: SlackStub) -> Iterator[str]:
    """The assembled bot answering as of ``ctx.at``, served on a free port; yields its events URL."""
    bot = assemble(bot_settings(ctx, slack, ctx.workdir), signing_secret=SIGNING_SECRET)
    bot.deps.clock = lambda: ctx.at
    server = make_http_server(bot.app, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}{EVENTS_PATH}"
    finally:
        server.shutdown()
        server.server_close()
        bot.store.close()


def check_answer(text: str, answer: dict[str, Any]) -> None:
    """Raise unless ``answer`` is the panel's answer (an error message would make the timing meaningless)."""
    title = find_panel(parse_request(text).panel).title
    if title not in answer.get("text", ""):
        raise RuntimeError(f"/codex {text} was answered {answer.get('text', '')[:200]!r}, not with its panel")


class Asker:
    """Sends signed /codex commands and times their ack and their answer at the response_url."""

    def __init__(self, slack: SlackStub, url: str) -> None:
        self.slack, self.url, self._count = slack, url, 0

    def ask(self, text: str) -> tuple[float, float]:
        """(ack ms, full reply ms) of one ``/codex text``; waits for the answer."""
        self._count += 1
        key = f"bench{self._count}"
        started = time.perf_counter()
        response = post_command(self.url, text, self.slack.response_url(key))
        ack = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise RuntimeError(f"/codex {text} answered HTTP {response.status_code}: {response.text[:200]}")
        arrived, answer = self.slack.wait_answer(key)
        check_answer(text, answer)
        return ack, (arrived - started) * 1000


class Baseline:
    """The bare cost of a request: its panel's PromQL straight to Prometheus, and one chart render."""

    def __init__(self, ctx: Context) -> None:
        self.prometheus_url, self.at = ctx.prometheus_url, ctx.at
        self.renderer = ChartRenderer(ctx.renderer_url)
        self.panels = Panels(PrometheusClient(ctx.prometheus_url), TZ, load_prices())

    def promql_ms(self, text: str) -> float:
        """The panel's queries (range and previous period, plus series) over HTTP, concurrently."""
        request = parse_request(text)
        panel = find_panel(request.panel)
        window = parse_range(request.range_text, self.at, TZ)
        previous = window.previous()
        instant = [(q.promql({}, w.seconds), w.end) for q in panel.queries.values() for w in (window, previous)]
        first = window.start + timedelta(seconds=window.step_seconds)
        ranged = [spec.query.promql({}, window.step_seconds) for spec in panel.series]

        def query(promql: str, at: datetime) -> None:
            requests.get(
                f"{self.prometheus_url}/api/v1/query", params={"query": promql, "time": at.timestamp()}, timeout=30
            ).raise_for_status()

        def query_range(promql: str) -> None:
            params = {
                "query": promql,
                "start": first.timestamp(),
                "end": window.end.timestamp(),
                "step": window.step_seconds,
            }
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


def measure(ctx: Context, acks: int = 300, runs: int = 15, out: TextIO | None = None) -> list[Figure]:
    with SlackStub() as slack, served_bot(ctx, slack) as url:
        asker, baseline = Asker(slack, url), Baseline(ctx)
        for _ in range(5):  # warm-up
            for text in REQUESTS:
                asker.ask(text)
        ack_samples = [asker.ask(REQUESTS[0])[0] for _ in range(acks)]
        p50, p99 = percentile(ack_samples, 50), percentile(ack_samples, 99)
        say(out, f"ack of /codex {REQUESTS[0]}: p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {max(ack_samples):.1f} ms")
        figures = [
            Figure(
                f"ack p99, /codex {REQUESTS[0]}",
                p99,
                "ms",
                at_most(ACK_TARGET_MS),
                f"p50 {p50:.1f} ms, max {max(ack_samples):.0f} ms; {acks} signed requests, one at a time",
            )
        ]
        for text in REQUESTS:
            samples = [(asker.ask(text)[1], baseline.promql_ms(text), baseline.chart_ms(text)) for _ in range(runs)]
            reply, promql, chart = (statistics.median(column) for column in zip(*samples))  # interleaved runs
            say(out, f"/codex {text}: reply {reply:.1f} ms, bare PromQL {promql:.1f} ms, chart {chart:.1f} ms")
            figures.append(
                Figure(
                    f"reply ÷ (bare PromQL + 1 chart), /codex {text}",
                    reply / (promql + chart),
                    "×",
                    at_most(REPLY_TARGET_RATIO),
                    f"reply {reply:.0f} ms vs {promql:.0f} + {chart:.0f} ms; medians of {runs}",
                )
            )
        baseline.panels.client.close()
    return figures


if __name__ == "__main__":
    run_alone(__doc__, measure, acks=300, runs=15)
