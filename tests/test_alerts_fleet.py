"""Alert evaluation against the real Prometheus holding the synthetic fleet and its planted incidents.

Expected behaviour is derived from the fleet's ground truth: an oracle recomputes each rule's
figure, volume and baseline from the raw events, and the engine must fire when (and only
after) the oracle says the condition held for `for`, within one evaluation interval.
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from codex_bot.alerts.evaluate import Evaluation, evaluate, window_seconds
from codex_bot.alerts.loader import load_rules
from codex_bot.alerts.replay import replay
from codex_bot.alerts.rules import Rule
from codex_bot.alerts.sampling import Sampler
from codex_bot.alerts.state import AlertState
from codex_bot.cli import main as codex_bot
from codex_bot.metrics.client import PrometheusClient
from codex_bot.panels.cost import load_prices
from codex_bot.telemetry.contract import TOOL_DURATION_BUCKETS

RULES_DIR = Path(__file__).resolve().parents[1] / "rules"
RULES = {
    r.name: r for r in load_rules(RULES_DIR, exclude=[RULES_DIR / "digests.yaml", RULES_DIR / "budgets.yaml"]).rules
}
INCIDENT_OF = {
    "success-rate-drop": "success-drop",
    "command-p95-spike": "p95-spike",
    "cache-rate-fall": "cache-fall",
    "token-spike": "token-spike",
    "cost-spike": "token-spike",
}
DETECTS = ("success-rate-drop", "command-p95-spike", "cache-rate-fall", "token-spike")


@pytest.fixture(scope="module")
def fleet(backend_fleet):
    """These figure tests run on every metrics backend (Prometheus, VictoriaMetrics): see conftest."""
    return backend_fleet


@pytest.fixture(scope="module")
def client(fleet) -> Iterator[PrometheusClient]:
    prometheus = PrometheusClient(fleet.prometheus_url, timeout=30)
    yield prometheus
    prometheus.close()


@pytest.fixture(scope="module")
def sampler_for(client) -> Callable[[], Sampler]:
    prices = load_prices()
    return lambda: Sampler(client, prices)


def success_rule(**fields: object) -> Rule:
    """A success-rate rule like the shipped one, with ``fields`` changed."""
    base = {
        "name": "success",
        "figure": "success.success_rate_pct",
        "window": "1h",
        "condition": "below 75",
        "resolve": "above 90",
        "for": "5m",
        "min_volume": {"figure": "success.requests", "at_least": 8},
        "channel": "#alerts",
    }
    return Rule.model_validate({k: v for k, v in {**base, **fields}.items() if v is not None})


def interval(fleet) -> timedelta:
    return timedelta(seconds=fleet.step_seconds)


def rule_window(rule: Rule) -> timedelta:
    return timedelta(seconds=window_seconds(rule.window))


# --- the ground-truth oracle --------------------------------------------------------------------


def histogram_quantile(q: float, durations: list[float]) -> float | None:
    """What Prometheus's histogram_quantile answers for these observations in the contract's buckets."""
    if not durations:
        return None
    rank, below, lower = q * len(durations), 0, 0.0
    for bound in TOOL_DURATION_BUCKETS:
        count = sum(1 for d in durations if d <= bound)
        if count >= rank:
            return lower + (bound - lower) * (rank - below) / (count - below)
        below, lower = count, bound
    return TOOL_DURATION_BUCKETS[-1]


def truth_figure(fleet, figure: str, filters: dict[str, str], start: datetime, end: datetime) -> float | None:
    truth = fleet.truth
    total = lambda measure: truth.total(measure, start, end, filters or None)
    if figure == "success.success_rate_pct":
        requests = total("model_calls")
        return 100.0 * (requests - total("failed_model_calls")) / requests if requests else None
    if figure in ("success.requests", "sessions.model_calls"):
        return float(total("model_calls"))
    if figure == "p95.p95_seconds":
        return histogram_quantile(0.95, truth.durations(start, end, filters or None))
    if figure == "cache-rate.cache_rate_pct":
        inputs = total("input_tokens")
        return 100.0 * total("cached_input_tokens") / inputs if inputs else None
    if figure == "tokens.input":
        return float(total("input_tokens"))
    if figure == "tokens.total":
        return float(total("input_tokens") + total("output_tokens"))
    raise AssertionError(f"no oracle for {figure}")


def truth_holds(fleet, rule: Rule, at: datetime) -> bool:
    """Whether the rule's condition (with its minimum volume and baseline) holds at ``at`` per the raw events."""
    window = rule_window(rule)
    value = truth_figure(fleet, str(rule.figure), rule.filters, at - window, at)
    if value is None:
        return False
    if rule.min_volume is not None:
        volume = truth_figure(fleet, str(rule.min_volume.figure), rule.volume_filters, at - window, at)
        if (volume or 0) < rule.min_volume.at_least:
            return False
    baseline = None
    if rule.condition.baseline is not None:
        earlier = [
            truth_figure(fleet, str(rule.figure), rule.filters, at - off - window, at - off)
            for off in rule.condition.baseline.offsets()
        ]
        baseline = statistics.median(v for v in earlier if v is not None)
    threshold = rule.condition.threshold(baseline)
    return threshold is not None and rule.condition.holds(value, threshold)


