"""App Home and ``/codex me`` end to end: signed events, select choices and slash commands to the served app
(HTTP mode) and over Socket Mode, a real Prometheus holding the synthetic fleet, the bundled chart renderer,
and the Slack emulator receiving the published views and answers.

Each published view must equal the home-view builder's output for what the panel service answers as of the
same instant, and its figures the generator's ground truth.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from chart_fixtures import chart_renderer  # noqa: F401 - fixture
from prometheus_fleet import Fleet, free_port
from slack_emulator import (
    APP_TOKEN,
    BOT_TOKEN,
    ServedApp,
    SlackEmulator,
    SocketModeEndpoint,
    blocks_of,
    build_bot,
    home_opened_callback,
    manifest_scopes,
    select_payload,
    slash_command_payload,
)
from slack_sdk import WebClient

from codex_bot.charts.renderer import ChartRenderer
from codex_bot.delivery.console import blocks_to_text
from codex_bot.digests.service import load_definitions
from codex_bot.formatting import humanize
from codex_bot.metrics.client import PrometheusClient
from codex_bot.panels.cost import load_prices
from codex_bot.panels.personal import PersonalUsage, personal_usage
from codex_bot.panels.request import PanelRequest
from codex_bot.panels.service import Panels
from codex_bot.settings import load_settings
from codex_bot.slack.blocks import table_section
from codex_bot.slack.home_view import (
    HEADLINE_PANELS,
    RANGE_ACTION,
    YOU_PANELS,
    Chart,
    FiringAlert,
    HomeData,
    NextDigest,
    home_view,
)
from codex_bot.slack.personal_blocks import personal_blocks
from codex_bot.slack.replies import source_label
from codex_bot.slack.serve import socket_mode_handler
from codex_bot.slack.slack_errors import explain
from codex_bot.store import MessageRef, Store

pytestmark = pytest.mark.prometheus

TZ = ZoneInfo("Europe/Berlin")
ALICE, LEAD = "U0ALICE", "U0LEAD"  # LEAD may see per-user figures; her Slack profile shows no e-mail


@dataclass
class Setup:
    fleet: Fleet
    slack: SlackEmulator
    bot: ServedApp
    panels: Panels
    store: Store
    at: datetime
    email: str  # Alice's Slack e-mail, her user label in the fleet
    fired_at: datetime
    renderer: ChartRenderer
    permalink: str  # of the firing alert's message
    state_db: Path

    @property
    def source(self) -> str:
        return source_label(self.fleet.prometheus_url)

    def published(self, user: str, count: int) -> dict[str, Any]:
        """The ``count``-th view published for ``user`` (waits for it)."""
        calls = self.slack.wait_for(
            lambda: (
                len(mine := [c for c in self.slack.calls_to("views.publish") if c.body["user_id"] == user]) >= count
                and mine
            )
        )
        assert calls, f"no view #{count} published for {user}"
        assert calls[count - 1].answer["ok"], calls[count - 1].answer
        return calls[count - 1].body["view"]

    def expected_home(
        self, user: str, range_text: str, chart: Chart | None, *, you: bool, users: bool, notes: list[str]
    ) -> dict[str, Any]:
        """The view the builder makes from the panel service's answers as of ``at``."""
        headline = {n: self.panels.run(PanelRequest(n, range_text), self.at) for n in HEADLINE_PANELS}
        definitions = load_definitions(load_settings(timezone=TZ.key))
        digests = sorted(
            (NextDigest(d.name, d.channel, d.trigger.get_next_fire_time(None, self.at)) for d in definitions.digests),
            key=lambda d: d.at,
        )
        data = HomeData(
            range_text,
            headline,
            TZ,
            self.source,
            chart=chart,
            alerts=[
                FiringAlert("success-rate-drop", "critical", {"model": "gpt-5-codex"}, self.fired_at, self.permalink)
            ],
            digests=digests,
            notes=notes,
        )
        if you:
            data.you = self.you(range_text, headline)
        if users:
            data.users = self.panels.run(PanelRequest("users", range_text), self.at)
        return home_view(data).to_dict()

    def you(self, range_text: str, headline: dict[str, Any]) -> PersonalUsage:
        usage = personal_usage(self.panels, self.email, range_text, self.at, YOU_PANELS, ("conversations",))
        return PersonalUsage(
            self.email, usage.mine, {**usage.team, "tokens": headline["tokens"], "cost": headline["cost"]}
        )

    def ask(self, text: str, name: str, user: str = ALICE) -> dict[str, Any]:
        url = self.slack.response_url(name)
        assert self.bot.command(text, url, user_id=user).status_code == 200
        calls = self.slack.wait_for(lambda: [c for c in self.slack.calls_to("response_url") if c.path in url])
        assert calls, f"no answer to /codex {text}"
        assert calls[0].body["response_type"] == "ephemeral"
        return calls[0].body


