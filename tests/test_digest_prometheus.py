"""A digest composed against the real Prometheus holding the synthetic fleet: every figure equals the
generator's ground truth, the charts are real PNGs from the bundled renderer, the alerts are those of
the period, and per-user figures only go where they are allowed."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from chart_fixtures import chart_renderer, read_png  # noqa: F401 - fixture

from codex_bot.access import AccessPolicy
from codex_bot.alerts.records import AlertRecords
from codex_bot.delivery.console import blocks_to_text
from codex_bot.digests.compose import DigestComposer
from codex_bot.digests.definitions import DigestDefinition
from codex_bot.digests.layout import digest_messages
from codex_bot.digests.shared import SharedQueries
from codex_bot.errors import UserError
from codex_bot.metrics.client import PrometheusClient
from codex_bot.panels.cost import load_prices
from codex_bot.panels.service import Panels
from codex_bot.store import Store

pytestmark = pytest.mark.prometheus
UTC = ZoneInfo("UTC")
CHANNEL = "eng-codex"


@pytest.fixture(scope="module")
def fleet(backend_fleet):
    """These figure tests run on every metrics backend (Prometheus, VictoriaMetrics): see conftest."""
    return backend_fleet


@pytest.fixture(scope="module")
def panels(fleet):
    client = PrometheusClient(fleet.prometheus_url, timeout=30)
    yield Panels(client, UTC, load_prices())
    client.close()


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    store = Store.open(tmp_path_factory.mktemp("digest") / "state.sqlite")
    yield store
    store.close()


def daily_at(end: datetime, **fields) -> DigestDefinition:
    """A daily digest whose slot is the fleet's end (a full hour, on the backfill grid)."""
    return DigestDefinition(
        **{"name": "daily", "channel": f"#{CHANNEL}", "schedule": f"0 {end.hour} * * *", "timezone": "UTC", **fields}
    )


def add_episode(store: Store, rule: str, fired_at: datetime, labels: dict[str, str]) -> None:
    with store.transaction() as tx:
        tx.execute(
            "INSERT INTO alert_episodes (rule, group_key, labels, severity, started_at, fired_at, value, threshold)"
            " VALUES (:rule, :key, :labels, 'warning', :started, :fired, 80.5, 95)",
            {
                "rule": rule,
                "key": json.dumps(labels),
                "labels": json.dumps(labels),
                "started": fired_at.timestamp() - 300,
                "fired": fired_at.timestamp(),
            },
        )


def expected_headline(truth, start: datetime, end: datetime, where=None) -> dict[str, float | None]:
    total = lambda measure: truth.total(measure, start, end, where)
    calls, failed, inputs = total("model_calls"), total("failed_model_calls"), total("input_tokens")
    return {
        "Input tokens": inputs,
        "Output tokens": total("output_tokens"),
        "Cached tokens": total("cached_input_tokens"),
        "Cache rate": 100.0 * total("cached_input_tokens") / inputs if inputs else None,
        "Conversations": total("conversations"),
        "Model calls": calls,
        "Success rate": 100.0 * (calls - failed) / calls if calls else None,
        "Failed calls": failed,
    }


def top(truth, measure: str, label: str, start, end, limit: int) -> list[tuple[str, int]]:
    totals = {k[0]: v for k, v in truth.total(measure, start, end, by=(label,)).items() if v}
    return sorted(totals.items(), key=lambda item: (-item[1], item[0]))[:limit]


