"""Panel answer speed against a real Prometheus (the shared context's fleet, or any at --prometheus).

Measures, for every panel of the catalog over each --ranges entry, the wall time of Panels.run
(all of the panel's queries for the range and the previous period, its series and the filter
checks, run concurrently), median of --runs after one warm-up; then the wall time of
Panels.run_many over all panels (the digest case).  Aim: ≤ 500 ms per panel for 30d (this
bench's own; no issue names a figure).

    python bench/bench_panels.py [--ranges 24h,7d,30d] [--runs 5] [--prometheus URL --at TIME]
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from typing import TextIO
from zoneinfo import ZoneInfo

from common import (
    Context,
    Figure,
    at_most,
    median_ms,
    print_report,
    say,
    shared_context,
    timed_ms,
)

from codex_bot.metrics.client import PrometheusClient
from codex_bot.metrics.ranges import parse_instant
from codex_bot.panels.catalog import PANELS
from codex_bot.panels.cost import load_prices
from codex_bot.panels.request import PanelRequest
from codex_bot.panels.service import Panels

TARGET_MS = 500.0
RANGES = ("24h", "7d", "30d")


def bench(url: str, at: datetime | None, ranges: tuple[str, ...], runs: int, out: TextIO | None) -> list[Figure]:
    client = PrometheusClient(url, timeout=60)
    panels = Panels(client, ZoneInfo("UTC"), load_prices())
    say(out, f"{'panel':<15}" + "".join(f"{r:>10}" for r in ranges) + "   (ms, median)")
    worst: dict[str, tuple[float, str]] = {}  # range → (slowest median, panel)
    for panel in PANELS:
        cells = []
        for range_text in ranges:
            request = PanelRequest(panel.name, range_text)
            panels.run(request, at)
            median = median_ms(lambda r=request: panels.run(r, at), runs)
            worst[range_text] = max(worst.get(range_text, (0.0, "")), (median, panel.name))
            cells.append(f"{median:>10.0f}")
        say(out, f"{panel.name:<15}" + "".join(cells))
    longest = ranges[-1]
    every = [PanelRequest(panel.name, longest) for panel in PANELS]
    many = timed_ms(lambda: panels.run_many(every, at))
    client.close()
    slowest, name = worst[longest]
    return [
        Figure(
            f"slowest panel answer ({longest})",
            slowest,
            "ms",
            at_most(TARGET_MS),
            f"{name}; median of {runs}; all {len(every)} panels with run_many {many:.0f} ms; "
            "the aim is this bench's own",
        )
    ]


def measure(ctx: Context, runs: int = 5, ranges: tuple[str, ...] = RANGES, out: TextIO | None = None) -> list[Figure]:
    return bench(ctx.prometheus_url, ctx.at, ranges, runs, out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ranges", default=",".join(RANGES))
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--prometheus", metavar="URL", help="use this Prometheus instead of the shared context")
    parser.add_argument("--at", help="answer as of TIME (with --prometheus; RFC 3339 or Unix seconds; default now)")
    args = parser.parse_args()
    ranges = tuple(args.ranges.split(","))
    if args.prometheus:
        at = parse_instant(args.at) if args.at else None
        print_report(bench(args.prometheus, at, ranges, args.runs, sys.stdout))
        return
    with shared_context(out=sys.stdout) as ctx:
        print_report(measure(ctx, args.runs, ranges, sys.stdout))


if __name__ == "__main__":
    main()
