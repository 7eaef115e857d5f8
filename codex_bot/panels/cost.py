"""Cost estimate: tokens per model × a bundled, overridable price table (USD per 1M tokens).

Uncached input = input − cached input (Codex's input count includes the cached part);
reasoning tokens are already inside output.  Models without a price are shown as unpriced
and left out of the total, never guessed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from codex_bot.formatting import Unit, humanize
from codex_bot.settings import SettingsError

if TYPE_CHECKING:
    from codex_bot.panels.measured import Measured
    from codex_bot.panels.rows import Column

PER_TOKENS = 1_000_000
UNPRICED_LISTED = 10  # unpriced models named in the note; the rows list them all
ESTIMATE_NOTE = "estimate from list prices per 1M tokens (CODEX_BOT_PRICES_FILE overrides them)"


@dataclass(frozen=True)
class Price:
    """USD per 1M tokens."""

    input: float
    cached_input: float
    output: float

    def usd(self, input_tokens: float, cached_tokens: float, output_tokens: float) -> float:
        uncached = max(input_tokens - cached_tokens, 0.0)
        return (uncached * self.input + cached_tokens * self.cached_input + output_tokens * self.output) / PER_TOKENS


@dataclass(frozen=True)
class PriceTable:
    prices: Mapping[str, Price]

    def get(self, model: str) -> Price | None:
        return self.prices.get(model)


def load_prices(override: Path | None = None) -> PriceTable:
    """The bundled table, with the models of ``override`` (same YAML shape) replacing or adding entries."""
    bundled = resources.files("codex_bot").joinpath("data/prices.yaml").read_text(encoding="utf-8")
    prices = _parse(bundled, "the bundled price table")
    if override is not None:
        try:
            text = Path(override).read_text(encoding="utf-8")
        except OSError as exc:
            raise SettingsError(f"bad setting: CODEX_BOT_PRICES_FILE: cannot read {override}: {exc.strerror}") from None
        prices.update(_parse(text, f"CODEX_BOT_PRICES_FILE ({override})"))
    return PriceTable(prices)


def _parse(text: str, source: str) -> dict[str, Price]:
    try:
        models = (yaml.safe_load(text) or {}).get("models") or {}
        return {str(name): _price(entry) for name, entry in models.items()}
    except (yaml.YAMLError, AttributeError, TypeError, ValueError, KeyError):
        raise SettingsError(
            f"bad setting: {source}: expected `models: {{NAME: {{input: N, cached_input: N, output: N}}}}` "
            "with non-negative USD per 1M tokens"
        ) from None


def _price(entry: Mapping[str, Any]) -> Price:
    values = {key: float(entry[key]) for key in ("input", "cached_input", "output")}
    if any(value < 0 for value in values.values()):
        raise ValueError("prices cannot be negative")
    return Price(**values)


def model_costs(measured: Measured) -> dict[str, float | None]:
    """USD per model with tokens in the window; None for a model without a price."""
    inputs, cached, outputs = (measured.group(key) for key in ("input", "cached_input", "output"))
    costs: dict[str, float | None] = {}
    for model in sorted(set(inputs) | set(cached) | set(outputs)):
        spent = (inputs.get(model, 0.0), cached.get(model, 0.0), outputs.get(model, 0.0))
        if any(spent):
            price = measured.prices.get(model)
            costs[model] = price.usd(*spent) if price else None
    return costs


def total_usd(measured: Measured) -> float:
    """The sum over priced models."""
    return sum(usd for usd in model_costs(measured).values() if usd is not None)


def cost_notes(measured: Measured) -> list[str]:
    """ "estimate …" and, if any, which models are unpriced and how many tokens they used."""
    unpriced = [model for model, usd in model_costs(measured).items() if usd is None]
    if not unpriced:
        return [ESTIMATE_NOTE]
    tokens = {m: measured.group("input").get(m, 0.0) + measured.group("output").get(m, 0.0) for m in unpriced}
    named = sorted(unpriced, key=lambda m: (-tokens[m], m))[:UNPRICED_LISTED]
    listed = ", ".join(f"{m} ({humanize(tokens[m], 'tokens')} tokens)" for m in named)
    more = f" and {len(unpriced) - len(named)} more" if len(unpriced) > len(named) else ""
    return [ESTIMATE_NOTE, f"unpriced, not in the total: {listed}{more}"]


@dataclass(frozen=True)
class CostRows:
    """Rows ``{"model", "usd"}``, most expensive first, unpriced models (usd None) last."""

    usd: Column
    label: str = "model"

    @property
    def main(self) -> Column:
        return self.usd

    @property
    def columns(self) -> tuple[Column, ...]:
        return (self.usd,)

    def units(self) -> dict[str, Unit]:
        return {self.usd.key: self.usd.unit}

    def rows(self, measured: Measured) -> list[dict[str, Any]]:
        costs = model_costs(measured)
        ordered = sorted(costs, key=lambda m: (costs[m] is None, -(costs[m] or 0.0), m))
        return [{self.label: model, self.usd.key: costs[model]} for model in ordered]