def busiest_email(fleet: Fleet, start: datetime, end: datetime) -> str:
    by_user = fleet.truth.total("input_tokens", start, end, by=("user",))
    return max((user for (user,) in by_user if "@" in user), key=lambda u: by_user[(u,)])  # type: ignore[index]


@pytest.fixture(scope="module")
def setup(fleet: Fleet, chart_renderer: ChartRenderer) -> Iterator[Setup]:  # noqa: F811
    at = fleet.align(fleet.end)
    email = busiest_email(fleet, at - timedelta(days=30), at)
    state_db = Path(tempfile.mkdtemp(prefix="codex-bot-home-")) / "state.sqlite"
    store = Store.open(state_db)
    fired_at = at - timedelta(hours=2)
    with SlackEmulator(channels=["alerts"]) as slack:
        posted = WebClient(token=BOT_TOKEN, base_url=slack.base_url).chat_postMessage(channel="alerts", text="alert")
        alert_ref = MessageRef(posted["channel"], posted["ts"])
        with store.transaction() as tx:
            tx.execute(
                "INSERT INTO alert_episodes (rule, group_key, labels, severity, started_at, fired_at, value,"
                " threshold, posted_key) VALUES ('success-rate-drop', :labels, :labels, 'critical', :at, :at,"
                " 81.5, 90, 'alert:1')",
                {"labels": json.dumps({"model": "gpt-5-codex"}), "at": fired_at.timestamp()},
            )
            store.put_message_ref(tx, "alert:1", alert_ref)
        permalink = f"https://emulated.slack.test/archives/{alert_ref.channel}/p{alert_ref.ts.replace('.', '')}"
        slack.add_person(ALICE, email)
        slack.add_person(LEAD, None)
        app, deps = build_bot(
            slack,
            prometheus_url=fleet.prometheus_url,
            quickchart_url=chart_renderer.base_url,
            timezone=TZ.key,
            personal_data_users=[LEAD],
            state_db=state_db,
        )
        deps.clock = lambda: at
        served = ServedApp(app)
        panels = Panels(PrometheusClient(fleet.prometheus_url), TZ, load_prices())
        yield Setup(fleet, slack, served, panels, store, at, email, fired_at, chart_renderer, permalink, state_db)
        served.stop()
        store.close()


def chart_of(view: dict[str, Any]) -> Chart:
    image = next(b for b in view["blocks"] if b["type"] == "image")
    return Chart(image["alt_text"], file_id=image["slack_file"]["id"])


