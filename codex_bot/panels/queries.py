"""PromQL templates over the metric contract, filled in with a panel's filters and window.

Counters are read with ``increase()`` over the whole window evaluated at its end: on the
backfill's 1-minute grid with grid-aligned ends that is exactly the events in (start, end]
(no extrapolation: every series has a sample at both ends, or starts at 0 inside the window).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from codex_bot.metrics.promql import duration, label_name, selector
from codex_bot.telemetry.contract import MetricFamily


def _by(labels: tuple[str, ...]) -> str:
    return f" by ({', '.join(label_name(label) for label in labels)})" if labels else ""


@dataclass(frozen=True)
class Increase:
    """``sum [by (labels)] (increase(counter{fixed, filters}[window]))``; no series means 0 events."""

    family: MetricFamily
    fixed: tuple[tuple[str, str], ...] = ()
    by: tuple[str, ...] = ()
    empty: float | None = 0.0

    def promql(self, filters: Mapping[str, str], window_seconds: int) -> str:
        series = selector(self.family.series_name, {**dict(self.fixed), **filters})
        return f"sum{_by(self.by)} (increase({series}[{duration(window_seconds)}]))"


@dataclass(frozen=True)
class Quantile:
    """``histogram_quantile(q, sum by (le) (increase(hist_bucket{filters}[window])))``; no observations → None.

    Prometheus interpolates linearly inside the bucket holding the quantile, so the answer
    lies in that bucket, not necessarily on the exact observed value.
    """

    quantile: float
    family: MetricFamily
    by: tuple[str, ...] = ()
    empty: float | None = None

    def promql(self, filters: Mapping[str, str], window_seconds: int) -> str:
        buckets = selector(self.family.name + "_bucket", filters)
        inner = f"sum{_by(('le',) + self.by)} (increase({buckets}[{duration(window_seconds)}]))"
        return f"histogram_quantile({self.quantile:g}, {inner})"


Query = Increase | Quantile
