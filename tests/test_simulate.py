"""The synthetic fleet: determinism, realistic shapes, traffic patterns, incidents and its ground truth."""

from __future__ import annotations

import hashlib
import json
import statistics
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from codex_bot.simulate.event import SimEvent
from codex_bot.simulate.fleet import FleetConfig, simulate
from codex_bot.simulate.incidents import Incident, parse_incident
from codex_bot.simulate.output import RequestEncoder, batches
from codex_bot.simulate.truth import MEASURES, GroundTruth, dims_of
from codex_bot.telemetry.otlp_json import events_from_json, parse_json_body

UTC = UTC
END = datetime(2026, 11, 27, 12, tzinfo=UTC)  # a Friday noon
SAMPLE = Path(__file__).parent / "data" / "codex_0169_exec_logs.json"  # a real Codex 0.169.0 export
# Four incidents on working-day afternoons of the fleet below, 3 h each, far apart.
INCIDENTS = (
    Incident("success-drop", datetime(2026, 11, 17, 13, tzinfo=UTC), datetime(2026, 11, 17, 16, tzinfo=UTC)),
    Incident("p95-spike", datetime(2026, 11, 18, 13, tzinfo=UTC), datetime(2026, 11, 18, 16, tzinfo=UTC)),
    Incident("cache-fall", datetime(2026, 11, 19, 13, tzinfo=UTC), datetime(2026, 11, 19, 16, tzinfo=UTC)),
    Incident("token-spike", datetime(2026, 11, 20, 13, tzinfo=UTC), datetime(2026, 11, 20, 16, tzinfo=UTC)),
)
CONFIG = FleetConfig(developers=40, days=14, end=END, seed=11, incidents=INCIDENTS)


@pytest.fixture(scope="module")
def events() -> list[SimEvent]:
    return list(simulate(CONFIG))


@pytest.fixture(scope="module")
def truth(events: list[SimEvent]) -> GroundTruth:
    return GroundTruth(events)


def encoded(config: FleetConfig) -> str:
    encoder = RequestEncoder()
    return "\n".join(encoder.encode(batch) for batch in batches(simulate(config)))


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# --- determinism ---------------------------------------------------------------------------------


def test_same_seed_gives_identical_output_and_another_seed_does_not() -> None:
    small = FleetConfig(developers=6, days=3, end=END, seed=5, incidents=(INCIDENTS[0],))
    assert digest(encoded(small)) == digest(encoded(small))
    other = FleetConfig(developers=6, days=3, end=END, seed=6, incidents=(INCIDENTS[0],))
    assert digest(encoded(small)) != digest(encoded(other))


def test_events_are_in_time_order_inside_the_half_open_range(events: list[SimEvent]) -> None:
    times = [e.time_ms for e in events]
    assert times == sorted(times)
    assert CONFIG.start.timestamp() * 1000 < times[0] and times[-1] <= END.timestamp() * 1000


# --- shapes like real Codex ---------------------------------------------------------------------


def _value_types(records: list[tuple[str, dict]]) -> dict[tuple[str, str], set[type]]:
    found: dict[tuple[str, str], set[type]] = {}
    for name, attributes in records:
        for key, value in attributes.items():
            found.setdefault((name, key), set()).add(type(value))
    return found


def test_attribute_names_and_value_types_match_a_real_codex_export(events: list[SimEvent]) -> None:
    real = [(e.name, dict(e.attributes)) for e in events_from_json(json.loads(SAMPLE.read_text()))]
    simulated = [(e.name, e.all_attributes()) for e in events]
    real_types, simulated_types = _value_types(real), _value_types(simulated)
    skipped = {"provider_name", "mcp_servers", "prompt", "output"}  # free text, not shapes
    for (name, key), types in real_types.items():
        if name and name != "codex.startup_phase" and key not in skipped:
            assert simulated_types.get((name, key)) == types, (name, key)


