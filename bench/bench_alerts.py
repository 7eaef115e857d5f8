"""One alert evaluation cycle of 200 rules next to its unique queries run bare (target ≤ 1.2×).

Setup: the synthetic test fleet (tests/prometheus_fleet.py) backfilled into the real Prometheus,
unless --prometheus points at one.  200 rules are generated over every single-number panel figure:
windows 15m/30m/1h/3h, no filter or one per model, some grouped by model, absolute and relative
(1d, 7d median) conditions, with and without a minimum volume — many share queries, as real rule
sets do.  A cycle is what the bot runs every interval: ``evaluate`` with the previous cycle's states
(so no look-back), which runs each unique PromQL once, concurrently, then computes every rule and
group.  "Bare" is the same unique queries sent with ``PrometheusClient.gather`` and nothing else.
Figures are medians over --runs rounds after one warm-up, interleaved.

    python bench/bench_alerts.py [--runs 15] [--rules 200] [--prometheus URL --at TIME]
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from prometheus_fleet import STEP_SECONDS, PrometheusServer, build_fleet, require_binaries  # noqa: E402

from codex_bot.alerts.evaluate import evaluate  # noqa: E402
from codex_bot.alerts.rules import Rule  # noqa: E402
from codex_bot.alerts.sampling import Sampler  # noqa: E402
from codex_bot.metrics.client import PrometheusClient, Sample  # noqa: E402
from codex_bot.metrics.ranges import parse_instant  # noqa: E402
from codex_bot.panels.catalog import PANELS  # noqa: E402
from codex_bot.panels.cost import load_prices  # noqa: E402

TARGET_RATIO = 1.2
WINDOWS = ("15m", "30m", "1h", "3h")
CONDITIONS = ("above 0", "below 1000000000", "rises 2x vs 1d", "rises 3x vs 7d median", "drops 50% vs 1d")


class RecordingClient(PrometheusClient):
    """A PrometheusClient that remembers every instant query it was asked (to replay them bare)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.asked: set[tuple[str, datetime]] = set()

    def query(self, promql: str, at: datetime) -> list[Sample]:
        self.asked.add((promql, at))
        return super().query(promql, at)


def make_rules(count: int, models: list[str]) -> list[Rule]:
    figures = [(panel, figure.key) for panel in PANELS for figure in panel.figures]
    combos = itertools.product(WINDOWS, CONDITIONS, figures, [None, *models], (False, True))
    rules = []
    for n, (window, condition, (panel, key), model, grouped) in enumerate(combos):
        if len(rules) == count:
            break
        if model and "model" not in panel.filters or grouped and ("model" not in panel.filters or model):
            continue
        fields = {"name": f"bench-{n}", "figure": f"{panel.name}.{key}", "window": window, "condition": condition,
                  "channel": "#bench", "filters": {"model": model} if model else {},
                  "group_by": ["model"] if grouped else []}
        if n % 3 == 0 and "model" in panel.filters:
            fields["min_volume"] = {"figure": "sessions.model_calls", "at_least": 5}
        rules.append(Rule.model_validate(fields))
    return rules


def timed_ms(action) -> float:
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000


def bench(url: str, at: datetime, count: int, runs: int) -> None:
    client = RecordingClient(url, timeout=60)
    prices = load_prices()
    interval = timedelta(seconds=STEP_SECONDS)
    rules = make_rules(count, client.label_values("model", ["codex_model_calls_total"])[:3])
    warm = evaluate(rules, at - interval, Sampler(client, prices), None, interval)
    previous = {(s.rule, s.key): s for s in warm.states}
    client.asked.clear()
    cycle = evaluate(rules, at, Sampler(client, prices), previous, interval)
    unique = sorted(client.asked)
    bare = {item: partial(PrometheusClient.query, client, *item) for item in unique}
    filled = Sampler(client, prices)
    evaluate(rules, at, filled, previous, interval)  # every answer now in memory
    cycles, bares, pythons = [], [], []
    for _ in range(runs):
        cycles.append(timed_ms(lambda: evaluate(rules, at, Sampler(client, prices), previous, interval)))
        bares.append(timed_ms(lambda: client.gather(bare, timeout=60)))
        pythons.append(timed_ms(lambda: evaluate(rules, at, filled, previous, interval)))
    cycle_ms, bare_ms = statistics.median(cycles), statistics.median(bares)
    ratio = cycle_ms / bare_ms
    groups = len(cycle.states)
    print(f"rules {len(rules)}, rule+group states {groups}, unique queries {len(unique)} "
          f"(a query per rule figure would be {sum(2 if r.min_volume else 1 for r in rules)} or more)")
    print(f"evaluation cycle  {cycle_ms:8.1f} ms  (median of {runs})")
    print(f"  of which Python {statistics.median(pythons):8.1f} ms  (rules, groups and states, answers in memory)")
    print(f"unique queries    {bare_ms:8.1f} ms  bare, same concurrency")
    print(f"ratio             {ratio:8.2f}×  (target ≤ {TARGET_RATIO}×): {'ok' if ratio <= TARGET_RATIO else 'SLOW'}")
    client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--rules", type=int, default=200)
    parser.add_argument("--prometheus", metavar="URL", help="use this Prometheus instead of building the fleet")
    parser.add_argument("--at", help="evaluate as of TIME (with --prometheus; RFC 3339 or Unix seconds)")
    args = parser.parse_args()
    if args.prometheus:
        at = parse_instant(args.at) if args.at else datetime.now().astimezone()
        bench(args.prometheus, at, args.rules, args.runs)
        return
    prometheus_binary, _ = require_binaries()
    with tempfile.TemporaryDirectory() as work:
        print("building the fleet (simulate, backfill, start Prometheus)…", flush=True)
        config, _, _, tsdb = build_fleet(Path(work))
        server = PrometheusServer(prometheus_binary, tsdb, Path(work))
        url = server.start()
        try:
            bench(url, config.end - timedelta(hours=3), args.rules, args.runs)
        finally:
            server.stop()


if __name__ == "__main__":
    main()
