"""Time to simulate and backfill a synthetic fleet (default: 500 developers × 30 days; target < 2 min).

Phases, each timed: (1) simulate → OTLP/JSON lines (the Collector file-exporter shape), (2) read,
decode and aggregate them into the backfill timeline (the same pipeline as ingest), (3) write the
dense OpenMetrics file, (4) promtool create-blocks.  Prints events, requests, series, samples and
sizes.  Before (3) it estimates the samples from the timeline; above --max-samples it stops there and
prints the estimate (promtool holds the whole file in memory).  --verify starts Prometheus on the
blocks and compares total input tokens with the ground truth.

    python bench/bench_simulate_backfill.py [--developers 500] [--days 30] [--step 60] [--verify]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import requests  # noqa: E402
from prometheus_fleet import PrometheusServer, require_binaries  # noqa: E402  (the tests' real-Prometheus runner)

from codex_bot.telemetry.backfill import aggregate_files, end_step  # noqa: E402
from codex_bot.telemetry.labels import UserLabelRule  # noqa: E402
from codex_bot.telemetry.openmetrics import write_openmetrics  # noqa: E402
from codex_bot.telemetry.promtool import block_duration, create_blocks  # noqa: E402
from codex_bot.telemetry.runtime import tune_gc  # noqa: E402
from codex_bot.telemetry.series import new_cells, sample_values  # noqa: E402
from codex_bot.telemetry.simulate import FleetConfig, next_full_hour, simulate  # noqa: E402
from codex_bot.telemetry.simulate_output import write_files  # noqa: E402
from codex_bot.telemetry.timeline import Timeline  # noqa: E402
from codex_bot.telemetry.truth import GroundTruth  # noqa: E402

TARGET_SECONDS = 120.0


class Clock:
    def __init__(self) -> None:
        self.phases: list[tuple[str, float]] = []

    def run(self, name: str, action):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        result = action()
        self.phases.append((name, time.perf_counter() - started))
        print(f"  {name:<32} {self.phases[-1][1]:8.1f} s", flush=True)
        return result

    @property
    def total(self) -> float:
        return sum(seconds for _, seconds in self.phases)


def estimated_samples(timeline: Timeline, last: int) -> int:
    """Sample lines the dense OpenMetrics file will hold (every series from one step before its birth to ``last``)."""
    total = 0
    for series, deltas in enumerate(timeline.deltas):
        family = timeline.index.families[series]
        lines = len(sample_values(family, new_cells(family)))
        total += lines * max(0, last - min(deltas) + 2)
    return total


def size_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6 if path.is_dir() else path.stat().st_size / 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--developers", type=int, default=500)
    parser.add_argument("--days", type=float, default=30.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--step", type=int, default=60, help="backfill grid in seconds (default 60)")
    parser.add_argument("--max-samples", type=float, default=150e6, help="stop before writing more samples (default 150M)")
    parser.add_argument("--work", type=Path, help="work folder (default: a temporary one, removed at the end)")
    parser.add_argument("--verify", action="store_true", help="start Prometheus and compare input tokens with the truth")
    args = parser.parse_args()

    work = args.work or Path(tempfile.mkdtemp(prefix="bench-fleet-"))
    config = FleetConfig(developers=args.developers, days=args.days, seed=args.seed,
                         end=next_full_hour(datetime.now(timezone.utc)))
    print(f"fleet: {config.developers} developers × {config.days:g} days, step {args.step} s, work {work}")
    print(f"load average at start: {_load()}")
    clock = Clock()
    truth = GroundTruth() if args.verify else None
    events = simulate(config) if truth is None else (truth.add(e) or e for e in simulate(config))
    written = clock.run("simulate → OTLP/JSON lines", lambda: write_files(events, work / "otlp", jsonl=True))
    tune_gc()  # as `codex-bot backfill` does
    timeline, outcomes, _, _ = clock.run("read + decode + aggregate", lambda: aggregate_files(
        written.paths, args.step, config.end.timestamp(), UserLabelRule(), 10_000_000, 10_000_000))
    last = end_step(config.end.timestamp(), args.step)
    expected = estimated_samples(timeline, last)
    print(f"  events {written.records:,} in {written.requests:,} requests ({written.bytes / 1e6:,.0f} MB), "
          f"{outcomes.records / clock.phases[-1][1]:,.0f} events/s; "
          f"counted {outcomes.counted:,}, ignored {outcomes.ignored:,}, duplicates {outcomes.duplicate:,}")
    steps = int(config.days * 86400 // args.step)
    print(f"  series {len(timeline):,}; samples to write {expected:,} (≈{expected / steps:,.0f} per step)")
    if expected > args.max_samples:
        print(f"stopped: {expected:,} samples is over --max-samples {args.max_samples:,.0f} "
              f"(≈{expected * 75 / 1e9:.0f} GB of OpenMetrics, promtool needs about as much memory)")
        _finish(clock, args.work is None, work)
        return 1
    om = work / "fleet.om"
    stats = clock.run("write OpenMetrics", lambda: write_openmetrics(timeline, last, om))
    print(f"  samples {stats.samples:,} ({size_mb(om):,.0f} MB)")
    tsdb = work / "tsdb"
    first, last_second = stats.first_step * args.step, stats.last_step * args.step
    clock.run("promtool create-blocks", lambda: create_blocks(om, tsdb, first, last_second))
    om.unlink()
    blocks = sum(1 for _ in tsdb.glob("*/meta.json"))
    print(f"  TSDB {size_mb(tsdb):,.0f} MB in {blocks} block(s) "
          f"(--max-block-duration={block_duration(first * 1000, last_second * 1000)})")
    if truth is not None:
        _verify(config, truth, tsdb, work)
    _finish(clock, args.work is None, work)
    return 0


def _verify(config: FleetConfig, truth: GroundTruth, tsdb: Path, work: Path) -> None:
    server = PrometheusServer(require_binaries()[0], tsdb, work)
    url = server.start()
    try:
        span = f"{int((config.end - config.start).total_seconds())}s"
        reply = requests.get(f"{url}/api/v1/query", params={
            "query": f'sum(increase(codex_tokens_total{{type="input"}}[{span}]))', "time": config.end.timestamp()},
            timeout=120).json()
        got = float(reply["data"]["result"][0]["value"][1])
        want = truth.total("input_tokens", config.start, config.end)
        print(f"verify: input tokens from Prometheus {got:,.0f}, ground truth {want:,} -> {'equal' if got == want else 'DIFFERENT'}")
    finally:
        server.stop()


def _load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def _finish(clock: Clock, remove: bool, work: Path) -> None:
    verdict = "met" if clock.total < TARGET_SECONDS else "missed"
    print(f"total {clock.total:.1f} s (target < {TARGET_SECONDS:.0f} s: {verdict}); load average at end: {_load()}")
    if remove:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