def test_opening_the_home_tab_publishes_the_dashboard(setup: Setup):
    response = setup.bot.event(home_opened_callback(ALICE))
    assert response.status_code == 200
    view = setup.published(ALICE, 1)
    chart = chart_of(view)
    assert view == setup.expected_home(ALICE, "7d", chart, you=True, users=False, notes=[])

    text = blocks_to_text(view["blocks"])
    start = setup.at - timedelta(days=7)
    truth = setup.fleet.truth
    for name, measure in (
        ("Tokens in", "input_tokens"),
        ("Tokens out", "output_tokens"),
        ("Cached input", "cached_input_tokens"),
    ):
        assert f"{name}: {humanize(truth.total(measure, start, setup.at), 'tokens')}" in text
    mine = truth.total("input_tokens", start, setup.at, where={"user": setup.email}) + truth.total(
        "output_tokens", start, setup.at, where={"user": setup.email}
    )
    team = truth.total("input_tokens", start, setup.at) + truth.total("output_tokens", start, setup.at)
    assert f"{humanize(100 * mine / team, 'percent')} of tokens ({humanize(mine, 'tokens')} of" in text
    tools, decisions = (
        truth.total(m, start, setup.at, where={"user": setup.email}) for m in ("tool_calls", "decisions")
    )
    assert tools != truth.total("tool_calls", start, setup.at), "the person's own tool calls, not the team's"
    assert f" · {humanize(tools, 'count')} tool calls · {humanize(decisions, 'count')} approval decisions" in text
    assert f"<{setup.permalink}|see the alert>" in json.dumps(view) and "daily-eng" in text and "weekly-leads" in text
    assert "Per user" not in text, "Alice may not see other people's figures"

    upload = next(c for c in setup.slack.calls_to("files.getUploadURLExternal") if c.answer["file_id"] == chart.file_id)
    assert upload.body["filename"] == "usage-7d.png"
    assert setup.slack.uploads[chart.file_id].startswith(b"\x89PNG")
    completed = [c for c in setup.slack.calls_to("files.completeUploadExternal") if chart.file_id in c.body["files"]]
    assert completed and not completed[0].body.get("channel_id"), "the home chart is shared in no conversation"


def test_a_range_choice_is_remembered_and_republished(setup: Setup):
    before = len([c for c in setup.slack.calls_to("views.publish") if c.body["user_id"] == ALICE])
    setup.bot.event(home_opened_callback(ALICE))
    shown = setup.published(ALICE, before + 1)
    assert setup.bot.interaction(select_payload(ALICE, RANGE_ACTION, "30d", shown)).status_code == 200
    view = setup.published(ALICE, before + 2)
    assert view == setup.expected_home(ALICE, "30d", chart_of(view), you=True, users=False, notes=[])
    assert view["blocks"][1]["elements"][0]["initial_option"]["value"] == "30d"
    assert setup.store.value(f"home/range/{ALICE}") == "30d"

    setup.bot.event(home_opened_callback(ALICE))
    again = setup.published(ALICE, before + 3)
    assert again["blocks"][0]["text"]["text"] == "Codex usage · 30d"
    assert chart_of(again) == chart_of(view), "the chart of a range and window is uploaded once"
    setup.bot.interaction(select_payload(ALICE, RANGE_ACTION, "7d", again))
    setup.published(ALICE, before + 4)


def test_an_allowed_person_sees_per_user_rows_and_why_their_own_are_missing(setup: Setup):
    setup.bot.event(home_opened_callback(LEAD))
    view = setup.published(LEAD, 1)
    note = (
        "Your usage: Your Slack profile shows me no e-mail address, so I can't find your usage "
        "(the app needs the users:read.email scope)."
    )
    assert view == setup.expected_home(LEAD, "7d", chart_of(view), you=False, users=True, notes=[note])
    users = setup.panels.run(PanelRequest("users", "7d"), setup.at)
    assert table_section(users).to_dict() in view["blocks"]


def test_other_tabs_publish_nothing(setup: Setup):
    before = len(setup.slack.calls_to("views.publish"))
    setup.bot.event(home_opened_callback(ALICE, tab="messages"))
    setup.bot.command("help", setup.slack.response_url("after-messages-tab"))
    setup.slack.wait_calls("response_url", 1)
    assert len(setup.slack.calls_to("views.publish")) == before


