"""`tokens 7d model=gpt-5-codex public` → PanelRequest; panel names, ranges, filters and helpful errors."""

from __future__ import annotations

import pytest

from codex_bot.errors import BadFilter, BadRange, UnknownPanel, UserError
from codex_bot.panels.catalog import PANELS, find_panel
from codex_bot.panels.request import DEFAULT_RANGE, PanelRequest, parse_request


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("tokens", PanelRequest("tokens", DEFAULT_RANGE)),
        ("tokens 7d model=gpt-5-codex public", PanelRequest("tokens", "7d", {"model": "gpt-5-codex"}, True)),
        ("Tokens PUBLIC 30m", PanelRequest("tokens", "30m", {}, True)),
        ("cache last week", PanelRequest("cache-rate", "last week")),
        (
            "model-tokens This  Week user=alice@example.com",
            PanelRequest("model-tokens", "this week", {"user": "alice@example.com"}),
        ),
        (
            "latency yesterday tool=exec_command model=o4-mini",
            PanelRequest("p95", "yesterday", {"tool": "exec_command", "model": "o4-mini"}),
        ),
        ("model_tokens 2w", PanelRequest("model-tokens", "2w")),
        ("calls today", PanelRequest("sessions", "today")),
        ('users 7d user="Alice Smith"', PanelRequest("users", "7d", {"user": "Alice Smith"})),
        (
            "users 7d MODEL=GPT-5-Codex",
            PanelRequest("users", "7d", {"model": "GPT-5-Codex"}),
        ),  # keys fold, values don't
        ("conversations 6h terminal=a=b", PanelRequest("conversations", "6h", {"terminal": "a=b"})),
    ],
)
def test_parse(words, expected):
    assert parse_request(words) == expected


def test_word_lists_are_taken_as_they_are():
    assert parse_request(["users", "7d", "user=Alice Smith"]).filters == {"user": "Alice Smith"}


def test_unbalanced_quotes_fall_back_to_whitespace_words():
    assert parse_request('tokens model="gpt').filters == {"model": '"gpt'}


def test_hostile_values_are_kept_verbatim_for_escaping_later():
    value = 'x"}[5m]) or vector(1) #\\'
    assert parse_request(["tokens", f"model={value}"]).filters == {"model": value}


@pytest.mark.parametrize("panel", PANELS, ids=lambda p: p.name)
def test_every_name_and_alias_and_example_parses(panel):
    for name in panel.names:
        assert parse_request(name).panel == panel.name
    assert parse_request(panel.example).panel == panel.name


def test_unknown_panel_suggests_the_closest_names():
    with pytest.raises(UnknownPanel, match="Did you mean tokens"):
        parse_request("tokns 7d")
    with pytest.raises(UnknownPanel, match="Panels: tokens, cached"):
        find_panel("\x00{}" * 100)


def test_unknown_filter_key_names_the_panels_filters():
    with pytest.raises(BadFilter) as raised:
        parse_request("sessions 7d user=alice@example.com")
    assert "model=" in str(raised.value) and "'user'" in str(raised.value)


@pytest.mark.parametrize("words", ["tokens model=", "tokens =x", "tokens model=a model=b"])
def test_bad_filters(words):
    with pytest.raises(BadFilter):
        parse_request(words)


def test_two_ranges_are_refused():
    with pytest.raises(BadRange, match="Two ranges"):
        parse_request("tokens 7d this week")


@pytest.mark.parametrize("words", ["tokens 7days", "tokens last", "tokens week last", "tokens ; drop", "tokens 7d {}"])
def test_unknown_words_explain_the_form(words):
    with pytest.raises(UserError) as raised:
        parse_request(words)
    assert "[RANGE]" in str(raised.value) and "this week" in str(raised.value)


def test_nothing_asks_for_a_panel():
    with pytest.raises(UserError, match="Name a panel"):
        parse_request("   ")
