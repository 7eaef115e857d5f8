"""Headline figures: a key, its unit, its formula in words, and how it is computed from the answers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from codex_bot.formatting import Unit
from codex_bot.panels.measured import Measured

Compute = Callable[[Measured], float | None]


@dataclass(frozen=True)
class Figure:
    key: str  # exact JSON key, e.g. "cache_rate_pct"
    unit: Unit
    formula: str  # for people and the docs, e.g. "100 × cached input / input"
    compute: Compute


def measure(key: str) -> Compute:
    """The answer of query ``key``."""
    return lambda m: m.value(key)


def total(*keys: str) -> Compute:
    """The sum of the answers of ``keys`` (None if any is None)."""

    def compute(m: Measured) -> float | None:
        values = [m.value(key) for key in keys]
        return None if None in values else sum(v for v in values if v is not None)

    return compute


def percent(part: str, whole: str) -> Compute:
    """100 × part / whole; None when whole is 0 (a rate of nothing is not 0 %)."""

    def compute(m: Measured) -> float | None:
        numerator, denominator = m.value(part), m.value(whole)
        if not denominator or numerator is None:
            return None
        return 100.0 * numerator / denominator

    return compute


def percent_not(failed: str, whole: str) -> Compute:
    """100 × (whole − failed) / whole; None when whole is 0."""

    def compute(m: Measured) -> float | None:
        bad, denominator = m.value(failed), m.value(whole)
        if not denominator or bad is None:
            return None
        return 100.0 * (denominator - bad) / denominator

    return compute