def truth_fires_at(fleet, rule: Rule, times: list[datetime]) -> tuple[datetime | None, datetime | None]:
    """(first instant the condition holds, first instant it has held for `for` on the evaluation grid)."""
    holds = {t: truth_holds(fleet, rule, t) for t in times}
    step = interval(fleet)
    needed = math.ceil(rule.for_ / step)
    first = next((t for t in times if holds[t]), None)
    fired = next((t for t in times if all(holds.get(t - k * step, False) for k in range(needed + 1))), None)
    return first, fired


# --- walking the evaluation like a running bot -----------------------------------------------------


def walk(
    rules: list[Rule], start: datetime, end: datetime, sampler_for, step: timedelta, previous: dict | None = None
) -> list[Evaluation]:
    """evaluate() at every grid instant from start to end, each cycle seeing the previous states."""
    previous = dict(previous or {})
    cycles, at = [], start
    while at <= end:
        result = evaluate(rules, at, sampler_for(), previous, step)
        previous = {(s.rule, s.key): s for s in result.states}
        cycles.append(result)
        at += step
    return cycles


def firing_times(cycles: list[Evaluation], rule: str) -> list[datetime]:
    return [c.at for c in cycles if any(s.rule == rule and s.state == "firing" for s in c.states)]


@pytest.mark.prometheus
@pytest.mark.parametrize("name", DETECTS)
def test_each_planted_incident_fires_in_time_and_resolves_after_it_ends(fleet, sampler_for, name):
    rule = RULES[name]
    incident = fleet.incident(INCIDENT_OF[name])
    step = interval(fleet)
    start = fleet.align(incident.start) - 2 * step
    end = fleet.align(incident.end + rule_window(rule) + rule.for_) + 3 * step
    times = [start + i * step for i in range(int((end - start) / step) + 1)]
    first_hold, truth_fire = truth_fires_at(fleet, rule, times)
    assert first_hold is not None and truth_fire is not None, f"the fleet's {incident.kind} left no trace for {name}"

    cycles = walk([rule], start, end, sampler_for, step)
    fired = firing_times(cycles, name)
    assert fired, f"{name} never fired during {incident}"
    assert first_hold + rule.for_ <= fired[0] + step  # never before the condition held for `for` ...
    assert fired[0] <= truth_fire + step  # ... and within one interval once it had
    assert fired[0] > incident.start
    final = [s for s in cycles[-1].states if s.rule == name]
    assert final and not any(s.firing for s in final), "still firing long after the incident ended"
    closed = [t for c in cycles for t in c.transitions if t.closed]
    assert closed and closed[-1].state.evaluated_at > fired[-1] - step


