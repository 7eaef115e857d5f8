"""Cost estimate: price arithmetic, bundled and overriding price tables, unpriced models never guessed."""

from __future__ import annotations

import pytest

from codex_bot.metrics.client import Sample
from codex_bot.panels.catalog import find_panel
from codex_bot.panels.cost import ESTIMATE_NOTE, Price, cost_notes, load_prices, model_costs, total_usd
from codex_bot.panels.measured import Measured
from codex_bot.settings import SettingsError

COST = find_panel("cost")


def measured(tokens: dict[str, tuple[int, int, int]], prices=None) -> Measured:
    """Answers of the cost panel's by-model queries for the given (input, cached, output) per model."""
    answers = {
        key: [Sample({"model": model}, float(values[i])) for model, values in tokens.items()]
        for i, key in enumerate(("input", "cached_input", "output"))
    }
    return Measured(COST.queries, answers, prices or load_prices())


def test_uncached_input_cached_input_and_output_have_their_own_rates():
    price = Price(input=1.25, cached_input=0.125, output=10.0)
    # 1M input of which 400k cached: 600k × 1.25 + 400k × 0.125 + 200k × 10 per 1M
    assert price.usd(1_000_000, 400_000, 200_000) == pytest.approx(0.75 + 0.05 + 2.0)


def test_bundled_prices():
    prices = load_prices()
    assert prices.get("gpt-5-codex") == Price(1.25, 0.125, 10.0)
    assert prices.get("gpt-5.1-codex-mini") == Price(0.25, 0.025, 2.0)
    assert prices.get("o4-mini") == Price(1.10, 0.275, 4.40)
    assert prices.get("gpt-6-imaginary") is None


def test_override_file_replaces_and_adds_models(tmp_path):
    override = tmp_path / "prices.yaml"
    override.write_text(
        "models:\n  gpt-5-codex: {input: 2, cached_input: 0.2, output: 20}\n"
        "  in-house: {input: 0, cached_input: 0, output: 0.5}\n"
    )
    prices = load_prices(override)
    assert prices.get("gpt-5-codex") == Price(2.0, 0.2, 20.0)
    assert prices.get("in-house") == Price(0.0, 0.0, 0.5)
    assert prices.get("o4-mini") == Price(1.10, 0.275, 4.40)  # bundled entries stay


@pytest.mark.parametrize(
    "text",
    [
        "models: [1, 2]",
        "models:\n  m: {input: 1}",
        "models:\n  m: {input: -1, cached_input: 0, output: 1}",
        "models:\n  m: {input: x, cached_input: 0, output: 1}",
        "models: {m: 3}",
        ": : :",
    ],
)
def test_bad_override_files_name_the_setting(tmp_path, text):
    override = tmp_path / "prices.yaml"
    override.write_text(text)
    with pytest.raises(SettingsError, match="CODEX_BOT_PRICES_FILE"):
        load_prices(override)


def test_missing_override_file(tmp_path):
    with pytest.raises(SettingsError, match="cannot read"):
        load_prices(tmp_path / "nope.yaml")


def test_unknown_models_are_unpriced_and_left_out_of_the_total():
    m = measured({"gpt-5-codex": (1_000_000, 0, 0), "mystery-model": (5_000_000, 0, 1_000), "idle": (0, 0, 0)})
    assert model_costs(m) == {"gpt-5-codex": pytest.approx(1.25), "mystery-model": None}
    assert total_usd(m) == pytest.approx(1.25)
    notes = cost_notes(m)
    assert notes[0] == ESTIMATE_NOTE and "estimate" in notes[0]
    assert "mystery-model (5.0M tokens)" in notes[1]
    rows = COST.rows.rows(m)
    assert rows == [{"model": "gpt-5-codex", "usd": pytest.approx(1.25)}, {"model": "mystery-model", "usd": None}]


def test_rows_are_most_expensive_first():
    m = measured({"gpt-5.1-codex-mini": (10_000_000, 0, 0), "gpt-5-codex": (1_000_000, 0, 1_000_000)})
    assert [row["model"] for row in COST.rows.rows(m)] == ["gpt-5-codex", "gpt-5.1-codex-mini"]
    assert cost_notes(m) == [ESTIMATE_NOTE]
