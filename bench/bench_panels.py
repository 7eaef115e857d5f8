"""Panel answer speed against a real Prometheus (e.g. one holding a backfilled synthetic fleet).

Measures, for every panel of the catalog over each --ranges entry, the wall time of Panels.run
(all of the panel's queries for the range and the previous period, its series and the filter
checks, run concurrently), median of --runs after one warm-up; then the wall time of
Panels.run_many over all panels (the digest case).  Target: ≤ 500 ms per panel for 30d.

    python bench/bench_panels.py --prometheus http://127.0.0.1:9090 [--at TIME] [--ranges 24h,7d,30d] [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from zoneinfo import ZoneInfo

from codex_bot.metrics.client import PrometheusClient
from codex_bot.metrics.ranges import parse_instant
from codex_bot.panels.catalog import PANELS
from codex_bot.panels.cost import load_prices
from codex_bot.panels.request import PanelRequest
from codex_bot.panels.service import Panels

TARGET_MS = 500.0


def timed_ms(action) -> float:
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prometheus", required=True, metavar="URL")
    parser.add_argument("--at", help="answer as of TIME (RFC 3339 or Unix seconds; default now)")
    parser.add_argument("--ranges", default="24h,7d,30d")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    at = parse_instant(args.at) if args.at else None
    client = PrometheusClient(args.prometheus, timeout=60)
    panels = Panels(client, ZoneInfo("UTC"), load_prices())
    ranges = args.ranges.split(",")
    print(f"{'panel':<15}" + "".join(f"{r:>10}" for r in ranges) + "   (ms, median)")
    worst = 0.0
    for panel in PANELS:
        cells = []
        for range_text in ranges:
            request = PanelRequest(panel.name, range_text)
            panels.run(request, at)
            median = statistics.median(timed_ms(lambda r=request: panels.run(r, at)) for _ in range(args.runs))
            worst = max(worst, median)
            cells.append(f"{median:>10.0f}")
        print(f"{panel.name:<15}" + "".join(cells))
    for range_text in ranges:
        every = [PanelRequest(panel.name, range_text) for panel in PANELS]
        print(f"run_many, all {len(every)} panels, {range_text}: {timed_ms(lambda e=every: panels.run_many(e, at)):.0f} ms")
    print(f"slowest panel median {worst:.0f} ms (target ≤ {TARGET_MS:.0f} ms): {'ok' if worst <= TARGET_MS else 'SLOW'}; "
          "load average " + " ".join(f"{v:.2f}" for v in os.getloadavg()))
    client.close()


if __name__ == "__main__":
    main()
