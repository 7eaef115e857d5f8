"""Series identity with a cap on their number, and the value cells each series accumulates.

A counter's cells are ``[total]``.  A histogram's are the (non-cumulative) count per contract bucket,
``+Inf`` last, then the sum of observations; :func:`sample_values` turns them into exposed samples.
"""

from __future__ import annotations

from bisect import bisect_left
from itertools import accumulate

from codex_bot.telemetry.contract import TOOL_DURATION_BUCKETS, MetricFamily

SeriesKey = tuple[str, tuple[str, ...]]  # (family name, label values)

_HISTOGRAM_CELLS = len(TOOL_DURATION_BUCKETS) + 2


def new_cells(family: MetricFamily) -> list[float]:
    return [0] * (_HISTOGRAM_CELLS if family.kind == "histogram" else 1)


def add(cells: list[float], family: MetricFamily, value: float) -> None:
    """Apply one increment (counter) or observation (histogram)."""
    if family.kind == "counter":
        cells[0] += value
    else:
        cells[bisect_left(TOOL_DURATION_BUCKETS, value)] += 1
        cells[-1] += value


def sample_values(family: MetricFamily, cells: list[float]) -> list[float]:
    """Counter: ``[total]``; histogram: cumulative buckets (``+Inf`` last), sum, count."""
    if family.kind == "counter":
        return cells
    buckets = list(accumulate(cells[:-1]))
    return [*buckets, cells[-1], buckets[-1]]


class SeriesIndex:
    """Numbers series in order of first sight; refuses new ones beyond ``max_series``."""

    def __init__(self, max_series: int) -> None:
        self.max_series = max_series
        self.ids: dict[SeriesKey, int] = {}
        self.families: list[MetricFamily] = []
        self.labels: list[tuple[str, ...]] = []
        self.refused = 0  # increments dropped because their series would exceed the cap

    def find(self, family: MetricFamily, labels: tuple[str, ...]) -> tuple[int, bool] | None:
        """(series id, created now) or None when the series is new and the cap is reached."""
        key = (family.name, labels)
        found = self.ids.get(key)
        if found is not None:
            return found, False
        if len(self.families) >= self.max_series:
            self.refused += 1
            return None
        number = self.ids[key] = len(self.families)
        self.families.append(family)
        self.labels.append(labels)
        return number, True

    def __len__(self) -> int:
        return len(self.families)
