"""PromQL templates over the metric contract, filled in with a panel's filters and window.

Counters are read with :func:`~codex_bot.metrics.increase.window_increase` over the whole window,
evaluated at its end: exactly the events Prometheus has scraped in (start, end], on the backfill's
grid and on live data alike (no ``increase()`` extrapolation).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from codex_bot.metrics.increase import window_increase
from codex_bot.metrics.promql import label_name, selector
from codex_bot.telemetry.contract import MetricFamily


def _by(labels: tuple[str, ...]) -> str:
    return f" by ({', '.join(label_name(label) for label in labels)})" if labels else ""


@dataclass(frozen=True)
class Increase:
    """``sum [by (labels)]`` of the exact increase of ``counter{fixed, filters}`` over the window; no series
    means 0 events."""

    family: MetricFamily
    fixed: tuple[tuple[str, str], ...] = ()
    by: tuple[str, ...] = ()
    empty: float | None = 0.0

    def promql(self, filters: Mapping[str, str], window_seconds: int) -> str:
        series = selector(self.family.series_name, {**dict(self.fixed), **filters})
        return f"sum{_by(self.by)} ({window_increase(series, window_seconds)})"


@dataclass(frozen=True)
class Quantile:
    """``histogram_quantile(q, sum by (le) (…))`` over the exact increase of ``hist_bucket{filters}``;
    no observations → None.

    Prometheus interpolates linearly inside the bucket holding the quantile, so the answer
    lies in that bucket, not necessarily on the exact observed value.
    """

    quantile: float
    family: MetricFamily
    by: tuple[str, ...] = ()
    empty: float | None = None

    def promql(self, filters: Mapping[str, str], window_seconds: int) -> str:
        buckets = selector(self.family.name + "_bucket", filters)
        inner = f"sum{_by(('le',) + self.by)} ({window_increase(buckets, window_seconds)})"
        return f"histogram_quantile({self.quantile:g}, {inner})"


Query = Increase | Quantile
