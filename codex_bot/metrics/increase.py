"""The exact increase of counters over a window, without ``increase()``'s extrapolation.

``increase(x[w])`` scales the change it sees between the first and the last sample *inside* the
window up to the whole window: on live data, scraped at its own phase, that adds up to a scrape
interval's worth at each edge (tens of percent for a series born shortly before the end).  The count
of events in (start, end] is instead the series' last value at or before ``end`` minus its value at
or before ``start``, which is exact for counters that

- are born at 0 (codex-bot's ingest and backfill expose every new series at 0 first), and
- never go down: backfilled series do not, and the live ingest starts *new* series (a new
  ``ingest_boot`` label) when it restarts instead of resetting the old ones.

Per series that is ``max_over_time(x[L + w])`` (the last value, as the series only grows) minus
``last_over_time(x[L] offset w)`` (the value at the start; none when the series was born inside the
window, whose value at the start is then 0).  Both go into one ``sum``: the start values, negated
and marked with an extra label so ``or`` keeps them next to the end values.  Prometheus reads each
sample once for ``L + w`` and once more for ``L``: for 7 d and 30 d barely more than ``increase()``.

``L`` (``baseline_seconds``) is how far before the start a series' last sample may lie; a series
with no sample in that span (Prometheus scraped nothing for over ``L``) counts from 0.  A series
that does go down (a counter from another exporter that resets) is undercounted: its count is its
highest value in the window minus its value at the start.

Standard PromQL (``max_over_time``, ``last_over_time`` (Prometheus ≥ 2.26), ``offset``,
``label_replace``, ``or``); VictoriaMetrics' MetricsQL accepts it too.
"""

from __future__ import annotations

from codex_bot.metrics.promql import duration

MIN_BASELINE_SECONDS = 300  # a few scrape intervals, as Prometheus' own 5-minute lookback
MAX_BASELINE_SECONDS = 6 * 3600
EDGE_LABEL = "codex_bot_edge"  # marks the negated start values inside the sum (never in an answer)
EDGE_MARK = f'"{EDGE_LABEL}", "start", "", ""'  # label_replace's arguments: the only strings not from matchers


def baseline_seconds(window_seconds: int) -> int:
    """How far back before the window's start its start value is looked for: the window's length, at
    least 5 minutes and at most 6 hours (so a 30-day window reads 1.7 % more samples than it holds)."""
    return min(max(window_seconds, MIN_BASELINE_SECONDS), MAX_BASELINE_SECONDS)


def window_increase(series: str, window_seconds: int) -> str:
    """Per series of the selector ``series``, its exact increase over the ``window_seconds`` before the
    evaluation time, as a vector to ``sum`` (the end values, and the start values negated and marked
    with ``codex_bot_edge``): always aggregate it, e.g. ``sum by (model) (…)``."""
    window, baseline = duration(window_seconds), baseline_seconds(window_seconds)
    end = f"max_over_time({series}[{duration(baseline + window_seconds)}])"
    start = f"-last_over_time({series}[{duration(baseline)}] offset {window})"
    return f"{end} or label_replace({start}, {EDGE_MARK})"
