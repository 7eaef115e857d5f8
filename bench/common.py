"""What every bench shares: the Figure each one returns, the machine and its load, the report table,
and the shared context (one simulated fleet backfilled into a real Prometheus, plus the bundled chart
renderer) that ``run_all.py`` builds once and a bench run alone builds for itself.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal, TextIO

from codex_bot.charts.local_renderer import LocalRenderer
from codex_bot.demo import fleet as demo_fleet
from codex_bot.demo.prometheus import LocalPrometheus
from codex_bot.simulate.fleet import next_full_hour
from codex_bot.telemetry.labels import UserLabelRule
from codex_bot.telemetry.runtime import tune_gc

REPO = Path(__file__).resolve().parents[1]
TICK_MS = 1000 / os.sysconf("SC_CLK_TCK")


# --- figures ---


@dataclass(frozen=True)
class Target:
    """A figure's target: ``value op limit``."""

    op: Literal["<=", "<", ">="]
    limit: float

    def met(self, value: float) -> bool:
        return {"<=": value <= self.limit, "<": value < self.limit, ">=": value >= self.limit}[self.op]

    def text(self, unit: str) -> str:
        symbol = {"<=": "≤", "<": "<", ">=": "≥"}[self.op]
        return f"{symbol} {self.limit:,g} {unit}".strip()


def at_most(limit: float) -> Target:
    return Target("<=", limit)


def below(limit: float) -> Target:
    return Target("<", limit)


def at_least(limit: float) -> Target:
    return Target(">=", limit)


@dataclass(frozen=True)
class Figure:
    """One measured figure; ``target`` None when no issue names one (then ``note`` says what it is)."""

    name: str
    value: float
    unit: str
    target: Target | None = None
    note: str = ""

    @property
    def met(self) -> bool | None:
        return None if self.target is None else self.target.met(self.value)


def number(value: float) -> str:
    """Three significant digits or so, thousands separated: 0.42, 4.2, 42.0, 420, 4,200."""
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def table(figures: Sequence[Figure]) -> str:
    """The figures as a Markdown table: figure | measured | target | met? | notes."""
    rows = ["| figure | measured | target | met? | notes |", "|---|---:|---|---|---|"]
    for f in figures:
        met = "—" if f.met is None else "yes" if f.met else "**NO**"
        target = f.target.text(f.unit) if f.target else "—"
        rows.append(f"| {f.name} | {number(f.value)} {f.unit} | {target} | {met} | {f.note} |")
    return "\n".join(rows)


def print_report(figures: Sequence[Figure], out: TextIO | None = None) -> None:
    print("\n" + table(figures) + f"\n\n{machine()}; load average now: {load_average()}", file=out, flush=True)


# --- measuring ---


def timed_ms(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000


def median_ms(action: Callable[[], object], runs: int) -> float:
    return statistics.median(timed_ms(action) for _ in range(runs))


def cpu_ms(pid: int | None) -> float:
    """CPU time (user + system) process ``pid`` has used so far; 0 when unknown."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * TICK_MS


def memory_mb(pid: int, field: str = "VmRSS") -> float:
    """``VmRSS`` (resident now) or ``VmHWM`` (peak resident) of process ``pid``, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise ValueError(f"no {field} for process {pid}")


@contextmanager
def tuned_gc() -> Iterator[None]:
    """The garbage collector tuned as ``codex-bot ingest`` and ``backfill`` tune it, restored afterwards
    (the other benches in the same process measure the bot, which runs untuned)."""
    threshold = gc.get_threshold()
    tune_gc()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)


def run_alone(
    doc: str | None, measure: Callable[..., list[Figure]], *, shared: bool = True, **options: int | float | str
) -> None:
    """A bench run by itself: each option (``name=default``) read as ``--name``, then
    ``measure(context, *options, out)`` on a shared context of its own (``shared=False``: a bench that
    needs no fleet, ``measure(*options, out)``), its details and table printed."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    for name, default in options.items():
        parser.add_argument(f"--{name}", type=type(default), default=default)
    values = vars(parser.parse_args()).values()
    if not shared:
        print_report(measure(*values, sys.stdout))
        return
    with shared_context(out=sys.stdout) as ctx:
        print_report(measure(ctx, *values, sys.stdout))


def say(out: TextIO | None, text: str) -> None:
    """A detail line, printed only when the bench runs alone (``out`` is None in the combined run)."""
    if out is not None:
        print(text, file=out, flush=True)


# --- the machine ---


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def machine() -> str:
    """Cores, CPU model, memory and OS of this machine, in one line."""
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.machine(),
    )
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores ({model}), {memory:.0f} GiB RAM, {platform.system()} {platform.release()}"


# --- the shared context ---


@dataclass(frozen=True)
class FleetBuild:
    """How the shared fleet was made: simulate + backfill, timed."""

    developers: int
    days: float
    step: int
    events: int
    series: int
    samples: int
    seconds: float


@dataclass(frozen=True)
class Context:
    """A real Prometheus over the backfilled fleet and the bundled chart renderer, as of ``at``."""

    prometheus_url: str
    renderer_url: str
    prometheus_pid: int | None
    renderer_pid: int | None
    at: datetime  # the fleet's end ("now" of every bench), on the backfill grid
    build: FleetBuild
    workdir: Path

    @property
    def step(self) -> int:
        return self.build.step


FLEET_DEVELOPERS, FLEET_DAYS, FLEET_STEP, FLEET_SEED = 25, 30.0, 300, 20261127  # the demo's fleet


@contextmanager
def shared_context(
    developers: int = FLEET_DEVELOPERS, days: float = FLEET_DAYS, step: int = FLEET_STEP, out: TextIO | None = None
) -> Iterator[Context]:
    """Simulate the demo's fleet (planted incidents included), backfill it, start Prometheus and the renderer;
    everything started is stopped and the working folder removed on exit."""
    work = Path(tempfile.mkdtemp(prefix="codex-bot-bench-"))
    with ExitStack() as stack:
        stack.callback(shutil.rmtree, work, ignore_errors=True)
        at = next_full_hour(datetime.now(UTC))
        fleet = demo_fleet.plan(developers, days, FLEET_SEED, at, "UTC", (at - timedelta(days=1), at))
        say(out, f"building the shared fleet: {developers} developers × {days:g} days, step {step} s …")
        started = time.perf_counter()
        written, report = demo_fleet.build(fleet, work, step, UserLabelRule())
        build = FleetBuild(
            developers, days, step, written.records, report.series, report.samples, time.perf_counter() - started
        )
        prometheus = LocalPrometheus(work / "tsdb", work)
        stack.callback(prometheus.stop)
        prometheus_url = prometheus.start()
        renderer = LocalRenderer()
        stack.callback(renderer.stop)
        renderer_url = renderer.start()
        yield Context(prometheus_url, renderer_url, prometheus.pid, renderer.pid, at, build, work)