def test_the_fleet_covers_what_the_pipeline_must_handle(events: list[SimEvent]) -> None:
    attrs = [(e, e.all_attributes()) for e in events]
    endpoints = Counter(a.get("endpoint") for e, a in attrs if e.name == "codex.api_request")
    assert endpoints["/models"] > 0 and endpoints["/responses"] > 0
    assert any(e.name == "codex.websocket_request" for e in events)
    completed = [a for e, a in attrs if a.get("event.kind") == "response.completed"]
    assert any("input_token_count" not in a for a in completed)  # Codex's tokenless duplicate
    assert any(not e.name and e.body for e in events)  # debug records without event.name
    assert {a.get("decision") for _, a in attrs} >= {"approved", "approved_for_session", "denied", "abort"}
    assert {a.get("source") for _, a in attrs} >= {"Config", "User"}
    assert {a.get("model") for _, a in attrs} >= {"gpt-5-codex", "gpt-5.1-codex", "gpt-5.1-codex-mini", "o4-mini"}
    assert {a.get("tool_name") for _, a in attrs} >= {
        "exec_command",
        "apply_patch",
        "write_stdin",
        "view_image",
        "mcp__github__create_pr",
    }
    assert len({a.get("terminal.type") for _, a in attrs}) >= 4
    assert any(a.get("success") is False for e, a in attrs if e.name == "codex.api_request")
    assert any(a.get("success") == "false" for e, a in attrs if e.name == "codex.tool_result")
    assert any(
        a.get("http.response.status_code") != 200 and "success" not in a
        for e, a in attrs
        if e.name == "codex.api_request"
    )  # API-key failures: status only


def test_three_kinds_of_identity(events: list[SimEvent], truth: GroundTruth) -> None:
    with_email = {e.common["user.email"] for e in events if "user.email" in e.common}
    account_only = {
        e.common["user.account_id"] for e in events if "user.email" not in e.common and "user.account_id" in e.common
    }
    on_resource = {e.resource["user.email"] for e in events if e.name and "user.account_id" not in e.common}
    assert with_email and account_only and on_resource
    assert all("@" in r for r in on_resource)
    assert truth.values("user", "prompts") == with_email | account_only | on_resource


# --- patterns -----------------------------------------------------------------------------------


def _per_day(truth: GroundTruth, measure: str) -> dict[datetime, int]:
    day = CONFIG.start.replace(hour=0)
    out = {}
    while day + timedelta(days=1) <= END:
        if day >= CONFIG.start:
            out[day] = truth.total(measure, day, day + timedelta(days=1))
        day += timedelta(days=1)
    return out


def test_weekdays_carry_far_more_traffic_than_weekends(truth: GroundTruth) -> None:
    days = _per_day(truth, "prompts")
    weekdays = [n for d, n in days.items() if d.weekday() < 5]
    weekend = [n for d, n in days.items() if d.weekday() >= 5]
    assert len(weekend) >= 2 and len(weekdays) >= 8
    assert statistics.mean(weekdays) > 6 * statistics.mean(weekend)


def test_working_hours_carry_far_more_traffic_than_nights(truth: GroundTruth) -> None:
    by_hour = Counter()
    hour = CONFIG.start
    while hour < END:
        by_hour[hour.hour] += truth.total("model_calls", hour, hour + timedelta(hours=1))
        hour += timedelta(hours=1)
    day_rate = sum(by_hour[h] for h in range(9, 17)) / 8
    night_rate = sum(by_hour[h] for h in range(0, 6)) / 6
    assert day_rate > 25 * max(night_rate, 1)


def test_some_users_first_appear_mid_range(truth: GroundTruth) -> None:
    firsts = [truth.first_seen("user", u) for u in truth.values("user", "prompts")]
    late = [t for t in firsts if t is not None and t > CONFIG.start + timedelta(days=3)]
    assert 1 <= len(late) < len(firsts)


# --- incidents ----------------------------------------------------------------------------------


