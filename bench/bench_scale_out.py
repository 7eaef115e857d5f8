"""Scale-out figures: what a fleet of --target developers (default 10,000) asks of ingest, the metrics
store, the bot's queries and its state, measured on smaller simulated fleets and extrapolated.

For each --developers size: ``simulate`` the fleet (--days, all in one timezone, so the working-hours
peak is as sharp as it gets), send it through ``backfill --to-url`` into a real single-node
VictoriaMetrics (sampled every --step seconds), then measure
  * events: log records per developer-day, and the busiest hour's records/s;
  * series: contract series (backfill's count) and the sample series VictoriaMetrics holds;
  * the heaviest panel over 7d (median of --runs, slowest of the catalog) and the default digest's
    panels over 7d with ``run_many`` (the digest's queries, charts not drawn);
  * a digest's state rows: its slot, per message a delivery and a message reference, a row per chart.
The extrapolation is stated, not hidden: events and series scale with developers (fitted through
the measured sizes); query time scales with the samples a window reads, i.e. with developers and
with samples per series (--step here vs a real --scrape interval), assuming the linear growth seen
between the measured sizes holds.  Nothing here measures a cluster; it measures one node's work.

    python bench/bench_scale_out.py [--developers 100,400] [--days 7] [--step 600] [--scrape 60]
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo

from common import Figure, cpu_ms, median_ms, run_alone, say

from codex_bot.charts.local_renderer import LocalRenderer
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
from codex_bot.simulate.fleet import FleetConfig, next_full_hour, simulate
from codex_bot.simulate.output import write_files
from codex_bot.telemetry.backfill import backfill
from codex_bot.telemetry.labels import UserLabelRule

UTC = ZoneInfo("UTC")


@dataclass(frozen=True)
class Size:
    developers: int
    records: int
    peak_per_second: float  # the busiest hour's records / 3600
    series: int  # contract series
    sample_series: int  # series VictoriaMetrics holds (a histogram is 16)
    samples: int
    heaviest_ms: float
    heaviest: str
    heaviest_cpu: tuple[float, float]  # CPU ms per run: VictoriaMetrics, the bot (this process)
    digest_ms: float
    digest_rows: int
    backfill_s: float


def measure_size(developers: int, days: float, step: int, runs: int, work: Path, renderer_url: str) -> Size:
    end = next_full_hour(datetime.now(UTC))
    events = list(simulate(FleetConfig(developers=developers, days=days, end=end, seed=16)))
    hours = Counter(event.time_ms // 3_600_000 for event in events)
    written = write_files(events, work / "otlp", jsonl=True)
    del events
    server = LocalVictoriaMetrics(work / "data", work)
    url = server.start()
    client = PrometheusClient(url, timeout=120)
    try:
        report = backfill(written.paths, None, step=step, end=end.timestamp(), rule=UserLabelRule(), to_url=url)
        sample_series = int(client.query('count({__name__=~"codex_.+"})', end)[0].value)
        panels = Panels(client, UTC, load_prices())
        times = {}
        for panel in PANELS:
            request = PanelRequest(panel.name, "7d")
            panels.run(request, end)
            times[panel.name] = median_ms(lambda r=request: panels.run(r, end), runs)
        heaviest = max(times, key=times.__getitem__)
        heaviest_cpu = cpu_per_run(panels, PanelRequest(heaviest, "7d"), end, server.pid, runs)
        definition = DigestDefinition(name="scale", channel="#scale", schedule=f"0 {end.hour} * * *", range="7d")
        every = [PanelRequest(name, "7d") for name in definition.panels]
        panels.run_many(every, end)
        digest_ms = median_ms(lambda: panels.run_many(every, end), runs)
        messages = digest_messages(
            DigestComposer(panels, ChartRenderer(renderer_url, timeout=60)).build(definition, end), source="bench"
        )
        rows = 1 + 2 * len(messages.all()) + sum(len(m.charts) for m in messages.all())
    finally:
        client.close()
        server.stop()
        shutil.rmtree(work / "data", ignore_errors=True)
    return Size(
        developers,
        written.records,
        max(hours.values()) / 3600,
        report.series,
        sample_series,
        report.samples,
        times[heaviest],
        heaviest,
        heaviest_cpu,
        digest_ms,
        rows,
        report.seconds,
    )


def cpu_per_run(
    panels: Panels, request: PanelRequest, end: datetime, pid: int | None, runs: int
) -> tuple[float, float]:
    """CPU ms one answer costs VictoriaMetrics and this process: which of the two bounds the panel."""
    server, own = cpu_ms(pid), time.process_time()
    for _ in range(runs):
        panels.run(request, end)
    return (cpu_ms(pid) - server) / runs, (time.process_time() - own) * 1000 / runs


def fit(xs: list[float], ys: list[float], x: float) -> float:
    """The straight line through the measured points (least squares), at ``x``."""
    if len(xs) == 1:
        return ys[0] * x / xs[0]
    slope, intercept = statistics.linear_regression(xs, ys)
    return intercept + slope * x


def measure(
    developers: str, target: int, days: float, step: int, scrape: int, runs: int, out: TextIO | None = None
) -> list[Figure]:
    """``scrape``: the scrape interval (s) the extrapolation assumes."""
    work = Path(tempfile.mkdtemp(prefix="codex-bot-scale-"))
    sizes: list[Size] = []
    try:
        with LocalRenderer() as renderer:
            for n in map(int, developers.split(",")):
                size = measure_size(n, days, step, runs, work, renderer.url)
                sizes.append(size)
                say(
                    out,
                    f"{n:>6} developers: {size.records:,} records ({size.records / n / days:.0f} per developer-day, "
                    f"peak {size.peak_per_second:.1f}/s), {size.series:,} series ({size.sample_series:,} in VM), "
                    f"{size.samples / 1e6:.1f} M samples sent in {size.backfill_s:.0f} s; heaviest panel 7d "
                    f"{size.heaviest} {size.heaviest_ms:.0f} ms (CPU: VictoriaMetrics {size.heaviest_cpu[0]:.0f} ms, "
                    f"bot {size.heaviest_cpu[1]:.0f} ms); digest panels 7d {size.digest_ms:.0f} ms; "
                    f"digest state rows {size.digest_rows}",
                )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    xs, density = [float(s.developers) for s in sizes], step / scrape

    def at_target(values: list[float]) -> float:
        return fit(xs, values, target)

    heaviest = sizes[-1].heaviest
    figures = [
        Figure(
            f"events/s at {target:,} developers, busiest hour (extrapolated)",
            at_target([s.peak_per_second for s in sizes]),
            "events/s",
            None,
            f"measured {', '.join(f'{s.peak_per_second:.1f}/s at {s.developers}' for s in sizes)}; all in one timezone; "
            f"day average {at_target([s.records / days / 86400 for s in sizes]):.0f}/s",
        ),
        Figure(
            f"contract series at {target:,} developers (extrapolated)",
            at_target([s.series for s in sizes]),
            "series",
            None,
            f"sample series in VM {at_target([s.sample_series for s in sizes]):,.0f}; measured "
            + ", ".join(f"{s.series:,} ({s.sample_series:,}) at {s.developers}" for s in sizes),
        ),
        Figure(
            f"heaviest panel 7d at {target:,} developers, {scrape} s samples (extrapolated)",
            at_target([s.heaviest_ms for s in sizes]) * density,
            "ms",
            None,
            f"{heaviest}; measured "
            + ", ".join(f"{s.heaviest_ms:.0f} ms at {s.developers}" for s in sizes)
            + f" with {step} s samples; × {density:g} for {scrape} s samples",
        ),
        Figure(
            f"digest panels 7d at {target:,} developers, {scrape} s samples (extrapolated)",
            at_target([s.digest_ms for s in sizes]) * density,
            "ms",
            None,
            "measured "
            + ", ".join(f"{s.digest_ms:.0f} ms at {s.developers}" for s in sizes)
            + f"; × {density:g} for {scrape} s samples",
        ),
        Figure(
            "state rows per digest post (counted from the composed messages: slot + delivery and reference per message + charts; independent of developers)",
            sizes[-1].digest_rows,
            "rows",
            None,
            "1 slot + (delivery + message reference) per message + 1 per chart",
        ),
    ]
    return figures


if __name__ == "__main__":
    started = time.monotonic()
    run_alone(
        __doc__, measure, shared=False, developers="100,400", target=10_000, days=7.0, step=600, scrape=60, runs=3
    )
    print(f"bench took {time.monotonic() - started:.0f} s")
