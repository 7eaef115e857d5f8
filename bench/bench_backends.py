"""Panel answer time on VictoriaMetrics vs Prometheus for the same fleet, side by side as ratios.

The shared context's fleet (the demo's 25 developers × 30 days, backfilled into Prometheus) is sent with
the same backfill (``codex-bot backfill --to-url``) to a real single-node VictoriaMetrics started here.
For every panel of the catalog over each --ranges entry: the median wall time of ``Panels.run`` after one
warm-up on each backend, and VictoriaMetrics ÷ Prometheus; then every panel at once with ``run_many`` and
a whole default digest (charts included).  Both servers and the bot share this machine's cores, so the
ratios say which store answers the bot's PromQL faster here, not how either scales.  No issue names a
target: the figures are recorded as measured.

    python bench/bench_backends.py [--runs 5] [--ranges 24h,7d,30d]
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo

from common import Context, Figure, median_ms, run_alone, say

from codex_bot.charts.renderer import ChartRenderer
from codex_bot.demo.victoriametrics import LocalVictoriaMetrics
from codex_bot.digests.compose import DigestComposer
from codex_bot.digests.definitions import DigestDefinition
from codex_bot.digests.layout import digest_messages
from codex_bot.metrics.client import PrometheusClient
from codex_bot.panels.catalog import PANELS
from codex_bot.panels.cost import load_prices
from codex_bot.panels.request import PanelRequest
from codex_bot.panels.service import Panels
from codex_bot.telemetry.backfill import backfill
from codex_bot.telemetry.labels import UserLabelRule

UTC = ZoneInfo("UTC")
BACKENDS = ("prometheus", "victoriametrics")


def folder_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20


def load_victoriametrics(ctx: Context, stack: ExitStack, out: TextIO | None) -> str:
    """Start VictoriaMetrics and send it the shared fleet's OTLP files through backfill --to-url."""
    work = ctx.workdir / "victoriametrics"
    server = LocalVictoriaMetrics(work / "data", work)
    stack.callback(server.stop)
    url = server.start()
    files = sorted((ctx.workdir / "otlp").iterdir())
    report = backfill(files, None, step=ctx.step, end=ctx.at.timestamp(), rule=UserLabelRule(), to_url=url)
    say(
        out,
        f"backfill --to-url: {report.series:,} series, {report.samples / 1e6:.1f} M samples in "
        f"{report.seconds:.1f} s; on disk: VictoriaMetrics {folder_mb(work / 'data'):.0f} MB after a flush, "
        f"Prometheus TSDB {folder_mb(ctx.workdir / 'tsdb'):.0f} MB",
    )
    return url


def digest_action(panels: Panels, ctx: Context, at: datetime) -> Callable[[], object]:
    composer = DigestComposer(panels, ChartRenderer(ctx.renderer_url, timeout=30))
    definition = DigestDefinition(name="bench", channel="#bench", schedule=f"0 {at.hour} * * *", range="7d")
    return lambda: digest_messages(composer.build(definition, at), source="bench")


def measure(ctx: Context, runs: int = 5, ranges: str = "24h,7d,30d", out: TextIO | None = None) -> list[Figure]:
    range_list, at = ranges.split(","), ctx.at
    with ExitStack() as stack:
        urls = {"prometheus": ctx.prometheus_url, "victoriametrics": load_victoriametrics(ctx, stack, out)}
        clients = {name: PrometheusClient(url, timeout=60) for name, url in urls.items()}
        for client in clients.values():
            stack.callback(client.close)
        panels = {name: Panels(client, UTC, load_prices()) for name, client in clients.items()}

        def timed(backend: str, action: Callable[[Panels], object]) -> float:
            action(panels[backend])  # warm-up
            return median_ms(lambda: action(panels[backend]), runs)

        say(out, f"{'panel':<14}{'range':>6}{'Prometheus ms':>15}{'VM ms':>9}{'VM ÷ Prom':>11}   (medians of {runs})")
        ratios: dict[str, list[float]] = {r: [] for r in range_list}
        for panel in PANELS:
            for range_text in range_list:
                request = PanelRequest(panel.name, range_text)
                prom, vm = (timed(b, lambda p, r=request: p.run(r, at)) for b in BACKENDS)
                ratios[range_text].append(vm / prom)
                say(out, f"{panel.name:<14}{range_text:>6}{prom:>15.1f}{vm:>9.1f}{vm / prom:>10.2f}×")
        every = [PanelRequest(panel.name, range_list[-1]) for panel in PANELS]
        many = {b: timed(b, lambda p: p.run_many(every, at)) for b in BACKENDS}
        digest = {b: timed(b, lambda p: digest_action(p, ctx, at)()) for b in BACKENDS}
    say(
        out,
        f"all {len(every)} panels ({range_list[-1]}) run_many: Prometheus {many['prometheus']:.0f} ms, "
        f"VictoriaMetrics {many['victoriametrics']:.0f} ms",
    )
    say(
        out,
        f"default digest (7d, charts included): Prometheus {digest['prometheus']:.0f} ms, "
        f"VictoriaMetrics {digest['victoriametrics']:.0f} ms",
    )
    figures = [
        Figure(
            f"VictoriaMetrics ÷ Prometheus, panel answer ({r}), geometric mean",
            _geomean(v),
            "×",
            None,
            f"{len(v)} panels; per panel from {min(v):.2f}× to {max(v):.2f}×",
        )
        for r, v in ratios.items()
    ]
    figures.append(
        Figure(
            f"VictoriaMetrics ÷ Prometheus, all panels run_many ({range_list[-1]})",
            many["victoriametrics"] / many["prometheus"],
            "×",
            None,
            f"{many['victoriametrics']:.0f} ms vs {many['prometheus']:.0f} ms",
        )
    )
    figures.append(
        Figure(
            "VictoriaMetrics ÷ Prometheus, default digest (7d)",
            digest["victoriametrics"] / digest["prometheus"],
            "×",
            None,
            f"{digest['victoriametrics']:.0f} ms vs {digest['prometheus']:.0f} ms; charts rendered too",
        )
    )
    return figures


def _geomean(values: list[float]) -> float:
    return math.exp(statistics.fmean(math.log(v) for v in values))


if __name__ == "__main__":
    started = time.monotonic()
    run_alone(__doc__, measure, runs=5, ranges="24h,7d,30d")
    print(f"bench took {time.monotonic() - started:.0f} s")
