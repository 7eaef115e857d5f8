"""Alert follow-ups end to end: Show evidence, the Silence… modal, the silenced edit and the dashboard link,
through the real Bolt app (signed HTTP requests and Socket Mode) against the Slack emulator, with the alert
fired by the engine on the real Prometheus fleet and every figure checked against the generator's truth.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from chart_fixtures import chart_renderer  # noqa: F401 - fixture
from slack_emulator import (
    APP_TOKEN,
    ServedApp,
    SlackEmulator,
    SocketModeEndpoint,
    block_actions_payload,
    blocks_of,
    build_bot,
    view_submission_payload,
)
from test_alert_lifecycle import CHANNEL, RULE, UTC, Bot, episode, top_posts  # noqa: F401 - episode is a fixture

from codex_bot.access import AccessPolicy
from codex_bot.alerts.loader import RuleSet
from codex_bot.alerts.messages import (
    ACKNOWLEDGE,
    COMMENT_BLOCK,
    COMMENT_INPUT,
    DURATION_BLOCK,
    DURATION_INPUT,
    EVIDENCE,
    SILENCE_1H,
    SILENCE_24H,
    SILENCE_CUSTOM,
    SILENCE_MODAL,
)
from codex_bot.alerts.routing import Routing
from codex_bot.alerts.silences import Silences
from codex_bot.commands.alerts_commands import AlertCommandDeps
from codex_bot.dashboard import DashboardLink
from codex_bot.delivery.console import blocks_to_text
from codex_bot.formatting import humanize
from codex_bot.slack.listeners import Services, actions
from codex_bot.slack.serve import socket_mode_handler

pytestmark = pytest.mark.prometheus
ADMIN = "U0ADMIN"
TEMPLATE = "https://grafana.example/d/codex?from={from}&to={to}&var-model={model}"


class Followups:
    """An alert fired by the engine, and the Bolt app with the alert buttons over the same state."""

    def __init__(self, tmp_path, fleet, slack: SlackEmulator, at: datetime, renderer=None) -> None:
        self.slack = slack
        self.bot = Bot(tmp_path / "state.sqlite", fleet, slack)
        self.bot.engine.notifier.dashboard = DashboardLink(TEMPLATE)
        self.bot.engine.run_cycle(at)
        self.post = top_posts(slack)[0]
        self.app, commands = build_bot(
            slack,
            panels_only=True,
            prometheus_url=fleet.prometheus_url,
            **({"quickchart_url": renderer.base_url} if renderer else {}),
        )
        self.deps = AlertCommandDeps(
            self.bot.store,
            RuleSet(rules=[RULE], routing=Routing(default=CHANNEL)),
            self.bot.outbox,
            self.bot.transport,
            AccessPolicy(admin_users=frozenset({ADMIN})),
            UTC,
            clock=lambda: at + timedelta(minutes=1),
            panels=commands.panels,
            replies=commands.replies,
            dashboard=DashboardLink(TEMPLATE),
        )
        actions.register(self.app, Services(commands, alerts=self.deps))
        self.episode_id = str(self.bot.engine.records.open_episode(RULE.name)[0].id)

    @property
    def ts(self) -> str:
        return self.post.answer["ts"]

    def click(self, action_id: str, user: str, name: str, trigger_id: str = "1.2.3") -> dict[str, Any]:
        return block_actions_payload(
            {"type": "button", "action_id": action_id, "block_id": "b", "value": self.episode_id},
            self.slack.response_url(name),
            user_id=user,
            channel_id=CHANNEL,
            message_ts=self.ts,
            ephemeral=False,
            trigger_id=trigger_id,
        )

    def answer(self, name: str) -> str:
        path = self.slack.response_url(name).split(self.slack.root, 1)[1]
        calls = self.slack.wait_for(lambda: [c for c in self.slack.calls_to("response_url") if c.path == path])
        assert calls, f"no answer at {path}"
        return calls[0].body["text"]

    def in_thread(self) -> list:
        return [c for c in self.slack.calls_to("chat.postMessage") if c.body.get("thread_ts") == self.ts]


@pytest.fixture
def slack() -> Iterator[SlackEmulator]:
    with SlackEmulator(channels=["alerts"]) as emulator:
        yield emulator


def success_rate_truth(fleet, start: datetime, end: datetime) -> float:
    calls = fleet.truth.total("model_calls", start, end)
    failed = fleet.truth.total("failed_model_calls", start, end)
    return 100 * (calls - failed) / calls


def test_the_alert_links_its_window_and_offers_evidence_and_the_modal(tmp_path, fleet, slack, episode):  # noqa: F811 - episode is a fixture
    alert = Followups(tmp_path, fleet, slack, episode.fired_at)
    blocks = json.dumps(alert.post.body["blocks"])
    for action in (EVIDENCE, SILENCE_1H, SILENCE_24H, SILENCE_CUSTOM, ACKNOWLEDGE):
        assert action in blocks
    start = int((episode.fired_at - timedelta(hours=1)).timestamp() * 1000)
    end = int(episode.fired_at.timestamp() * 1000)
    link = f"<https://grafana.example/d/codex?from={start}&amp;to={end}&amp;var-model=|Open in dashboard>"
    assert link in blocks
    alert.bot.stop()


def test_show_evidence_answers_the_rules_panel_in_the_thread_over_http(tmp_path, fleet, slack, episode, chart_renderer):  # noqa: F811 - fixtures
    alert = Followups(tmp_path, fleet, slack, episode.fired_at, chart_renderer)
    served = ServedApp(alert.app)
    try:
        assert served.interaction(alert.click(EVIDENCE, "U0ALICE", "evidence")).status_code == 200
        assert "is in its thread" in alert.answer("evidence")
    finally:
        served.stop()
    (reply,) = alert.in_thread()
    text = blocks_to_text(blocks_of(reply.body))
    truth = success_rate_truth(fleet, episode.fired_at - timedelta(hours=1), episode.fired_at)
    assert f"Success rate: {humanize(truth, 'percent')}" in text
    fired = alert.bot.engine.records.episode(int(alert.episode_id))
    assert humanize(fired.value, "percent") == humanize(truth, "percent"), "the evidence shows the value it fired on"
    assert "Model call success rate · 1h" in text
    uploaded = slack.wait_calls("files.completeUploadExternal")[-1].body
    assert uploaded["channel_id"] == CHANNEL and uploaded["thread_ts"] == alert.ts
    alert.bot.stop()


def test_the_silence_modal_silences_with_a_comment_and_edits_the_alert_over_http(tmp_path, fleet, slack, episode):  # noqa: F811 - episode is a fixture
    alert = Followups(tmp_path, fleet, slack, episode.fired_at)
    served = ServedApp(alert.app)
    try:
        served.interaction(alert.click(SILENCE_CUSTOM, "U0ALICE", "refused"))
        assert "Only codex-bot admins can silence alerts" in alert.answer("refused")
        served.interaction(alert.click(SILENCE_CUSTOM, ADMIN, "modal", trigger_id="9.8.7"))
        (opened,) = slack.wait_calls("views.open")
        view = json.loads(opened.body["view"]) if isinstance(opened.body["view"], str) else opened.body["view"]
        assert opened.body["trigger_id"] == "9.8.7" and opened.answer["ok"]
        assert view["callback_id"] == SILENCE_MODAL and view["private_metadata"] == alert.episode_id
        bad = served.interaction(
            view_submission_payload(
                view, {DURATION_BLOCK: {DURATION_INPUT: {"type": "plain_text_input", "value": "soon"}}}, user_id=ADMIN
            )
        )
        assert bad.json() == {
            "response_action": "errors",
            "errors": {DURATION_BLOCK: "I don't understand the duration 'soon'; write e.g. 30m, 2h or 1d."},
        }
        good = served.interaction(
            view_submission_payload(
                view,
                {
                    DURATION_BLOCK: {DURATION_INPUT: {"type": "plain_text_input", "value": "3h"}},
                    COMMENT_BLOCK: {COMMENT_INPUT: {"type": "plain_text_input", "value": "deploying <a fix> & more"}},
                },
                user_id=ADMIN,
            )
        )
        assert good.status_code == 200 and good.text == ""
        (edit,) = slack.wait_calls("chat.update")
        told = slack.wait_for(lambda: [c for c in slack.calls_to("chat.postMessage") if c.body["channel"] == ADMIN])
    finally:
        served.stop()
    until = (episode.fired_at + timedelta(minutes=1, hours=3)).strftime("%Y-%m-%d %H:%M")
    expected = f":no_bell: Silenced by <@{ADMIN}> until {until} UTC: deploying &lt;a fix&gt; &amp; more"
    assert edit.body["ts"] == alert.ts and edit.body["channel"] == CHANNEL
    edited = json.dumps(edit.body["blocks"])
    assert expected in [b["text"]["text"] for b in blocks_of(edit.body) if b["type"] == "section" and "text" in b]
    assert SILENCE_1H not in edited and SILENCE_CUSTOM not in edited and EVIDENCE in edited and ACKNOWLEDGE in edited
    assert [c for c in alert.in_thread() if expected in c.body["text"]]
    assert told and expected in told[0].body["text"]
    (silence,) = Silences(alert.bot.store).active(episode.fired_at + timedelta(hours=2))
    assert silence.comment == "deploying <a fix> & more" and silence.created_by == ADMIN
    assert silence.ends_at == episode.fired_at + timedelta(minutes=1, hours=3)
    step = timedelta(seconds=fleet.step_seconds)
    Silences(alert.bot.store).end(RULE.name, episode.fired_at + step)  # ended early, while it still fires
    alert.bot.engine.run_cycle(episode.fired_at + 2 * step)
    alert.bot.engine.run_cycle(episode.fired_at + 3 * step)
    restored = slack.calls_to("chat.update")[1:]
    assert len(restored) == 1 and restored[0].body["ts"] == alert.ts
    assert SILENCE_1H in json.dumps(restored[0].body["blocks"]) and "Silenced by" not in json.dumps(restored[0].body)
    alert.bot.stop()


def test_evidence_the_modal_and_a_silence_button_over_socket_mode(tmp_path, fleet, episode):  # noqa: F811 - episode is a fixture
    endpoint = SocketModeEndpoint().start()
    try:
        with SlackEmulator(ws_url=endpoint.url, channels=["alerts"]) as slack:
            alert = Followups(tmp_path, fleet, slack, episode.fired_at)
            handler = socket_mode_handler(alert.app, APP_TOKEN)
            handler.connect()

            def send(envelope_id: str, payload: dict[str, Any]) -> None:
                endpoint.send(
                    {
                        "envelope_id": envelope_id,
                        "type": "interactive",
                        "payload": payload,
                        "accepts_response_payload": payload["type"] == "view_submission",
                    }
                )

            try:
                assert slack.wait_for(endpoint.connected)
                send("evidence", alert.click(EVIDENCE, "U0ALICE", "socket-evidence"))
                assert "is in its thread" in alert.answer("socket-evidence")
                send("modal", alert.click(SILENCE_CUSTOM, ADMIN, "socket-modal"))
                (opened,) = slack.wait_calls("views.open")
                view = json.loads(opened.body["view"]) if isinstance(opened.body["view"], str) else opened.body["view"]
                send(
                    "submit",
                    view_submission_payload(
                        view,
                        {DURATION_BLOCK: {DURATION_INPUT: {"type": "plain_text_input", "value": "45d"}}},
                        user_id=ADMIN,
                    ),
                )
                refused = slack.wait_for(lambda: [m for m in endpoint.received if m["envelope_id"] == "submit"])
                send("silence", alert.click(SILENCE_1H, ADMIN, "socket"))
                (edit,) = slack.wait_calls("chat.update")
                answer = alert.answer("socket")
            finally:
                handler.close()
            alert.bot.stop()
    finally:
        endpoint.stop()
    (evidence,) = [c for c in alert.in_thread() if "Model call success rate" in c.body["text"]]
    truth = success_rate_truth(fleet, episode.fired_at - timedelta(hours=1), episode.fired_at)
    assert f"Success rate: {humanize(truth, 'percent')}" in blocks_to_text(blocks_of(evidence.body))
    assert refused[0]["payload"] == {
        "response_action": "errors",
        "errors": {DURATION_BLOCK: "A silence lasts from 1m to 30d."},
    }
    until = (episode.fired_at + timedelta(minutes=1, hours=1)).strftime("%Y-%m-%d %H:%M")
    assert f":no_bell: Silenced by <@{ADMIN}> until {until} UTC." in json.dumps(edit.body["blocks"])
    assert SILENCE_24H not in json.dumps(edit.body["blocks"]) and edit.body["ts"] == alert.ts
    assert f"Silenced by <@{ADMIN}> until {until} UTC." in answer
    assert {"evidence", "modal", "silence"} <= {m["envelope_id"] for m in endpoint.received}
