"""User input never reaches PromQL unescaped: string literals round-trip through the real Prometheus."""

from __future__ import annotations

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codex_bot.metrics.promql import duration, label_name, matchers, selector, string_literal

HOSTILE = [
    "",
    'plain"quote',
    "back\\slash",
    "trailing\\",
    '\\"',
    'x"} or vector(1) or {a="',
    "a{b}c",
    "}",
    "new\nline\r\ttab",
    "\x00\x07\x1b[31m\x7f",
    "é ü ß 中文 😀 \u200b\u2028\u2029\u202e\ufeff",
    ".*",
    "gpt|.*",
    "^(a+)+$",
    "[a-z]{2,}?\\d",
    "$1 ${x}",
    "'single' `back`",
    "a" * 10_000,
    "\\x41\\u0041\\101",
]


def literal_via_prometheus(url: str, text: str) -> str:
    """Prometheus's own reading of the PromQL string literal ``text`` (a string-typed expression)."""
    reply = requests.get(f"{url}/api/v1/query", params={"query": text, "time": 0}, timeout=30)
    body = reply.json()
    assert reply.status_code == 200, body.get("error")
    assert body["data"]["resultType"] == "string"
    return body["data"]["result"][1]


@pytest.mark.parametrize("value", HOSTILE)
def test_literal_shape(value):
    text = string_literal(value)
    assert text.startswith('"') and text.endswith('"')
    inner = text[1:-1]
    assert "\n" not in inner and "\r" not in inner
    # every quote inside is escaped: removing escaped pairs leaves no bare quote or backslash
    assert '"' not in inner.replace("\\\\", "").replace('\\"', "")


@pytest.mark.prometheus
@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_values_round_trip_through_prometheus(fleet, value):
    assert literal_via_prometheus(fleet.prometheus_url, string_literal(value)) == value


@pytest.mark.prometheus
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=200))
def test_any_text_round_trips_as_a_literal(fleet, value):
    assert literal_via_prometheus(fleet.prometheus_url, string_literal(value)) == value


def test_lone_surrogates_become_the_replacement_character():
    assert string_literal("a\ud800b") == '"a\\uFFFDb"'


@pytest.mark.prometheus
@pytest.mark.parametrize("value", HOSTILE)
def test_selectors_with_hostile_values_parse_and_match_only_exactly(fleet, value):
    """The selector is valid PromQL and matches no series: injection (vector(1)) or regexes (.*) would."""
    promql = f"sum(increase({selector('codex_tokens_total', {'type': 'input', 'model': value})}[1h])) or vector(0)"
    assert fleet.query(promql, fleet.end) == [({}, 0.0)]


def test_selector_and_matchers():
    assert selector("codex_tokens_total") == "codex_tokens_total"
    assert selector("x_total", {"a": "1", "b": 'q"'}) == 'x_total{a="1",b="q\\""}'
    assert matchers({"model": "m"}) == 'model="m"'
    assert duration(604800) == "604800s"


@pytest.mark.parametrize("name", ["", "1abc", "a-b", "a b", 'a"', "é", "a{"])
def test_label_and_metric_names_are_checked(name):
    with pytest.raises(ValueError):
        label_name(name)
    with pytest.raises(ValueError):
        selector("ok_name", {name: "v"})
    with pytest.raises(ValueError):
        selector(name + "{")


def test_window_must_be_positive():
    with pytest.raises(ValueError):
        duration(0)