def test_codex_me_shows_own_usage_and_share_from_the_ground_truth(setup: Setup):
    answer = setup.ask("me 7d", "me")
    usage = personal_usage(setup.panels, setup.email, "7d", setup.at)
    assert blocks_of(answer) == [block.to_dict() for block in personal_blocks(usage, TZ, setup.source)]

    text = blocks_to_text(blocks_of(answer))
    start, truth, mine = setup.at - timedelta(days=7), setup.fleet.truth, {"user": setup.email}
    assert f"Tokens in: {humanize(truth.total('input_tokens', start, setup.at, where=mine), 'tokens')}" in text
    conversations = truth.total("conversations", start, setup.at, where=mine)
    team = truth.total("conversations", start, setup.at)
    assert f"Conversations: {humanize(conversations, 'count')}" in text
    assert f"{humanize(100 * conversations / team, 'percent')} of conversations" in text
    by_model = truth.total("input_tokens", start, setup.at, where=mine, by=("model",))
    assert all(model in text for (model,) in by_model)
    for heading, measure, dim in (
        ("Your tool calls by tool", "tool_calls", "tool"),
        ("Your tool approval decisions", "decisions", "decision"),
    ):
        own = truth.total(measure, start, setup.at, where=mine, by=(dim,))
        team = truth.total(measure, start, setup.at, by=(dim,))
        assert own and own != team, f"{setup.email} has {measure} of their own, not the team's"
        table = text.split(heading, 1)[1]
        for (value,), count in own.items():  # type: ignore[union-attr]
            assert re.search(rf"^{re.escape(value)} +{re.escape(humanize(count, 'count'))} ", table, re.M), value
    assert f"user={setup.email}" in text and "Only you see this" in text and "no per-person" not in text
    assert not [c for c in setup.slack.calls_to("chat.postMessage") if c.body.get("text", "").startswith("Your")]


@pytest.mark.parametrize(
    "panel, measure, dim", [("tools", "tool_calls", "tool"), ("decisions", "decisions", "decision")]
)
def test_tool_panels_per_user_follow_the_personal_data_policy(setup: Setup, panel: str, measure: str, dim: str):
    """`/codex tools|decisions 7d user=…`: refused to Alice (not allowed), the person's own rows for the lead."""
    refused = blocks_to_text(blocks_of(setup.ask(f"{panel} 7d user={setup.email}", f"{panel}-alice")))
    assert "personal data" in refused and setup.email not in refused
    text = blocks_to_text(blocks_of(setup.ask(f"{panel} 7d user={setup.email}", f"{panel}-lead", LEAD)))
    start = setup.at - timedelta(days=7)
    own = setup.fleet.truth.total(measure, start, setup.at, where={"user": setup.email}, by=(dim,))
    assert own
    for (value,), count in own.items():  # type: ignore[union-attr]
        assert re.search(rf"^{re.escape(value)} +{re.escape(humanize(count, 'count'))} ", text, re.M), value


@pytest.mark.parametrize(
    "user, email, expected",
    [
        ("U0GHOST", None, "Slack did not tell me who you are (user_not_found)."),
        ("U0NEW", "new.hire@example.com", "I find no Codex telemetry for you (as `new.hire@example.com`)"),
    ],
)
def test_codex_me_without_telemetry_says_why_and_names_nobody_else(
    setup: Setup, user: str, email: str | None, expected: str
):
    if email:
        setup.slack.add_person(user, email)
    text = blocks_to_text(blocks_of(setup.ask("me 7d", f"me-{user}", user)))
    assert expected in text and "Did you mean" not in text and setup.email not in text


def test_codex_me_rejects_a_bad_range(setup: Setup):
    text = blocks_to_text(blocks_of(setup.ask("me fortnight", "me-bad")))
    assert "I don't understand 'fortnight'. Use `me [RANGE]`" in text


