"""Every benchmark in one run, printed as one Markdown table: figure | measured | target | met? | notes.

Builds ONE shared context (bench/common.py: the demo's simulated fleet — 25 developers × 30 days —
backfilled into a real Prometheus, plus the bundled chart renderer) and runs each bench's ``measure``
against it: ingest throughput, chart render time, panel answers, exact counts against ``increase()``,
Slack ack and reply, the 200-rule alert cycle, the digest, panel and digest time on VictoriaMetrics vs
Prometheus, and the bot's start time and memory.  The backfill figure of the default run is the shared
fleet's own simulate + backfill, labelled as what it is; ``--full`` also simulates and backfills
500 developers × 30 days (about 2 minutes more), the fleet the < 2 min target names.
The machine, its load average at start and end, and the date head and close the report.

    python bench/run_all.py [--full]        # make bench
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime

import bench_alerts
import bench_backends
import bench_bot
import bench_charts
import bench_digest
import bench_exact_counts
import bench_ingest
import bench_panels
import bench_simulate_backfill
import bench_slack
from common import Context, Figure, load_average, machine, shared_context, table

Bench = Callable[[], list[Figure]]


def fleet_figure(ctx: Context) -> Figure:
    b = ctx.build
    return Figure(
        f"simulate + backfill, {b.developers} developers × {b.days:g} days, step {b.step} s (shared fleet)",
        b.seconds,
        "s",
        None,
        f"{b.events:,} events, {b.series:,} series, {b.samples / 1e6:.1f} M samples; a smaller fleet, "
        "measured as it is (the < 120 s target is for 500 × 30 days: `--full`)",
    )


def context_benches(ctx: Context) -> dict[str, Bench]:
    """The benches that run against the shared context, in order, each with its own defaults."""
    return {
        "charts": lambda: bench_charts.measure(ctx),
        "panels": lambda: bench_panels.measure(ctx),
        "exact counts": lambda: bench_exact_counts.measure(ctx),
        "slack": lambda: bench_slack.measure(ctx),
        "alerts": lambda: bench_alerts.measure(ctx),
        "digest": lambda: bench_digest.measure(ctx),
        "backends": lambda: bench_backends.measure(ctx),
        "bot": lambda: bench_bot.measure(ctx),
    }


class Runner:
    """Runs benches one by one, telling progress; a failing bench is reported and the others still run."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.figures: list[Figure] = []
        self.failed: list[str] = []

    def run(self, name: str, bench: Bench) -> None:
        print(f"[{time.monotonic() - self.started:5.0f} s] {name} …", flush=True)
        try:
            self.figures.extend(bench())
        except Exception:  # noqa: BLE001 - one broken bench must not hide the others' figures
            self.failed.append(name)
            traceback.print_exc()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--full", action="store_true", help="also simulate + backfill 500 developers × 30 days (about 2 minutes more)"
    )
    args = parser.parse_args()
    date, load_start = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), load_average()
    print(f"codex-bot benchmarks · {date} · {machine()}\nload average at start: {load_start}", flush=True)
    runner = Runner()
    runner.run("ingest", bench_ingest.measure)
    print(
        f"[{time.monotonic() - runner.started:5.0f} s] shared context: simulate, backfill, start Prometheus "
        "and the chart renderer …",
        flush=True,
    )
    with shared_context() as ctx:
        runner.figures.append(fleet_figure(ctx))
        for name, bench in context_benches(ctx).items():
            runner.run(name, bench)
    if args.full:
        runner.run("simulate + backfill, 500 developers × 30 days", bench_simulate_backfill.measure)
    elapsed = time.monotonic() - runner.started
    print(
        f"\n## codex-bot benchmarks, {date}{' (--full)' if args.full else ''}\n\n{machine()}; "
        f"load average (1, 5, 15 min) at start {load_start}, at end {load_average()}; run took {elapsed:.0f} s.\n"
    )
    print(table(runner.figures), flush=True)
    if runner.failed:
        print(f"\nFAILED: {', '.join(runner.failed)} (tracebacks above)")
    return 1 if runner.failed else 0


if __name__ == "__main__":
    sys.exit(main())
