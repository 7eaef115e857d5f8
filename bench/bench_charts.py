"""Chart rendering speed through the bundled local renderer (target: ≤ 50 ms per chart, warm).

Workload: every charted panel of the catalog (14 of 15: all but "cached") answered over 7d by the
shared context's Prometheus (bench/common.py: the demo's simulated fleet), at 800×400.  Measures
(1) warm render time per chart, median of --runs after three warm-up renders, through
ChartRenderer.png (config → JSON → HTTP → Chart.js + Skia → PNG bytes), with the CPU time the
renderer process spent per chart (wall time is inflated on a busy machine; CPU time is not), and
(2) the wall time of ChartRenderer.png_many over all of them (the digest case).

    python bench/bench_charts.py [--runs 10] [--range 7d]
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from common import (
    Context,
    Figure,
    at_most,
    cpu_ms,
    run_alone,
    say,
    timed_ms,
)

from codex_bot.charts.renderer import ChartRenderer
from codex_bot.charts.spec import chart_config
from codex_bot.metrics.client import PrometheusClient
from codex_bot.panels.catalog import PANELS
from codex_bot.panels.cost import load_prices
from codex_bot.panels.request import PanelRequest
from codex_bot.panels.service import Panels

TARGET_MS = 50.0
UTC = ZoneInfo("UTC")


def panel_charts(ctx: Context, range_text: str) -> dict[str, dict[str, Any]]:
    """The chart config of every panel that draws one, from its real answer as of ``ctx.at``."""
    client = PrometheusClient(ctx.prometheus_url, timeout=60)
    results = Panels(client, UTC, load_prices()).run_many([PanelRequest(p.name, range_text) for p in PANELS], ctx.at)
    client.close()
    configs = {result.panel: chart_config(result, UTC) for result in results}
    return {name: config for name, config in configs.items() if config is not None}


def timed(action: Callable[[], object], runs: int, pid: int | None) -> tuple[float, float]:
    """(median wall ms, renderer CPU ms per run)."""
    before = cpu_ms(pid)
    walls = [timed_ms(action) for _ in range(runs)]
    return statistics.median(walls), (cpu_ms(pid) - before) / runs


def measure(ctx: Context, runs: int = 10, range_text: str = "7d", out: TextIO | None = None) -> list[Figure]:
    renderer, pid = ChartRenderer(ctx.renderer_url), ctx.renderer_pid
    charts = panel_charts(ctx, range_text)
    say(out, f"{'chart':<14} {'type':<9} {'config':>8} {'PNG':>7} {'warm ms':>8} {'renderer CPU':>13}")
    walls: dict[str, float] = {}
    for name, config in charts.items():
        png = [renderer.png(config) for _ in range(3)][-1]  # warm-up: JIT and caches
        walls[name], cpu = timed(lambda config=config: renderer.png(config), runs, pid)
        size = len(json.dumps(config, separators=(",", ":")))
        say(
            out,
            f"{name:<14} {config['type']:<9} {size:>7}B {len(png) // 1024:>5}kB {walls[name]:>8.1f} {cpu:>10.1f} ms",
        )
    batch = list(charts.values())
    many, many_cpu = timed(lambda: renderer.png_many(batch), max(runs // 2, 1), pid)
    say(
        out,
        f"{len(batch)} charts with png_many ({renderer.workers} workers): {many:.0f} ms wall, "
        f"renderer CPU {many_cpu:.0f} ms",
    )
    slowest = max(walls, key=walls.__getitem__)
    return [
        Figure(
            f"chart render, warm, median of {len(walls)} panel charts",
            statistics.median(walls.values()),
            "ms",
            at_most(TARGET_MS),
            f"{range_text} answers at 800×400, local renderer; median of {runs} each",
        ),
        Figure(
            "chart render, warm, slowest chart",
            walls[slowest],
            "ms",
            at_most(TARGET_MS),
            f"{slowest} ({charts[slowest]['type']}); all {len(batch)} with png_many {many:.0f} ms",
        ),
    ]


if __name__ == "__main__":
    run_alone(__doc__, measure, runs=10, range="7d")
