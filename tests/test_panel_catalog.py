"""The catalog is consistent: names unique, filters exist on every queried series, keys as in issue 3."""

from __future__ import annotations

import pytest

from codex_bot.panels.catalog import PANELS

ISSUE_KEYS = {  # panel: (figure keys, row keys) exactly as the issue's table lists them
    "tokens": (["input", "output", "total"], []),
    "cached": (["cached_input"], []),
    "cache-rate": (["cache_rate_pct"], []),
    "sessions": (["conversations", "model_calls"], []),
    "p95": (["p95_seconds"], []),
    "usage": (["total"], []),
    "conversations": (["conversations"], []),
    "success": (["success_rate_pct", "requests", "failed"], []),
    "terminals": ([], ["terminal", "conversations", "share_pct"]),
    "users": ([], ["user", "prompts", "conversations", "tokens"]),
    "models": ([], ["model", "model_calls", "share_pct"]),
    "model-tokens": ([], ["model", "tokens", "share_pct"]),
    "tools": ([], ["tool", "calls", "share_pct"]),
    "decisions": ([], ["decision", "count", "share_pct"]),
    "cost": (["total_usd"], ["model", "usd"]),
}


def test_names_and_aliases_are_unique():
    names = [name for panel in PANELS for name in panel.names]
    assert len(names) == len(set(names))
    assert [p.name for p in PANELS] == list(ISSUE_KEYS)


@pytest.mark.parametrize("panel", PANELS, ids=lambda p: p.name)
def test_keys_match_the_issue(panel):
    figures, rows = ISSUE_KEYS[panel.name]
    assert [f.key for f in panel.figures] == figures
    assert ([panel.rows.label, *panel.rows.units()] if panel.rows else []) == rows


@pytest.mark.parametrize("panel", PANELS, ids=lambda p: p.name)
def test_every_filter_is_a_label_of_every_queried_family(panel):
    assert panel.filters
    for family in panel.families():
        assert set(panel.filters) <= set(family.labels), family.name


@pytest.mark.parametrize("panel", PANELS, ids=lambda p: p.name)
def test_every_figure_and_column_has_a_unit_and_formula(panel):
    assert set(panel.units()) == {f.key for f in panel.figures} | (set(panel.rows.units()) if panel.rows else set())
    assert all(f.formula for f in panel.figures)
    assert all(c.formula for c in (panel.rows.columns if panel.rows else ()))
    for key in {part for c in panel.rows.columns for part in c.parts} if panel.rows else set():
        assert key in panel.queries and panel.queries[key].by == (panel.rows.label,)


def test_only_the_users_panel_names_people():
    assert [p.name for p in PANELS if p.personal] == ["users"]
