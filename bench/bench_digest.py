"""Digest build time next to its slowest single panel (target: full digest ≤ 1.5 × slowest panel).

Setup: the synthetic test fleet (tests/prometheus_fleet.py: ~12 developers × 8 days) backfilled into
the real Prometheus, and the bundled chart renderer.  The digest is the default one (11 panels, 3
charts) over --range as of the fleet's end, composed and laid out as it would be posted (nothing is
sent).  A "single panel" is what ``/codex <panel>`` costs: ``Panels.run`` plus its chart when the digest
charts it.  It also prints the CPU time each process spends per run (Prometheus, the renderer,
this process): on a small machine the full digest is bound by its total CPU / cores.  Rounds time every panel alone, then the full digest; figures are medians over --runs
rounds after one warm-up round (interleaved, so a busy machine slows both alike).

    python bench/bench_digest.py [--runs 7] [--range 7d]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from bench_charts import cpu_ms  # bench/ is on sys.path when this runs as a script
from prometheus_fleet import PrometheusServer, build_fleet, require_binaries

from codex_bot.charts.local_renderer import LocalRenderer
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


def elapsed_ms(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return (time.perf_counter() - start) * 1000


def single_panel(panels: Panels, renderer: ChartRenderer, request: PanelRequest, at, charted: bool) -> None:
    result = panels.run(request, at)
    config = chart_config(result, UTC) if charted else None
    if config is not None:
        renderer.png(config)


def cpu_cost(action: Callable[[], object], pids: dict[str, int | None], runs: int) -> dict[str, float]:
    """CPU ms per run of ``action`` spent by each process in ``pids`` and by this one (``python``)."""
    before = {name: cpu_ms(pid) for name, pid in pids.items()}
    own = time.process_time()
    for _ in range(runs):
        action()
    spent = {name: (cpu_ms(pid) - before[name]) / runs for name, pid in pids.items()}
    return {**spent, "python": (time.process_time() - own) * 1000 / runs}


def bench(prometheus_url: str, renderer_url: str, at, range_text: str, runs: int,
          pids: dict[str, int | None]) -> None:
    client = PrometheusClient(prometheus_url, timeout=30)
    panels, renderer = Panels(client, UTC, load_prices()), ChartRenderer(renderer_url, timeout=30)
    definition = DigestDefinition(name="bench", channel="#bench", schedule=f"0 {at.hour} * * *", range=range_text)
    composer = DigestComposer(panels, renderer)
    print(f"digest: {len(definition.panels)} panels, charts {', '.join(definition.charts)}, range {range_text}, "
          f"median of {runs}")
    names = list(dict.fromkeys([*definition.panels, *definition.charts]))
    singles: dict[str, list[float]] = {name: [] for name in names}
    full: list[float] = []
    for round_ in range(runs + 1):  # rounds interleave singles and the full digest (fair on a busy machine)
        times = {name: elapsed_ms(partial(single_panel, panels, renderer, PanelRequest(name, range_text), at,
                                          name in definition.charts)) for name in names}
        whole = elapsed_ms(lambda: digest_messages(composer.build(definition, at), source="bench"))
        if round_:  # the first round warms up
            full.append(whole)
            for name, ms in times.items():
                singles[name].append(ms)
    medians = {name: statistics.median(values) for name, values in singles.items()}
    print(f"{'panel':<14} {'alone ms':>9}")
    for name in names:
        print(f"{name:<14} {medians[name]:>9.1f}{'  (+ chart)' if name in definition.charts else ''}")
    full_ms = statistics.median(full)
    slowest = max(medians, key=medians.get)  # type: ignore[arg-type]
    ratio = full_ms / medians[slowest]
    print(f"\nslowest single panel: {slowest} {medians[slowest]:.1f} ms")
    print(f"full digest:          {full_ms:.1f} ms  (sum of panels alone: {sum(medians.values()):.1f} ms)")
    verdict = "OK" if ratio <= TARGET_RATIO else "over target"
    print(f"ratio:                {ratio:.2f} × (target ≤ {TARGET_RATIO} ×) {verdict}")
    cores = os.cpu_count() or 1
    print(f"\nCPU ms per run ({cores} cores; the digest cannot beat its total CPU / cores):")
    costs = {
        f"{slowest} alone": cpu_cost(partial(single_panel, panels, renderer, PanelRequest(slowest, range_text), at,
                                             slowest in definition.charts), pids, runs),
        "full digest": cpu_cost(lambda: digest_messages(composer.build(definition, at), source="bench"), pids, runs),
    }
    print(f"{'':<14} " + " ".join(f"{name:>10}" for name in [*pids, "python", "total / cores"]))
    for label, cost in costs.items():
        print(f"{label:<14} " + " ".join(f"{v:>10.1f}" for v in cost.values()) + f" {sum(cost.values()) / cores:>13.1f}")
    client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--range", default="7d")
    args = parser.parse_args()
    prometheus_binary, _ = require_binaries()
    with tempfile.TemporaryDirectory() as work:
        print("building the fleet (simulate, backfill, start Prometheus)…", flush=True)
        config, _, _, tsdb = build_fleet(Path(work))
        server = PrometheusServer(prometheus_binary, tsdb, Path(work))
        url = server.start()
        try:
            with LocalRenderer() as local:
                at = config.end.replace(minute=0, second=0, microsecond=0)
                bench(url, local.url, at, args.range, args.runs,
                      {"prometheus": server.process.pid if server.process else None, "renderer": local.pid})
        finally:
            server.stop()


if __name__ == "__main__":
    main()
