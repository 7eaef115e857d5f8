"""Every panel against the real Prometheus holding the synthetic fleet: figures, rows and series
equal the generator's ground truth (two rolling ranges, a calendar range, and a filter per panel)."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from codex_bot.errors import BadFilter
from codex_bot.metrics.client import PrometheusClient
from codex_bot.panels.catalog import PANELS, find_panel
from codex_bot.panels.cost import load_prices
from codex_bot.panels.request import PanelRequest
from codex_bot.panels.result import PanelResult
from codex_bot.panels.service import Panels
from codex_bot.telemetry.contract import TOOL_DURATION_BUCKETS

BERLIN = ZoneInfo("Europe/Berlin")
# Fleet dims each filter key is checked on (the measure that has the dim, to pick a busy value).
FILTER_MEASURE = {"model": "model_calls", "user": "prompts", "tool": "tool_calls", "terminal": "conversations"}
Truth = Any


@pytest.fixture(scope="module")
def fleet(backend_fleet):
    """These figure tests run on every metrics backend (Prometheus, VictoriaMetrics): see conftest."""
    return backend_fleet


@pytest.fixture(scope="module")
def panels(fleet) -> Panels:
    client = PrometheusClient(fleet.prometheus_url, timeout=30)
    yield Panels(client, BERLIN, load_prices())
    client.close()


@pytest.fixture(scope="module")
def at(fleet) -> datetime:
    """The fleet's end: on the backfill grid, so increase() needs no extrapolation."""
    return fleet.align(fleet.end)


def busiest(fleet, key: str) -> str:
    totals = fleet.truth.total(FILTER_MEASURE[key], fleet.start, fleet.end, by=(key,))
    return max(sorted(totals), key=lambda k: totals[k])[0]


def cases(fleet) -> list[tuple[str, dict[str, str]]]:
    return [("7d", {}), ("24h", {}), ("yesterday", {})]


# --- ground truth, written out from the formulas ---------------------------------------------


def _sum(truth: Truth, measure: str, start, end, where) -> int:
    return truth.total(measure, start, end, where or None)


def _by(truth: Truth, measure: str, label: str, start, end, where) -> dict[str, int]:
    return {k[0]: v for k, v in truth.total(measure, start, end, where or None, by=(label,)).items()}


def _pct(part: float, whole: float) -> float | None:
    return 100.0 * part / whole if whole else None


def expected_figures(name: str, truth: Truth, start, end, where) -> dict[str, float | None]:
    s = lambda measure: _sum(truth, measure, start, end, where)
    if name == "tokens":
        return {
            "input": s("input_tokens"),
            "output": s("output_tokens"),
            "total": s("input_tokens") + s("output_tokens"),
        }
    if name == "cached":
        return {"cached_input": s("cached_input_tokens")}
    if name == "cache-rate":
        return {"cache_rate_pct": _pct(s("cached_input_tokens"), s("input_tokens"))}
    if name == "sessions":
        return {"conversations": s("conversations"), "model_calls": s("model_calls")}
    if name == "usage":
        return {"total": s("input_tokens") + s("output_tokens")}
    if name == "conversations":
        return {"conversations": s("conversations")}
    if name == "success":
        requests, failed = s("model_calls"), s("failed_model_calls")
        return {"success_rate_pct": _pct(requests - failed, requests), "requests": requests, "failed": failed}
    if name == "cost":
        return {"total_usd": sum(usd for usd in expected_costs(truth, start, end, where).values() if usd is not None)}
    return {}


def expected_costs(truth: Truth, start, end, where) -> dict[str, float | None]:
    """USD per model: (uncached input × input + cached × cached_input + output × output) / 1M."""
    prices = load_prices().prices
    inputs = _by(truth, "input_tokens", "model", start, end, where)
    cached = _by(truth, "cached_input_tokens", "model", start, end, where)
    outputs = _by(truth, "output_tokens", "model", start, end, where)
    costs: dict[str, float | None] = {}
    for model in inputs.keys() | outputs.keys():
        i, c, o = inputs.get(model, 0), cached.get(model, 0), outputs.get(model, 0)
        if i or c or o:
            p = prices.get(model)
            costs[model] = None if p is None else ((i - c) * p.input + c * p.cached_input + o * p.output) / 1e6
    return costs


def _shared(label: str, values: dict[str, float], key: str) -> dict[str, dict[str, Any]]:
    whole = sum(values.values())
    return {k: {label: k, key: v, "share_pct": 100.0 * v / whole} for k, v in values.items() if v}