def test_digest_figures_equal_the_fleet_ground_truth(fleet, panels, store, chart_renderer):  # noqa: F811
    end = fleet.align(fleet.end)
    definition = daily_at(end)
    add_episode(store, "success-drop", end - timedelta(hours=3), {"model": "gpt-5-codex"})
    add_episode(store, "old-news", end - timedelta(days=2), {})
    composer = DigestComposer(
        panels,
        chart_renderer,
        alerts=AlertRecords(store),
        access=AccessPolicy(personal_data_channels=frozenset({CHANNEL})),
    )
    digest = composer.build(definition, end)

    start = end - timedelta(days=1)
    assert (digest.window.start, digest.window.end) == (start, end)
    headline = {h.label: h for h in digest.headline()}
    truth, before = fleet.truth, (start - timedelta(days=1), start)
    for label, value in expected_headline(truth, start, end).items():
        assert headline[label].value == pytest.approx(value, rel=1e-9), label
    for label, value in expected_headline(truth, *before).items():
        assert headline[label].previous == pytest.approx(value, rel=1e-9), label
    assert headline["Est. cost"].value > 0 and headline["Command P95"].value > 0

    users = [(r["user"], r["prompts"]) for r in digest.rows("users")[:5]]
    assert users == top(truth, "prompts", "user", start, end, 5)
    assert [(r["model"], r["model_calls"]) for r in digest.rows("models")[:5]] == top(
        truth, "model_calls", "model", start, end, 5
    )
    assert [(r["tool"], r["calls"]) for r in digest.rows("tools")[:5]] == top(
        truth, "tool_calls", "tool", start, end, 5
    )
    decisions = {r["decision"]: r["count"] for r in digest.rows("decisions")}
    assert decisions == {k[0]: v for k, v in truth.total("decisions", start, end, by=("decision",)).items() if v}

    assert [a.rule for a in digest.alerts] == ["success-drop"]
    assert [c.filename for c in digest.charts] == ["usage-1d.png", "p95-1d.png", "models-1d.png"]
    for chart in digest.charts:
        assert read_png(chart.png).width == 800

    text = blocks_to_text(digest_messages(digest, source="Prometheus").main.blocks_json())
    assert users[0][0] in text and "success-drop" in text and "old-news" not in text


def test_a_team_digest_covers_its_model_only(fleet, panels, store):
    end = fleet.align(fleet.end)
    model = top(fleet.truth, "model_calls", "model", end - timedelta(days=7), end, 1)[0][0]
    other = next(m for m in fleet.truth.values("model") if m != model)
    add_episode(store, "other-model-alert", end - timedelta(hours=2), {"model": other})
    definition = daily_at(end, filters={"model": model}, range="7d")
    digest = DigestComposer(panels, None, alerts=AlertRecords(store)).build(definition, end)
    start = end - timedelta(days=7)
    headline = {h.label: h.value for h in digest.headline()}
    for label, value in expected_headline(fleet.truth, start, end, {"model": model}).items():
        assert headline[label] == pytest.approx(value, rel=1e-9), label
    assert [r["model"] for r in digest.rows("models")] == [model]
    assert "other-model-alert" not in [a.rule for a in digest.alerts]
    assert digest.charts == []  # no renderer given


def test_per_user_figures_stay_out_of_channels_not_allowed(fleet, panels):
    end = fleet.align(fleet.end)
    composer = DigestComposer(panels, None, access=AccessPolicy(personal_data_channels=frozenset({"leads"})))
    digest = composer.build(daily_at(end), end)
    assert "users" not in digest.results and any("personal data" in note for note in digest.notes)
    allowed = composer.build(daily_at(end), end, channel="#leads")
    assert allowed.rows("users")


def test_identical_queries_of_a_digest_run_once(fleet, panels):
    shared = SharedQueries(panels.client)
    end = fleet.align(fleet.end)
    promql = 'sum(increase(codex_tokens_total{type="input"}[1d]))'
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: shared.query(promql, end), range(8)))
        failures = list(pool.map(lambda _: _error(lambda: shared.query("sum(", end)), range(4)))
    assert shared.queries_run == 2
    assert all(a == answers[0] for a in answers)
    assert answers[0][0].value == fleet.truth.total("input_tokens", end - timedelta(days=1), end)
    assert len({type(f) for f in failures}) == 1 and isinstance(failures[0], UserError)


def _error(call) -> Exception | None:
    try:
        call()
    except Exception as exc:  # noqa: BLE001 - the test compares what each caller got
        return exc
    return None


def test_a_calendar_range_follows_the_digest_timezone(fleet, panels):
    berlin = ZoneInfo("Europe/Berlin")
    end = fleet.align(fleet.end)
    definition = DigestDefinition(
        name="weekly",
        channel="#leads",
        schedule="0 8 * * MON",
        timezone="Europe/Berlin",
        range="yesterday",
        panels=["sessions"],
        charts=[],
    )
    digest = DigestComposer(panels, None).build(definition, end)
    start, stop = (moment.astimezone(berlin) for moment in (digest.window.start, digest.window.end))
    assert (start.hour, start.minute, stop.hour, stop.minute) == (0, 0, 0, 0) and stop.date() == end.astimezone(
        berlin
    ).date()
    headline = {h.label: h.value for h in digest.headline()}
    assert headline["Conversations"] == fleet.truth.total("conversations", digest.window.start, digest.window.end)
