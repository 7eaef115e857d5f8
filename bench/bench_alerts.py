"""One alert evaluation cycle of 200 rules next to its unique queries run bare (target ≤ 1.2×).

Setup: the shared context (bench/common.py: the demo's simulated fleet in a real Prometheus), unless
--prometheus points at one.  200 rules are generated over every single-number panel figure:
windows 15m/30m/1h/3h, no filter or one per model, some grouped by model, absolute and relative
(1d, 7d median) conditions, with and without a minimum volume — many share queries, as real rule
sets do.  A cycle is what the bot runs every interval: ``evaluate`` with the previous cycle's states
(so no look-back), which runs each unique PromQL once, concurrently, then computes every rule and
group.  "Bare" is the same unique queries sent with ``PrometheusClient.gather`` and nothing else.
Figures are medians over --runs rounds after one warm-up, interleaved.

    python bench/bench_alerts.py [--runs 25] [--rules 200] [--prometheus URL --at TIME --interval SECONDS]
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
from datetime import datetime, timedelta
from functools import partial
from typing import TextIO

from common import Context, Figure, at_most, print_report, say, shared_context, timed_ms

from codex_bot.alerts.evaluate import evaluate
from codex_bot.alerts.rules import Rule
from codex_bot.alerts.sampling import Sampler
from codex_bot.metrics.client import PrometheusClient, Sample
from codex_bot.metrics.ranges import parse_instant
from codex_bot.panels.catalog import PANELS
from codex_bot.panels.cost import load_prices

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
        if (model and "model" not in panel.filters) or (grouped and ("model" not in panel.filters or model)):
            continue
        fields = {
            "name": f"bench-{n}",
            "figure": f"{panel.name}.{key}",
            "window": window,
            "condition": condition,
            "channel": "#bench",
            "filters": {"model": model} if model else {},
            "group_by": ["model"] if grouped else [],
        }
        if n % 3 == 0 and "model" in panel.filters:
            fields["min_volume"] = {"figure": "sessions.model_calls", "at_least": 5}
        rules.append(Rule.model_validate(fields))
    return rules


def bench(url: str, at: datetime, interval: timedelta, count: int, runs: int, out: TextIO | None) -> list[Figure]:
    client = RecordingClient(url, timeout=60)
    prices = load_prices()
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
    client.close()
    cycle_ms, bare_ms, python_ms = (statistics.median(x) for x in (cycles, bares, pythons))
    say(
        out,
        f"rules {len(rules)}, rule+group states {len(cycle.states)}, unique queries {len(unique)} "
        f"(a query per rule figure would be {sum(2 if r.min_volume else 1 for r in rules)} or more)",
    )
    say(
        out,
        f"evaluation cycle {cycle_ms:.1f} ms, of which Python {python_ms:.1f} ms (answers in memory); "
        f"unique queries bare {bare_ms:.1f} ms (medians of {runs})",
    )
    return [
        Figure(
            f"{len(rules)}-rule alert cycle ÷ its unique queries bare",
            cycle_ms / bare_ms,
            "×",
            at_most(TARGET_RATIO),
            f"cycle {cycle_ms:.0f} ms (Python {python_ms:.0f}) vs {bare_ms:.0f} ms for {len(unique)} unique "
            f"queries; {len(cycle.states)} rule+group states; medians of {runs}",
        )
    ]


def measure(ctx: Context, runs: int = 25, rules: int = 200, out: TextIO | None = None) -> list[Figure]:
    return bench(ctx.prometheus_url, ctx.at, timedelta(seconds=ctx.step), rules, runs, out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=25)
    parser.add_argument("--rules", type=int, default=200)
    parser.add_argument("--prometheus", metavar="URL", help="use this Prometheus instead of the shared context")
    parser.add_argument("--at", help="evaluate as of TIME (with --prometheus; RFC 3339 or Unix seconds; default now)")
    parser.add_argument("--interval", type=int, default=60, help="cycle interval in seconds (with --prometheus)")
    args = parser.parse_args()
    if args.prometheus:
        at = parse_instant(args.at) if args.at else datetime.now().astimezone()
        print_report(bench(args.prometheus, at, timedelta(seconds=args.interval), args.rules, args.runs, sys.stdout))
        return
    with shared_context(out=sys.stdout) as ctx:
        print_report(measure(ctx, args.runs, args.rules, sys.stdout))


if __name__ == "__main__":
    main()