@pytest.mark.prometheus
def test_nothing_else_fires_over_the_whole_fleet(fleet, sampler_for):
    step = interval(fleet)
    start = fleet.align(fleet.start) + step
    episodes = replay(list(RULES.values()), start, fleet.align(fleet.end), sampler_for(), step)
    assert {e.rule for e in episodes} >= {"success-rate-drop", "command-p95-spike", "cache-rate-fall"}
    for episode in episodes:
        rule = RULES[episode.rule]
        kind = INCIDENT_OF[episode.rule]
        related = [
            i for i in fleet.incidents if i.kind == kind and i.start < episode.started_at <= i.end + rule_window(rule)
        ]
        assert related, f"{episode.rule} fired at {episode.fired_at:%a %H:%M} with no {kind} incident then"


@pytest.mark.prometheus
def test_replay_and_successive_evaluation_agree(fleet, sampler_for):
    rule = RULES["success-rate-drop"]
    incident = fleet.incident("success-drop")
    step = interval(fleet)
    start, end = fleet.align(incident.start), fleet.align(incident.end + rule_window(rule))
    cycles = walk([rule], start, end, sampler_for, step)
    episodes = replay([rule], start, end, sampler_for(), step)
    assert [e.fired_at for e in episodes] == [c.at for c in cycles for t in c.transitions if t.opened]