def _inside_and_outside(truth: GroundTruth, incident: Incident, ratio) -> tuple[float, float]:
    """The ratio inside the incident and on the same hours of the other weekdays."""
    inside = ratio(incident.start, incident.end)
    others = []
    for days in range(-8, 9):
        start = incident.start + timedelta(days=days)
        if days and start.weekday() < 5 and CONFIG.start < start and start + (incident.end - incident.start) <= END:
            if not any(i.start <= start < i.end for i in INCIDENTS):
                others.append(ratio(start, start + (incident.end - incident.start)))
    return inside, statistics.median(others)


def test_success_drop_is_visible_in_truth(truth: GroundTruth) -> None:
    def failure_ratio(a, b):
        return truth.total("failed_model_calls", a, b) / truth.total("model_calls", a, b)

    inside, usual = _inside_and_outside(truth, INCIDENTS[0], failure_ratio)
    assert inside > 0.25 and usual < 0.05


def test_p95_spike_is_visible_in_truth(truth: GroundTruth) -> None:
    def p95(a, b):
        return statistics.quantiles(truth.durations(a, b, where={"tool": "exec_command"}), n=20)[-1]

    inside, usual = _inside_and_outside(truth, INCIDENTS[1], p95)
    assert inside > 4 * usual


def test_cache_fall_is_visible_in_truth(truth: GroundTruth) -> None:
    def cache_rate(a, b):
        return truth.total("cached_input_tokens", a, b) / truth.total("input_tokens", a, b)

    inside, usual = _inside_and_outside(truth, INCIDENTS[2], cache_rate)
    assert usual > 0.6 and inside < 0.5 * usual


def test_token_spike_is_visible_in_truth(truth: GroundTruth) -> None:
    def tokens_per_call(a, b):
        return (truth.total("input_tokens", a, b) + truth.total("output_tokens", a, b)) / truth.total(
            "model_calls", a, b
        )

    inside, usual = _inside_and_outside(truth, INCIDENTS[3], tokens_per_call)
    assert inside > 3 * usual


def test_token_spike_shows_even_when_nobody_works() -> None:
    """A spike is a runaway agent loop: it shows in the middle of the night too, and adds no tool calls."""
    night = Incident("token-spike", datetime(2026, 11, 26, 1, tzinfo=UTC), datetime(2026, 11, 26, 3, tzinfo=UTC))
    quiet = FleetConfig(developers=4, days=3, end=END, seed=3)
    spiked = FleetConfig(developers=4, days=3, end=END, seed=3, incidents=(night,))
    before, after = GroundTruth(simulate(quiet)), GroundTruth(simulate(spiked))
    tokens = after.total("input_tokens", night.start, night.end) - before.total("input_tokens", night.start, night.end)
    assert tokens > 1_000_000
    assert after.total("tool_calls", night.start, night.end) == before.total("tool_calls", night.start, night.end)


def test_incident_spec_parses_back() -> None:
    incident = parse_incident("success-drop@2026-11-20T10:00/2h")
    assert (incident.start, incident.end) == (
        datetime(2026, 11, 20, 10, tzinfo=UTC),
        datetime(2026, 11, 20, 12, tzinfo=UTC),
    )
    assert parse_incident(incident.spec()) == incident


@pytest.mark.parametrize(
    "text",
    [
        "boom@2026-11-20T10:00/2h",
        "success-drop@2026-11-20T10:00",
        "p95-spike@x/2h",
        "cache-fall@2026-11-20T10:00/0h",
        "token-spike@2026-11-20T10:00/2w",
    ],
)
def test_bad_incident_specs_are_refused_with_a_reason(text: str) -> None:
    with pytest.raises(Exception) as caught:
        parse_incident(text)
    assert "incident" in str(caught.value) or "duration" in str(caught.value)


# --- ground truth -------------------------------------------------------------------------------