def expected_rows(name: str, truth: Truth, start, end, where) -> dict[str, dict[str, Any]]:
    """Expected rows keyed by their label value."""
    by = lambda measure, label: _by(truth, measure, label, start, end, where)
    if name == "terminals":
        return _shared("terminal", by("conversations", "terminal"), "conversations")
    if name == "models":
        return _shared("model", by("model_calls", "model"), "model_calls")
    if name == "model-tokens":
        i, o = by("input_tokens", "model"), by("output_tokens", "model")
        return _shared("model", {m: i.get(m, 0) + o.get(m, 0) for m in i.keys() | o.keys()}, "tokens")
    if name == "tools":
        return _shared("tool", by("tool_calls", "tool"), "calls")
    if name == "decisions":
        return _shared("decision", by("decisions", "decision"), "count")
    if name == "users":
        p, c = by("prompts", "user"), by("conversations", "user")
        i, o = by("input_tokens", "user"), by("output_tokens", "user")
        people = p.keys() | c.keys() | i.keys() | o.keys()
        rows = {
            u: {"user": u, "prompts": p.get(u, 0), "conversations": c.get(u, 0), "tokens": i.get(u, 0) + o.get(u, 0)}
            for u in people
        }
        return {u: row for u, row in rows.items() if any(v for k, v in row.items() if k != "user")}
    if name == "cost":
        return {m: {"model": m, "usd": usd} for m, usd in expected_costs(truth, start, end, where).items()}
    return {}


SERIES_MEASURES = {
    "usage": {"input": "input_tokens", "output": "output_tokens"},
    "conversations": {"conversations": "conversations"},
}


def assert_same(actual: dict[str, Any], expected: dict[str, Any]) -> None:
    assert actual.keys() == expected.keys()
    for key, value in expected.items():
        if value is None or isinstance(value, str):
            assert actual[key] == value, key
        else:
            assert actual[key] == pytest.approx(value, rel=1e-9, abs=1e-9), key


def check_against_truth(result: PanelResult, fleet, where: dict[str, str]) -> None:
    window, truth = result.range, fleet.truth
    assert_same(result.figures, expected_figures(result.panel, truth, window.start, window.end, where))
    before = window.previous()
    assert_same(result.previous, expected_figures(result.panel, truth, before.start, before.end, where))
    rows = expected_rows(result.panel, truth, window.start, window.end, where)
    label = find_panel(result.panel).rows.label if rows else None
    assert {row[label]: row for row in result.rows}.keys() == rows.keys() if rows else result.rows == []
    for row in result.rows:
        assert_same(row, rows[row[label]])
    main = find_panel(result.panel).rows.main.key if rows else None
    ranked = [row[main] for row in result.rows if row[main] is not None] if main else []
    assert ranked == sorted(ranked, reverse=True)


def check_series(result: PanelResult, fleet, where: dict[str, str]) -> None:
    """Each point is the events in the step that ends at it: (t − step, t]."""
    step = timedelta(seconds=result.range.step_seconds)
    measures = SERIES_MEASURES[result.panel]
    assert [s.name for s in result.series] == list(measures)
    for series in result.series:
        assert len(series.points) == result.range.seconds // result.range.step_seconds
        for moment, value in series.points:
            assert value == fleet.truth.total(measures[series.name], moment - step, moment, where or None), moment


@pytest.mark.prometheus
@pytest.mark.parametrize("name", [p.name for p in PANELS if p.name != "p95"])
@pytest.mark.parametrize("range_text", ["7d", "24h", "yesterday"])
def test_panel_equals_ground_truth(panels, fleet, at, name, range_text):
    result = panels.run(PanelRequest(name, range_text), at)
    assert result.has_data
    check_against_truth(result, fleet, {})
    if name in SERIES_MEASURES:
        check_series(result, fleet, {})


@pytest.mark.prometheus
@pytest.mark.parametrize("name", [p.name for p in PANELS if p.name != "p95"])
def test_panel_with_a_filter_equals_ground_truth(panels, fleet, at, name):
    panel = find_panel(name)
    key = panel.filters[-1]
    where = {key: busiest(fleet, key)}
    result = panels.run(PanelRequest(name, "7d", where), at)
    assert result.filters == where
    check_against_truth(result, fleet, where)
    if name in SERIES_MEASURES:
        check_series(result, fleet, where)


@pytest.mark.prometheus
@pytest.mark.parametrize("name", [p.name for p in PANELS if "user" in p.filters])
def test_panel_for_one_user_equals_ground_truth(panels, fleet, at, name):
    """Every panel that takes user= (tools and decisions too) answers the person's own figures."""
    where = {"user": busiest(fleet, "user")}
    result = panels.run(PanelRequest(name, "7d", where), at)
    assert result.has_data
    check_against_truth(result, fleet, where)


@pytest.mark.prometheus
@pytest.mark.parametrize("name", ["tools", "decisions"])
def test_tool_panels_for_one_user_and_tool_equal_ground_truth(panels, fleet, at, name):
    where = {"user": busiest(fleet, "user"), "tool": busiest(fleet, "tool")}
    result = panels.run(PanelRequest(name, "24h", where), at)
    check_against_truth(result, fleet, where)


@pytest.mark.prometheus
def test_an_unchecked_filter_value_nobody_has_gives_an_empty_answer(panels, at):
    """check_values=False (a person's tool panels in /codex me): no BadFilter, no rows, no lookup."""
    nobody = {"user": "nobody@example.com"}
    with pytest.raises(BadFilter, match="No user"):
        panels.run(PanelRequest("tools", "7d", nobody), at)
    for name in ("tools", "decisions"):
        result = panels.run(PanelRequest(name, "7d", nobody, check_values=False), at)
        assert result.rows == [] and result.filters == nobody