@pytest.mark.prometheus
def test_rules_eval_at_a_past_instant_reconstructs_for(fleet, sampler_for, capsys, monkeypatch):
    rule = RULES["success-rate-drop"]
    incident = fleet.incident("success-drop")
    step = interval(fleet)
    episodes = replay(
        [rule], fleet.align(incident.start), fleet.align(incident.end + rule_window(rule)), sampler_for(), step
    )
    firing_at = episodes[0].fired_at
    monkeypatch.setenv("CODEX_BOT_ALERT_INTERVAL_SECONDS", str(fleet.step_seconds))
    argv = ["rules", "eval", "--dir", str(RULES_DIR), "--prometheus", fleet.prometheus_url, "--json"]
    assert codex_bot([*argv, "--at", firing_at.isoformat()]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert all(set(item) == {"rule", "labels", "state", "value", "threshold"} for item in answer)
    (success,) = [item for item in answer if item["rule"] == rule.name]
    assert success["state"] == "firing" and success["value"] < success["threshold"] == 75.0
    before = firing_at - step  # the condition held, but not yet for `for`: pending
    assert codex_bot([*argv, "--at", str(int(before.timestamp()))]) == 0
    assert [i["state"] for i in json.loads(capsys.readouterr().out) if i["rule"] == rule.name] == ["pending"]


@pytest.mark.prometheus
def test_prometheus_unreachable_is_error_and_keeps_firing_alerts_open(fleet):
    closed = PrometheusClient("http://127.0.0.1:9", timeout=2)
    rule = RULES["success-rate-drop"]
    at = fleet.align(fleet.end)
    firing = AlertState(
        rule.name, {}, "firing", at - interval(fleet), 50.0, 75.0, at - timedelta(hours=1), at - timedelta(minutes=50)
    )
    result = evaluate(
        list(RULES.values()), at, Sampler(closed, load_prices()), {(rule.name, "{}"): firing}, interval(fleet)
    )
    assert {s.state for s in result.states} == {"error"}
    assert set(result.failures) == set(RULES) and "Cannot reach Prometheus" in result.failures[rule.name]
    (kept,) = [s for s in result.states if s.rule == rule.name]
    assert kept.firing and kept.fired_at == firing.fired_at
    assert not [t for t in result.transitions if t.closed or t.opened]
    closed.close()


@pytest.mark.prometheus
def test_no_data_for_a_missing_group_or_filter_value(fleet, sampler_for):
    ghost = success_rule(name="ghost-model", filters={"model": "no-such-model"})
    grouped = success_rule(name="by-model", group_by=["model"])
    at = fleet.align(fleet.end)
    gone = AlertState(
        "by-model",
        {"model": "retired-model"},
        "firing",
        at - interval(fleet),
        40.0,
        75.0,
        at - timedelta(hours=1),
        at - timedelta(minutes=30),
    )
    result = evaluate([ghost, grouped], at, sampler_for(), {("by-model", gone.key): gone}, interval(fleet))
    states = {(s.rule, s.labels.get("model")): s for s in result.states}
    assert states["ghost-model", None].state == "nodata"
    assert states["by-model", "retired-model"].state == "nodata"
    assert [t.state.labels for t in result.transitions if t.closed] == [{"model": "retired-model"}]
    models = {m for rule, m in states if rule == "by-model"} - {"retired-model"}
    assert models and models <= fleet.truth.values("model")


@pytest.mark.prometheus
def test_minimum_volume_keeps_thin_traffic_from_firing(fleet, sampler_for):
    incident = fleet.incident("success-drop")
    step = interval(fleet)
    twitchy = success_rule(name="any-failure", condition="below 100", resolve=None, min_volume=None, **{"for": "0"})
    guarded = success_rule(
        name="guarded",
        condition="below 100",
        resolve=None,
        **{"for": "0"},
        min_volume={"figure": "success.requests", "at_least": 1_000_000},
    )
    start, end = fleet.align(incident.start), fleet.align(incident.end)
    episodes = replay([twitchy, guarded], start, end, sampler_for(), step)
    assert {e.rule for e in episodes} == {"any-failure"}
    cycle = evaluate([guarded], end, sampler_for(), None, step)
    assert cycle.states[0].state == "inactive" and "below the minimum" in cycle.states[0].reason


@pytest.mark.prometheus
def test_hysteresis_holds_alerts_between_the_thresholds(fleet, sampler_for):
    plain = RULES["success-rate-drop"].model_copy(update={"name": "plain", "resolve": None})
    sticky = RULES["success-rate-drop"].model_copy(update={"name": "sticky"})
    step = interval(fleet)
    start, end = fleet.align(fleet.start) + step, fleet.align(fleet.end)
    episodes = replay([plain, sticky], start, end, sampler_for(), step)
    plains = [e for e in episodes if e.rule == "plain"]
    stickies = [e for e in episodes if e.rule == "sticky"]
    assert plains and len(stickies) <= len(plains)
    for episode in plains:  # every plain firing lies inside a sticky one, which may last longer
        assert any(
            s.fired_at <= episode.fired_at and (s.resolved_at or end) >= (episode.resolved_at or end) for s in stickies
        )


@pytest.mark.prometheus
def test_rules_sharing_a_query_run_it_once(fleet, sampler_for):
    rule = RULES["success-rate-drop"]
    twins = [rule.model_copy(update={"name": f"copy-{i}"}) for i in range(5)]
    at = fleet.align(fleet.end)
    alone = evaluate([rule], at, sampler_for(), None, interval(fleet)).queries
    together = evaluate(twins, at, sampler_for(), None, interval(fleet)).queries
    assert together == alone == 2  # requests and failed, shared by the value and the volume figure


class MovingFrontend(PrometheusClient):
    """The real Prometheus behind a query frontend that moves range queries' steps onto its own grid
    (as caching frontends align them to the step): here a minute early, off the 2-minute evaluation grid."""

    def query_range(self, promql: str, start: datetime, end: datetime, step_seconds: int):  # type: ignore[override]
        moved = timedelta(minutes=1)
        return super().query_range(promql, start - moved, end - moved, step_seconds)


@pytest.mark.prometheus
def test_a_frontend_that_moves_range_steps_changes_no_alert(fleet, sampler_for):
    """Baselines (7d medians) and replays read several instants in one range query: moved steps would read
    other windows, so the sampler asks those instants one by one and the alerts come out the same."""
    rule = RULES["token-spike"]
    incident = fleet.incident(INCIDENT_OF["token-spike"])
    step = interval(fleet)
    start, end = fleet.align(incident.start) - 2 * step, fleet.align(incident.end + rule_window(rule)) + step
    moving = MovingFrontend(fleet.prometheus_url, timeout=30)
    try:
        behind_frontend = replay([rule], start, end, Sampler(moving, load_prices()), step)
    finally:
        moving.close()
    direct = replay([rule], start, end, sampler_for(), step)
    assert direct and [(e.fired_at, e.resolved_at) for e in behind_frontend] == [
        (e.fired_at, e.resolved_at) for e in direct
    ]
