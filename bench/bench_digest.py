"""Digest build time next to its slowest single panel (target: full digest ≤ 1.5 × slowest panel).

Setup: the shared context (bench/common.py: the demo's simulated fleet in a real Prometheus, the
bundled chart renderer).  The digest is the default one (11 panels, 3 charts) over --range as of
the fleet's end, composed and laid out as it would be posted (nothing is sent).  A "single panel" is
what ``/codex <panel>`` costs: ``Panels.run`` plus its chart when the digest charts it.  Rounds time
every panel alone, then the full digest; figures are medians over --runs rounds after one warm-up
round (interleaved, so a busy machine slows both alike).  Each call's CPU time is read too, per
process (Prometheus, the renderer, this one): on a small machine a digest cannot beat its total CPU
divided by the cores, so that floor is printed next to the ratio.  A digest reads each counter once
per period (``codex_bot/panels/combined.py``), so it costs less than its panels run one by one.

    python bench/bench_digest.py [--runs 7] [--range 7d]
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import TextIO
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
from codex_bot.digests.compose import DigestComposer
from codex_bot.digests.definitions import DigestDefinition
from codex_bot.digests.layout import digest_messages
from codex_bot.metrics.client import PrometheusClient
from codex_bot.panels.cost import load_prices
from codex_bot.panels.request import PanelRequest
from codex_bot.panels.service import Panels

TARGET_RATIO = 1.5
UTC = ZoneInfo("UTC")
Cost = tuple[float, dict[str, float]]  # wall ms, CPU ms per process


def single_panel(panels: Panels, renderer: ChartRenderer, request: PanelRequest, at: datetime, charted: bool) -> None:
    result = panels.run(request, at)
    config = chart_config(result, UTC) if charted else None
    if config is not None:
        renderer.png(config)


def costed(action: Callable[[], object], pids: dict[str, int | None]) -> Cost:
    """Wall ms of ``action`` and the CPU ms each process in ``pids`` and this one (``python``) spent on it."""
    before, own = {name: cpu_ms(pid) for name, pid in pids.items()}, time.process_time()
    wall = timed_ms(action)
    spent = {name: cpu_ms(pid) - before[name] for name, pid in pids.items()}
    return wall, {**spent, "python": (time.process_time() - own) * 1000}


def summary(costs: list[Cost]) -> Cost:
    """Median wall time; mean CPU per process (CPU clocks tick every 10 ms, a mean resolves finer)."""
    cpu = {name: statistics.fmean(c[name] for _, c in costs) for name in costs[0][1]}
    return statistics.median(wall for wall, _ in costs), cpu


def measure(ctx: Context, runs: int = 7, range_text: str = "7d", out: TextIO | None = None) -> list[Figure]:
    client = PrometheusClient(ctx.prometheus_url, timeout=30)
    panels, renderer = Panels(client, UTC, load_prices()), ChartRenderer(ctx.renderer_url, timeout=30)
    at = ctx.at
    definition = DigestDefinition(name="bench", channel="#bench", schedule=f"0 {at.hour} * * *", range=range_text)
    composer = DigestComposer(panels, renderer)
    pids = {"prometheus": ctx.prometheus_pid, "renderer": ctx.renderer_pid}
    names = list(dict.fromkeys([*definition.panels, *definition.charts]))
    singles: dict[str, list[Cost]] = {name: [] for name in names}
    full: list[Cost] = []
    for round_ in range(runs + 1):  # rounds interleave singles and the full digest (fair on a busy machine)
        alone = {
            name: costed(
                partial(single_panel, panels, renderer, PanelRequest(name, range_text), at, name in definition.charts),
                pids,
            )
            for name in names
        }
        whole = costed(lambda: digest_messages(composer.build(definition, at), source="bench"), pids)
        if round_:  # the first round warms up
            full.append(whole)
            for name, cost in alone.items():
                singles[name].append(cost)
    client.close()
    medians = {name: summary(costs) for name, costs in singles.items()}
    slowest = max(medians, key=lambda name: medians[name][0])
    (full_ms, full_cpu), (slow_ms, slow_cpu) = summary(full), medians[slowest]
    cores = os.cpu_count() or 1
    for name in names:
        say(out, f"{name:<14} {medians[name][0]:>7.1f} ms alone{'  (+ chart)' if name in definition.charts else ''}")
    for label, cpu in ((f"{slowest} alone", slow_cpu), ("full digest", full_cpu)):
        say(
            out,
            f"CPU ms per run, {label}: "
            + ", ".join(f"{k} {v:.0f}" for k, v in cpu.items())
            + f"; total / {cores} cores {sum(cpu.values()) / cores:.0f}",
        )
    full_work = sum(full_cpu.values())
    return [
        Figure(
            f"digest ÷ slowest single panel ({range_text})",
            full_ms / slow_ms,
            "×",
            at_most(TARGET_RATIO),
            f"digest of {len(definition.panels)} panels + {len(definition.charts)} charts {full_ms:.0f} ms "
            f"(CPU {full_work:.0f} ms ÷ {cores} cores ≈ {full_work / cores:.0f} ms: CPU-bound) vs {slowest} "
            f"alone {slow_ms:.0f} ms; panels alone one after another {sum(m[0] for m in medians.values()):.0f} ms; "
            f"medians of {runs}",
        ),
        Figure(
            f"least possible digest ÷ slowest panel here ({range_text})",
            full_work / cores / slow_ms,
            "×",
            None,
            f"the digest's CPU ({full_work:.0f} ms: Prometheus, renderer and bot) ÷ {cores} cores ÷ {slowest} alone: "
            "no scheduling can beat it on this machine",
        ),
    ]


if __name__ == "__main__":
    run_alone(__doc__, measure, runs=7, range="7d")
