"""Cost of the exact window counts against ``increase()``, on the demo fleet in a real Prometheus.

For every panel's queries over each --ranges entry (the figures' PromQL, as the panel runs it), the
median wall time of --runs instant queries at the fleet's end and the samples Prometheus read for them
(``stats=all``: totalQueryableSamples), once with the bot's exact PromQL
(:mod:`codex_bot.metrics.increase`) and once with the same templates built on ``increase()``; side by
side, with ratios.  No issue names a target: the figures are for choosing and documenting.

    python bench/bench_exact_counts.py [--ranges 7d,30d] [--runs 5]
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TextIO

import requests
from common import Context, Figure, run_alone, say

from codex_bot.metrics import increase as exact
from codex_bot.metrics.promql import duration
from codex_bot.metrics.ranges import parse_range
from codex_bot.panels import queries
from codex_bot.panels.catalog import PANELS

RANGES = "7d,30d"


@contextmanager
def built_on_increase() -> Iterator[None]:
    """The panel templates built on ``increase(series[w])`` instead (what the bot used before)."""
    saved = queries.window_increase
    queries.window_increase = lambda series, seconds: f"increase({series}[{duration(seconds)}])"
    try:
        yield
    finally:
        queries.window_increase = saved


def panel_promql(seconds: int) -> dict[str, list[str]]:
    """Panel name → the PromQL of its figures' queries (no filters)."""
    return {panel.name: [query.promql({}, seconds) for query in panel.queries.values()] for panel in PANELS}


def run(url: str, promql: str, at: datetime) -> tuple[float, int]:
    """(wall ms, samples read) of one instant query."""
    started = time.perf_counter()
    reply = requests.get(
        f"{url}/api/v1/query", params={"query": promql, "time": at.timestamp(), "stats": "all"}, timeout=120
    )
    elapsed = (time.perf_counter() - started) * 1000
    body = reply.json()
    if body.get("status") != "success":
        raise RuntimeError(f"{promql}: {body}")
    return elapsed, int(body["data"]["stats"]["samples"]["totalQueryableSamples"])


def cost(url: str, promqls: list[str], at: datetime, runs: int) -> tuple[float, int]:
    """Median over ``runs`` of the summed wall ms of ``promqls`` (after one warm-up), and their samples read."""
    samples = sum(run(url, promql, at)[1] for promql in promqls)
    times = [sum(run(url, promql, at)[0] for promql in promqls) for _ in range(runs)]
    return statistics.median(times), samples


def measure(ctx: Context, ranges: str = RANGES, runs: int = 5, out: TextIO | None = None) -> list[Figure]:
    figures = []
    say(
        out,
        f"{'panel':<14}{'range':>6}{'increase ms':>13}{'exact ms':>10}{'ratio':>7}"
        f"{'increase samples':>18}{'exact samples':>15}{'ratio':>7}",
    )
    for range_text in ranges.split(","):
        seconds = parse_range(range_text, ctx.at, ctx.at.tzinfo).seconds  # type: ignore[arg-type]
        exact_promql = panel_promql(seconds)
        with built_on_increase():
            plain_promql = panel_promql(seconds)
        totals = [0.0, 0.0, 0, 0]
        for name in exact_promql:
            plain_ms, plain_samples = cost(ctx.prometheus_url, plain_promql[name], ctx.at, runs)
            exact_ms, exact_samples = cost(ctx.prometheus_url, exact_promql[name], ctx.at, runs)
            for i, value in enumerate((plain_ms, exact_ms, plain_samples, exact_samples)):
                totals[i] += value
            say(
                out,
                f"{name:<14}{range_text:>6}{plain_ms:>13.1f}{exact_ms:>10.1f}{exact_ms / plain_ms:>7.2f}"
                f"{plain_samples:>18,}{exact_samples:>15,}{exact_samples / max(plain_samples, 1):>7.2f}",
            )
        plain_ms, exact_ms, plain_samples, exact_samples = totals
        say(
            out,
            f"{'all panels':<14}{range_text:>6}{plain_ms:>13.1f}{exact_ms:>10.1f}{exact_ms / plain_ms:>7.2f}"
            f"{plain_samples:>18,.0f}{exact_samples:>15,.0f}{exact_samples / plain_samples:>7.2f}",
        )
        baseline = exact.baseline_seconds(seconds)
        figures += [
            Figure(f"all panels' queries, {range_text}: increase()", plain_ms, "ms", note=f"median of {runs}"),
            Figure(
                f"all panels' queries, {range_text}: exact",
                exact_ms,
                "ms",
                note=f"{exact_ms / plain_ms:.2f}× increase(); reads {range_text} + {baseline // 3600} h, "
                f"and {baseline // 3600} h at the start",
            ),
            Figure(
                f"samples read, {range_text}: exact / increase()",
                exact_samples / plain_samples,
                "×",
                note=f"{exact_samples:,.0f} vs {plain_samples:,.0f}",
            ),
        ]
    say(
        out,
        f"fleet: {ctx.build.developers} developers × {ctx.build.days:g} days, step {ctx.build.step} s, "
        f"{ctx.build.series:,} series, {ctx.build.samples:,} samples",
    )
    return figures


if __name__ == "__main__":
    run_alone(__doc__, measure, ranges=RANGES, runs=5)
