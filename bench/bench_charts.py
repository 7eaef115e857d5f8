"""Chart rendering speed through the bundled local renderer (or any QuickChart at --url).

Workload: the 14 charted panels of a digest, built from the hand-made panel results the chart
tests use (tests/chart_fixtures.py: a week of hourly series, top-N rows, doughnuts, gauges), at
800×400.  Measures (1) warm render time per chart, median of --runs after three warm-up renders,
through ChartRenderer.png (config → JSON → HTTP → Chart.js + skia → PNG bytes), and (2) the
wall time of ChartRenderer.png_many over all 14 (the digest case), median of --runs.
Target: ≤ 50 ms per chart warm.

    python bench/bench_charts.py [--runs 10] [--url http://127.0.0.1:13400]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from chart_fixtures import every_panel  # noqa: E402

from codex_bot.charts.local_renderer import LocalRenderer  # noqa: E402
from codex_bot.charts.renderer import ChartRenderer  # noqa: E402
from codex_bot.charts.spec import chart_config  # noqa: E402

TARGET_MS = 50.0


def median_ms(action: Callable[[], object], runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def bench(renderer: ChartRenderer, runs: int) -> None:
    configs = {name: chart_config(result, ZoneInfo("Europe/Berlin")) for name, result in every_panel().items()}
    charts = {name: config for name, config in configs.items() if config is not None}
    print(f"{'chart':<14} {'type':<9} {'config':>8} {'PNG':>8} {'warm ms':>8}")
    per_chart = []
    for name, config in charts.items():
        png = [renderer.png(config) for _ in range(3)][-1]  # warm-up: JIT and caches
        ms = median_ms(lambda config=config: renderer.png(config), runs)
        per_chart.append(ms)
        size = len(json.dumps(config, separators=(",", ":")))
        print(f"{name:<14} {config['type']:<9} {size:>7}B {len(png) // 1024:>6}kB {ms:>8.1f}")
    worst = max(per_chart)
    verdict = "meets" if worst <= TARGET_MS else "MISSES"
    print(f"warm per chart: median {statistics.median(per_chart):.1f} ms, worst {worst:.1f} ms "
          f"({verdict} the {TARGET_MS:.0f} ms target)")
    batch = list(charts.values())
    sequential = median_ms(lambda: [renderer.png(c) for c in batch], max(runs // 2, 1))
    parallel = median_ms(lambda: renderer.png_many(batch), max(runs // 2, 1))
    print(f"{len(batch)} charts: {parallel:.0f} ms with png_many ({renderer.workers} workers), "
          f"{sequential:.0f} ms one after another")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--url", help="a running QuickChart-compatible renderer (default: start the bundled one)")
    args = parser.parse_args()
    if args.url:
        bench(ChartRenderer(args.url), args.runs)
        return 0
    with LocalRenderer() as local:
        bench(ChartRenderer(local.url), args.runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