def test_encoded_requests_decode_to_exactly_the_simulated_events() -> None:
    """What backfill and ingest read is what the truth counted: same names, times, attributes, resources."""
    events = list(simulate(FleetConfig(developers=8, days=3, end=END, seed=2)))
    encoder = RequestEncoder()
    decoded = [d for batch in batches(events) for d in parse_json_body(encoder.encode(batch))]

    def key(name, time_ns, attributes, resource):
        return name, time_ns, tuple(sorted(attributes.items())), tuple(sorted(resource.items()))

    assert Counter(key(d.name, d.time_ns, d.attributes, d.resource) for d in decoded) == Counter(
        key(e.name, e.time_ms * 1_000_000, e.all_attributes(), e.resource) for e in events
    )


def test_truth_counts_agree_with_plain_event_counts(events: list[SimEvent], truth: GroundTruth) -> None:
    names = Counter(e.name for e in events)
    start, end = CONFIG.start, END
    assert truth.total("conversations", start, end) == names["codex.conversation_starts"]
    assert truth.total("conversations", start, end) == len(
        {e.common["conversation.id"] for e in events if e.name == "codex.conversation_starts"}
    )
    assert truth.total("prompts", start, end) == names["codex.user_prompt"]
    assert truth.total("tool_calls", start, end) == names["codex.tool_result"]
    assert truth.total("decisions", start, end) == names["codex.tool_decision"]
    models_lists = sum(1 for e in events if e.attributes.get("endpoint") == "/models")
    assert truth.total("model_calls", start, end) == (
        names["codex.api_request"] - models_lists + names["codex.websocket_request"]
    )
    usage = [e.attributes for e in events if "input_token_count" in e.attributes]
    assert truth.total("input_tokens", start, end) == sum(int(a["input_token_count"]) for a in usage)
    assert truth.total("reasoning_tokens", start, end) == sum(a["reasoning_token_count"] for a in usage)


@pytest.mark.parametrize("measure", MEASURES)
def test_breakdowns_add_up_to_totals(truth: GroundTruth, measure: str) -> None:
    total = truth.total(measure, CONFIG.start, END)
    assert total > 0
    for dim in dims_of(measure):
        assert sum(truth.total(measure, CONFIG.start, END, by=(dim,)).values()) == total


def test_token_relations_hold(truth: GroundTruth) -> None:
    by_model = {
        m: truth.total(m, CONFIG.start, END, by=("model",))
        for m in ("input_tokens", "cached_input_tokens", "output_tokens", "reasoning_tokens")
    }
    for model, cached in by_model["cached_input_tokens"].items():
        assert 0 < cached < by_model["input_tokens"][model]
        assert 0 < by_model["reasoning_tokens"][model] < by_model["output_tokens"][model]


def test_windows_are_half_open(events: list[SimEvent], truth: GroundTruth) -> None:
    prompt = next(e for e in events if e.name == "codex.user_prompt")
    at = prompt.time
    same_time = sum(1 for e in events if e.name == "codex.user_prompt" and e.time_ms == prompt.time_ms)
    assert truth.total("prompts", at - timedelta(seconds=1), at) >= same_time
    assert truth.total("prompts", at, at + timedelta(milliseconds=1)) == sum(
        1 for e in events if e.name == "codex.user_prompt" and e.time_ms == prompt.time_ms + 1
    )


def test_where_and_by_are_checked_against_the_measure(truth: GroundTruth) -> None:
    with pytest.raises(ValueError, match="has no dim tool"):
        truth.total("input_tokens", CONFIG.start, END, by=("tool",))
    with pytest.raises(ValueError, match="unknown measure"):
        truth.total("tokens", CONFIG.start, END)
    failed = truth.total("model_calls", CONFIG.start, END, where={"success": "false"})
    assert failed == truth.total("failed_model_calls", CONFIG.start, END)
    both = truth.total("tool_calls", CONFIG.start, END, where={"tool": {"exec_command", "apply_patch"}})
    assert both == sum(
        truth.total("tool_calls", CONFIG.start, END, where={"tool": t}) for t in ("exec_command", "apply_patch")
    )