@pytest.mark.prometheus
def test_today_and_this_week_are_exact(panels, fleet, at):
    """As of 15:00 Berlin (on the grid): the fleet's end may be local midnight, when "today" is empty."""
    afternoon = at.astimezone(BERLIN).replace(hour=15, minute=0, second=0, microsecond=0)
    if afternoon > at:
        afternoon -= timedelta(days=1)
    for range_text in ("today", "this week", "last week"):
        result = panels.run(PanelRequest("tokens", range_text), afternoon)
        check_against_truth(result, fleet, {})


# --- P95 ------------------------------------------------------------------------------------------------


def nearest_rank_p95(durations: list[float]) -> float:
    ordered = sorted(durations)
    return ordered[math.ceil(0.95 * len(ordered)) - 1]


def bucket_holding(value: float) -> tuple[float, float]:
    """The (lower, upper] histogram bucket a duration is counted in; the first bucket starts at 0."""
    upper = next((b for b in TOOL_DURATION_BUCKETS if value <= b), math.inf)
    lower = max((b for b in TOOL_DURATION_BUCKETS if b < value), default=0.0)
    return lower, upper


def assert_p95_in_true_bucket(estimate: float | None, durations: list[float]) -> None:
    """histogram_quantile finds the first bucket whose cumulative count reaches rank = 0.95 × n and
    interpolates inside it.  Counts are integers, so that bucket is the one holding the ceil(rank)-th
    smallest duration, the nearest-rank P95 of the raw durations: the estimate lies in that bucket.
    (Past the last finite bound Prometheus answers that bound.)"""
    if not durations:
        assert estimate is None
        return
    lower, upper = bucket_holding(nearest_rank_p95(durations))
    assert estimate is not None
    if math.isinf(upper):
        assert estimate == TOOL_DURATION_BUCKETS[-1]
    else:
        assert lower <= estimate <= upper


@pytest.mark.prometheus
@pytest.mark.parametrize(
    ("range_text", "filter_key"), [("7d", None), ("24h", None), ("7d", "tool"), ("yesterday", "model")]
)
def test_p95_lies_in_the_bucket_of_the_true_p95(panels, fleet, at, range_text, filter_key):
    where = {filter_key: busiest(fleet, filter_key)} if filter_key else {}
    result = panels.run(PanelRequest("p95", range_text, where), at)
    window, truth = result.range, fleet.truth
    assert_p95_in_true_bucket(result.figures["p95_seconds"], truth.durations(window.start, window.end, where or None))
    before = window.previous()
    assert_p95_in_true_bucket(result.previous["p95_seconds"], truth.durations(before.start, before.end, where or None))
    step = timedelta(seconds=window.step_seconds)
    (series,) = result.series
    points = dict(series.points)
    for index in range(1, window.seconds // window.step_seconds + 1):
        moment = window.start + index * step
        assert_p95_in_true_bucket(points.get(moment), truth.durations(moment - step, moment, where or None))


@pytest.mark.prometheus
def test_p95_spike_shows_in_the_series(panels, fleet, at):
    spike = fleet.incident("p95-spike")
    result = panels.run(PanelRequest("p95", "7d"), at)
    inside = [v for t, v in result.series[0].points if spike.start < t <= spike.end]
    outside = [
        v
        for t, v in result.series[0].points
        if not spike.start - timedelta(hours=1) < t <= spike.end + timedelta(hours=1)
    ]
    assert inside and max(inside) > sorted(outside)[len(outside) // 2]


# --- filters against the data ---------------------------------------------------------------------------


@pytest.mark.prometheus
def test_unknown_filter_value_suggests_existing_values(panels, fleet, at):
    model = busiest(fleet, "model")
    with pytest.raises(BadFilter) as raised:
        panels.run(PanelRequest("tokens", "7d", {"model": model.upper() + "x"}), at)
    assert model in str(raised.value)


@pytest.mark.prometheus
@pytest.mark.parametrize(
    "value", ['x"} or vector(1) or {a="', ".*", "gpt|.*", "a\\", "\n", "\u202e\u0000é😀", "{" * 5000]
)
def test_hostile_filter_values_are_just_unknown_values(panels, at, value):
    with pytest.raises(BadFilter, match="No model"):
        panels.run(PanelRequest("success", "24h", {"model": value}), at)


@pytest.mark.prometheus
def test_unknown_filter_key_names_the_panels_filters(panels, at):
    with pytest.raises(BadFilter, match="model="):
        panels.run(PanelRequest("sessions", "24h", {"terminal": "vscode"}), at)


@pytest.mark.prometheus
def test_run_many_answers_in_order_as_of_one_instant(panels, fleet, at):
    requests = [PanelRequest(name, "24h") for name in ("tokens", "success", "models", "cost")]
    results = panels.run_many(requests, at)
    assert [r.panel for r in results] == ["tokens", "success", "models", "cost"]
    assert {r.range.end for r in results} == {at}
    for result in results:
        check_against_truth(result, fleet, {})
