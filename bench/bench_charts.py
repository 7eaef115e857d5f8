"""Chart rendering speed through the bundled local renderer (or any QuickChart at --url).

Workload: the 14 charted panels of a digest, built from the hand-made panel results the chart
tests use (tests/chart_fixtures.py: a week of hourly series, top-N rows, doughnuts, gauges), at
800×400.  Measures (1) warm render time per chart, median of --runs after three warm-up renders,
through ChartRenderer.png (config → JSON → HTTP → Chart.js + Skia → PNG bytes), with the CPU time
the renderer process and this process spent per chart (wall time is inflated on a busy machine;
CPU time is not), and (2) the wall time of ChartRenderer.png_many over all 14 (the digest case).
Target: ≤ 50 ms per chart warm.

    python bench/bench_charts.py [--runs 10] [--url http://127.0.0.1:13400]
"""

from __future__ import annotations

import argparse
import json
import os
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
TICK_MS = 1000 / os.sysconf("SC_CLK_TCK")


def cpu_ms(pid: int | None) -> float:
    """CPU time (user + system) of process ``pid`` so far; 0 when unknown."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * TICK_MS


def measure(action: Callable[[], object], runs: int, pid: int | None) -> tuple[float, float, float]:
    """(median wall ms, renderer CPU ms per run, own CPU ms per run)."""
    samples = []
    server, own = cpu_ms(pid), time.process_time()
    for _ in range(runs):
        start = time.perf_counter()
        action()
        samples.append((time.perf_counter() - start) * 1000)
    return (statistics.median(samples), (cpu_ms(pid) - server) / runs, (time.process_time() - own) * 1000 / runs)


def bench(renderer: ChartRenderer, runs: int, pid: int | None) -> None:
    configs = {name: chart_config(result, ZoneInfo("Europe/Berlin")) for name, result in every_panel().items()}
    charts = {name: config for name, config in configs.items() if config is not None}
    print(f"{'chart':<14} {'type':<9} {'config':>8} {'PNG':>7} {'warm ms':>8} {'renderer CPU':>13} {'client CPU':>11}")
    walls, cpus = [], []
    for name, config in charts.items():
        png = [renderer.png(config) for _ in range(3)][-1]  # warm-up: JIT and caches
        wall, server, own = measure(lambda config=config: renderer.png(config), runs, pid)
        walls.append(wall)
        cpus.append(server)
        size = len(json.dumps(config, separators=(",", ":")))
        print(f"{name:<14} {config['type']:<9} {size:>7}B {len(png) // 1024:>5}kB {wall:>8.1f} "
              f"{server:>10.1f} ms {own:>8.1f} ms")
    print(f"warm per chart: wall median {statistics.median(walls):.1f} ms, worst {max(walls):.1f} ms; "
          f"renderer CPU median {statistics.median(cpus):.1f} ms, worst {max(cpus):.1f} ms "
          f"(target {TARGET_MS:.0f} ms; load average now {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")
    batch = list(charts.values())
    rounds = max(runs // 2, 1)
    sequential, _, _ = measure(lambda: [renderer.png(c) for c in batch], rounds, pid)
    parallel, server, _ = measure(lambda: renderer.png_many(batch), rounds, pid)
    print(f"{len(batch)} charts: {parallel:.0f} ms wall with png_many ({renderer.workers} workers), "
          f"{sequential:.0f} ms one after another; renderer CPU {server:.0f} ms")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--url", help="a running QuickChart-compatible renderer (default: start the bundled one)")
    args = parser.parse_args()
    if args.url:
        bench(ChartRenderer(args.url), args.runs, None)
        return 0
    with LocalRenderer() as local:
        bench(ChartRenderer(local.url), args.runs, local.pid)
    return 0


if __name__ == "__main__":
    sys.exit(main())