def test_socket_mode_home_and_me(setup: Setup):
    endpoint = SocketModeEndpoint().start()
    try:
        with SlackEmulator(ws_url=endpoint.url, channels=["alerts"]) as slack:
            slack.add_person(ALICE, setup.email)
            again = WebClient(token=BOT_TOKEN, base_url=slack.base_url).chat_postMessage(channel="alerts", text="alert")
            assert setup.permalink.endswith(f"/{again['channel']}/p{again['ts'].replace('.', '')}")  # the same ref
            app, deps = build_bot(
                slack,
                prometheus_url=setup.fleet.prometheus_url,
                timezone=TZ.key,
                quickchart_url=setup.renderer.base_url,
                state_db=setup.state_db,
            )
            deps.clock = lambda: setup.at
            handler = socket_mode_handler(app, APP_TOKEN)
            handler.connect()
            try:
                assert slack.wait_for(endpoint.connected), "the bot did not open the websocket"
                endpoint.send(
                    {
                        "envelope_id": "home-1",
                        "type": "events_api",
                        "accepts_response_payload": False,
                        "payload": home_opened_callback(ALICE),
                    }
                )
                first = slack.wait_calls("views.publish", 1)[0].body["view"]
                endpoint.send(
                    {
                        "envelope_id": "pick-1",
                        "type": "interactive",
                        "accepts_response_payload": False,
                        "payload": select_payload(ALICE, RANGE_ACTION, "last week", first),
                    }
                )
                picked = slack.wait_calls("views.publish", 2)[1].body["view"]
                endpoint.send(
                    {
                        "envelope_id": "me-1",
                        "type": "slash_commands",
                        "accepts_response_payload": True,
                        "payload": slash_command_payload("me last week", slack.response_url("me"), user_id=ALICE),
                    }
                )
                me = slack.wait_calls("response_url", 1)[0].body
            finally:
                handler.close()
                with setup.store.transaction() as tx:
                    setup.store.put_value(tx, f"home/range/{ALICE}", None)
    finally:
        endpoint.stop()
    assert {"home-1", "pick-1", "me-1"} <= {m["envelope_id"] for m in endpoint.received}
    assert first == setup.expected_home(ALICE, "7d", chart_of(first), you=True, users=False, notes=[])
    assert picked == setup.expected_home(ALICE, "last week", chart_of(picked), you=True, users=False, notes=[])
    usage = personal_usage(setup.panels, setup.email, "last week", setup.at)
    assert blocks_of(me) == [block.to_dict() for block in personal_blocks(usage, TZ, setup.source)]


@pytest.mark.parametrize(
    "settings, scopes, expected",
    [
        ({"user_label": "none"}, None, "Per-person usage is off here"),
        ({}, manifest_scopes() - {"users:read.email"}, "shows me no e-mail address"),
        ({}, manifest_scopes() - {"users:read"}, "the app needs the users:read and users:read.email scopes"),
    ],
)
def test_codex_me_explains_when_per_person_data_is_off_or_unreachable(
    settings: dict[str, Any], scopes: frozenset[str] | None, expected: str
):
    with SlackEmulator(scopes=scopes) as slack:
        slack.add_person(ALICE, "alice@example.com")
        app, _ = build_bot(slack, prometheus_url=f"http://127.0.0.1:{free_port()}", **settings)
        served = ServedApp(app)
        try:
            served.command("me", slack.response_url(), user_id=ALICE)
            answer = slack.wait_calls("response_url")[0].body
        finally:
            served.stop()
    assert answer["response_type"] == "ephemeral" and expected in blocks_to_text(blocks_of(answer))


def test_a_failed_chart_upload_loses_only_the_chart(setup: Setup):
    before = len([c for c in setup.slack.calls_to("views.publish") if c.body["user_id"] == LEAD])
    setup.slack.fail("files.getUploadURLExternal", "invalid_auth")
    setup.bot.interaction(select_payload(LEAD, RANGE_ACTION, "24h"))
    try:
        view = setup.published(LEAD, before + 1)
    finally:
        with setup.store.transaction() as tx:
            setup.store.put_value(tx, f"home/range/{LEAD}", None)
    notes = [
        f"Chart not uploaded: {explain('invalid_auth')}.",
        "Your usage: Your Slack profile shows me no e-mail address, so I can't find your usage "
        "(the app needs the users:read.email scope).",
    ]
    assert view == setup.expected_home(LEAD, "24h", None, you=False, users=True, notes=notes)


def test_prometheus_down_is_said_in_the_tab():
    with SlackEmulator() as slack:
        slack.add_person(ALICE, "alice@example.com")
        app, _ = build_bot(
            slack, prometheus_url=f"http://127.0.0.1:{free_port()}", quickchart_url=f"http://127.0.0.1:{free_port()}"
        )
        served = ServedApp(app)
        try:
            served.event(home_opened_callback(ALICE))
            view = slack.wait_calls("views.publish")[0].body["view"]
        finally:
            served.stop()
    assert [b["type"] for b in view["blocks"]] == ["actions", "section"]
    assert "Prometheus" in view["blocks"][1]["text"]["text"] and "Traceback" not in json.dumps(view)
