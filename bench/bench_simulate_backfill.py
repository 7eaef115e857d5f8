"""Time to simulate and backfill a synthetic fleet (default: 500 developers × 30 days; target < 2 min).

Phases, each timed: (1) simulate → OTLP/JSON lines (the Collector file-exporter shape), (2) read,
decode and aggregate them into the backfill timeline (the same pipeline as ingest), (3) write the
dense OpenMetrics file, (4) promtool create-blocks.  Prints events, requests, series, samples and
sizes.  Before (3) it estimates the samples from the timeline; above --max-samples it stops there
(promtool holds the whole file in memory).  --verify starts Prometheus on the blocks and compares
total input tokens with the ground truth.

The grid defaults to --step 900: the dense grid grows with series × steps, and 500 developers ×
30 days at `codex-bot backfill`'s default 60 s is about 375 M samples (≈ 37 GB of OpenMetrics, as
much memory for promtool), over --max-samples on a small machine.

    python bench/bench_simulate_backfill.py [--developers 500] [--days 30] [--step 900] [--verify]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO, TypeVar

import requests
from common import Figure, below, print_report, say, tuned_gc

from codex_bot.demo.prometheus import LocalPrometheus
from codex_bot.simulate.fleet import FleetConfig, next_full_hour, simulate
from codex_bot.simulate.output import write_files
from codex_bot.simulate.truth import GroundTruth
from codex_bot.telemetry.backfill import aggregate_files, end_step
from codex_bot.telemetry.labels import UserLabelRule
from codex_bot.telemetry.openmetrics import write_openmetrics
from codex_bot.telemetry.promtool import block_duration, create_blocks
from codex_bot.telemetry.series import new_cells, sample_values
from codex_bot.telemetry.timeline import Timeline

TARGET_SECONDS = 120.0
TARGET_FLEET = (500, 30.0)  # developers, days: what the target is set for
T = TypeVar("T")


class Clock:
    """Times named phases and tells each as it ends."""

    def __init__(self, out: TextIO | None) -> None:
        self.phases: list[tuple[str, float]] = []
        self.out = out

    def run(self, name: str, action: Callable[[], T]) -> T:
        started = time.perf_counter()
        result = action()
        self.phases.append((name, time.perf_counter() - started))
        say(self.out, f"  {name:<32} {self.phases[-1][1]:8.1f} s")
        return result

    @property
    def total(self) -> float:
        return sum(seconds for _, seconds in self.phases)

    def breakdown(self) -> str:
        return ", ".join(f"{name} {seconds:.1f} s" for name, seconds in self.phases)


def estimated_samples(timeline: Timeline, last: int) -> int:
    """Sample lines the dense OpenMetrics file will hold (every series from one step before its birth to ``last``)."""
    total = 0
    for series, deltas in enumerate(timeline.deltas):
        family = timeline.index.families[series]
        lines = len(sample_values(family, new_cells(family)))
        total += lines * max(0, last - min(deltas) + 2)
    return total


def size_mb(path: Path) -> float:
    return (
        sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6
        if path.is_dir()
        else path.stat().st_size / 1e6
    )


def measure(
    developers: int = TARGET_FLEET[0],
    days: float = TARGET_FLEET[1],
    step: int = 900,
    seed: int = 1,
    max_samples: float = 150e6,
    verify: bool = False,
    out: TextIO | None = None,
) -> list[Figure]:
    """Simulate and backfill in a temporary folder; raises ValueError when the grid would exceed ``max_samples``."""
    work = Path(tempfile.mkdtemp(prefix="bench-fleet-"))
    try:
        config = FleetConfig(developers=developers, days=days, seed=seed, end=next_full_hour(datetime.now(UTC)))
        say(out, f"fleet: {developers} developers × {days:g} days, step {step} s, work {work}")
        clock, truth = Clock(out), GroundTruth() if verify else None
        tsdb, events = run_phases(config, step, max_samples, work, clock, truth, out)
        if truth is not None:
            _verify(config, truth, tsdb, work, out)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    aimed = (developers, days) == TARGET_FLEET
    note = clock.breakdown() + f"; {events:,} events"
    return [
        Figure(
            f"simulate + backfill, {developers} developers × {days:g} days, step {step} s",
            clock.total,
            "s",
            below(TARGET_SECONDS) if aimed else None,
            note
            if aimed
            else note + f"; a smaller fleet: the < {TARGET_SECONDS:.0f} s target is for "
            f"{TARGET_FLEET[0]} × {TARGET_FLEET[1]:g} days",
        )
    ]


def run_phases(
    config: FleetConfig,
    step: int,
    max_samples: float,
    work: Path,
    clock: Clock,
    truth: GroundTruth | None,
    out: TextIO | None,
) -> tuple[Path, int]:
    """The four timed phases; returns the TSDB folder and the number of events."""
    events = simulate(config) if truth is None else (truth.add(e) or e for e in simulate(config))
    written = clock.run("simulate → OTLP/JSON lines", lambda: write_files(events, work / "otlp", jsonl=True))
    with tuned_gc():  # as `codex-bot backfill` does
        timeline, outcomes, _, _ = clock.run(
            "read + decode + aggregate",
            lambda: aggregate_files(
                written.paths, step, config.end.timestamp(), UserLabelRule(), 10_000_000, 10_000_000
            ),
        )
    last = end_step(config.end.timestamp(), step)
    expected = estimated_samples(timeline, last)
    say(
        out,
        f"  events {written.records:,} in {written.requests:,} requests ({written.bytes / 1e6:,.0f} MB), "
        f"{outcomes.records / clock.phases[-1][1]:,.0f} events/s; counted {outcomes.counted:,}, "
        f"ignored {outcomes.ignored:,}, duplicates {outcomes.duplicate:,}; series {len(timeline):,}; "
        f"samples to write {expected:,}",
    )
    if expected > max_samples:
        raise ValueError(
            f"{expected:,} samples is over --max-samples {max_samples:,.0f} (≈{expected * 100 / 1e9:.0f} GB "
            "of OpenMetrics, promtool needs about as much memory): use a larger --step"
        )
    om = work / "fleet.om"
    stats = clock.run("write OpenMetrics", lambda: write_openmetrics(timeline, last, om))
    say(out, f"  samples {stats.samples:,} ({size_mb(om):,.0f} MB)")
    tsdb = work / "tsdb"
    first, last_second = stats.first_step * step, stats.last_step * step
    clock.run("promtool create-blocks", lambda: create_blocks(om, tsdb, first, last_second))
    om.unlink()
    say(
        out,
        f"  TSDB {size_mb(tsdb):,.0f} MB in {sum(1 for _ in tsdb.glob('*/meta.json'))} block(s) "
        f"(--max-block-duration={block_duration(first * 1000, last_second * 1000)})",
    )
    return tsdb, written.records


def _verify(config: FleetConfig, truth: GroundTruth, tsdb: Path, work: Path, out: TextIO | None) -> None:
    with LocalPrometheus(tsdb, work) as prometheus:
        span = f"{int((config.end - config.start).total_seconds())}s"
        reply = requests.get(
            f"{prometheus.url}/api/v1/query",
            params={
                "query": f'sum(increase(codex_tokens_total{{type="input"}}[{span}]))',
                "time": config.end.timestamp(),
            },
            timeout=120,
        ).json()
    got = float(reply["data"]["result"][0]["value"][1])
    want = truth.total("input_tokens", config.start, config.end)
    say(
        out,
        f"verify: input tokens from Prometheus {got:,.0f}, ground truth {want:,} -> "
        f"{'equal' if got == want else 'DIFFERENT'}",
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--developers", type=int, default=TARGET_FLEET[0])
    parser.add_argument("--days", type=float, default=TARGET_FLEET[1])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--step", type=int, default=900, help="backfill grid in seconds (default 900)")
    parser.add_argument(
        "--max-samples", type=float, default=150e6, help="stop before writing more samples (default 150M)"
    )
    parser.add_argument(
        "--verify", action="store_true", help="start Prometheus and compare input tokens with the truth"
    )
    args = parser.parse_args()
    try:
        figures = measure(args.developers, args.days, args.step, args.seed, args.max_samples, args.verify, sys.stdout)
    except ValueError as exc:
        print(f"stopped: {exc}")
        return 1
    print_report(figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
