"""What a panel's queries answered for one period, read as figures or as groups by a label."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from codex_bot.metrics.client import Sample
from codex_bot.panels.queries import Query

if TYPE_CHECKING:
    from codex_bot.panels.cost import PriceTable


@dataclass(frozen=True)
class Measured:
    queries: Mapping[str, Query]
    answers: Mapping[str, list[Sample]]
    prices: PriceTable

    def value(self, key: str) -> float | None:
        """A single-number query's answer (its ``empty`` value when there is none, or NaN)."""
        samples = self.answers[key]
        if not samples or math.isnan(samples[0].value):
            return self.queries[key].empty
        return samples[0].value

    def group(self, key: str) -> dict[str, float]:
        """A ``by (label)`` query's answers as {label value: value}, NaN dropped."""
        (label,) = self.queries[key].by
        return {s.labels.get(label, ""): s.value for s in self.answers[key] if not math.isnan(s.value)}
