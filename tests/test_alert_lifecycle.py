"""The Slack lifecycle of an alert, end to end: real Prometheus fleet → engine → state database → outbox → Slack
emulator, with the state on SQLite and on PostgreSQL (``state_target``).

Firing message with chart and buttons, resolution as an edit plus a thread reply, reminders,
acknowledgement, silences, a Prometheus outage, restarts of the process (new objects over the
same database) and Slack failing deliveries — checked by what the emulator received.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
import requests
from chart_fixtures import chart_renderer  # noqa: F401 - fixture
from prometheus_fleet import free_port
from slack_emulator import (
    BOT_TOKEN,
    ServedApp,
    SlackEmulator,
    build_bot,
    signed_headers,
)
from slack_sdk import WebClient

from codex_bot.access import AccessPolicy
from codex_bot.alerts.engine import AlertEngine
from codex_bot.alerts.loader import RuleSet, load_rules
from codex_bot.alerts.messages import ACKNOWLEDGE, SILENCE_1H
from codex_bot.alerts.replay import Episode, replay
from codex_bot.alerts.routing import Routing
from codex_bot.alerts.sampling import Sampler
from codex_bot.alerts.silences import Silences
from codex_bot.commands.alerts_commands import (
    AlertCommandDeps,
    register,
)
from codex_bot.delivery.outbox import Backoff, Outbox
from codex_bot.metrics.client import PrometheusClient
from codex_bot.panels.cost import load_prices
from codex_bot.slack.listeners import Services, actions
from codex_bot.slack.slack_transport import SlackTransport
from codex_bot.store import Store
from codex_bot.yamlfile import Problem

RULES_DIR = Path(__file__).resolve().parents[1] / "rules"
RULE = next(
    r
    for r in load_rules(RULES_DIR, exclude=[RULES_DIR / "digests.yaml", RULES_DIR / "budgets.yaml"]).rules
    if r.name == "success-rate-drop"
).model_copy(update={"repeat": timedelta(minutes=4)})
CHANNEL = "C0ALERTS"
UTC = ZoneInfo("UTC")
pytestmark = pytest.mark.prometheus


@pytest.fixture(scope="module")
def episode(fleet) -> Episode:
    """The longest firing of the success-rate rule during the planted success drop (per a replay)."""
    incident = fleet.incident("success-drop")
    client = PrometheusClient(fleet.prometheus_url)
    found = replay(
        [RULE],
        fleet.align(incident.start),
        fleet.align(incident.end) + timedelta(hours=2),
        Sampler(client, load_prices()),
        timedelta(seconds=fleet.step_seconds),
    )
    client.close()
    longest = max(found, key=lambda e: e.resolved_at - e.fired_at)
    assert longest.resolved_at - longest.fired_at >= timedelta(minutes=10)
    return longest


@pytest.fixture
def slack() -> Iterator[SlackEmulator]:
    with SlackEmulator(channels=["alerts"]) as emulator:
        yield emulator


class Bot:
    """One bot process: its own Store, Outbox, Prometheus client and engine over the shared state database."""

    def __init__(
        self,
        path: str,
        fleet,
        slack: SlackEmulator,
        renderer=None,
        prometheus: str | None = None,
        rules: RuleSet | None = None,
    ):
        self.store = Store.open(path)
        self.outbox = Outbox(self.store, backoff=Backoff(first=0, cap=0))
        self.client = PrometheusClient(prometheus or fleet.prometheus_url, timeout=5)
        self.transport = SlackTransport(WebClient(token=BOT_TOKEN, base_url=slack.base_url, retry_handlers=[]))
        rules = rules or RuleSet(rules=[RULE], routing=Routing(default=CHANNEL))
        self.engine = AlertEngine(
            rules,
            self.client,
            load_prices(),
            self.store,
            self.outbox,
            UTC,
            interval=timedelta(seconds=fleet.step_seconds),
            renderer=renderer,
            transport=self.transport,
        )

    def stop(self) -> None:
        self.client.close()
        self.store.close()


def top_posts(slack: SlackEmulator) -> list:
    return [c for c in slack.calls_to("chat.postMessage") if c.answer.get("ok") and not c.body.get("thread_ts")]


def replies(slack: SlackEmulator, ts: str) -> list[str]:
    return [
        c.body["text"]
        for c in slack.calls_to("chat.postMessage")
        if c.answer.get("ok") and c.body.get("thread_ts") == ts
    ]


def test_fire_restart_and_resolve_without_duplicates(state_target, fleet, slack, episode, chart_renderer):  # noqa: F811
    step = timedelta(seconds=fleet.step_seconds)
    first = Bot(state_target, fleet, slack, renderer=chart_renderer)
    assert first.engine.run_cycle(episode.fired_at - step).evaluation.states[0].state == "pending"
    assert top_posts(slack) == []
    report = first.engine.run_cycle(episode.fired_at)
    assert report.notices.posted and report.delivered.sent
    (post,) = top_posts(slack)
    blocks = json.dumps(post.body["blocks"])
    assert "FIRING" in post.body["text"] and "below 75.0 %" in blocks and "Since" in blocks
    assert all(action in blocks for action in (SILENCE_1H, ACKNOWLEDGE, "codex_alert_silence_24h"))
    assert RULE.runbook in blocks
    (png,) = slack.uploads.values()
    assert png.startswith(b"\x89PNG")
    completed = slack.calls_to("files.completeUploadExternal")[0].body
    assert completed["channel_id"] == CHANNEL
    first.engine.run_cycle(episode.fired_at + step)
    first.stop()  # the process goes away while the alert fires

    second = Bot(state_target, fleet, slack)
    second.engine.run_cycle(episode.fired_at + 2 * step)
    assert len(top_posts(slack)) == 1  # no duplicate after the restart
    assert second.engine.run_cycle(episode.resolved_at).notices.resolved
    second.engine.run_cycle(episode.resolved_at + step)
    ts = post.answer["ts"]
    (edit,) = slack.calls_to("chat.update")
    assert (
        edit.body["ts"] == ts
        and "RESOLVED" in edit.body["text"]
        and "codex_alert" not in json.dumps(edit.body["blocks"])
    )
    assert [r for r in replies(slack, ts) if "Resolved after" in r]
    assert len(top_posts(slack)) == 1 and len(slack.calls_to("chat.update")) == 1
    second.stop()


def test_removing_a_firing_rule_closes_its_alert_in_its_thread(state_target, fleet, slack, episode):
    step = timedelta(seconds=fleet.step_seconds)
    first = Bot(state_target, fleet, slack)
    first.engine.run_cycle(episode.fired_at)
    (post,) = top_posts(slack)
    first.stop()
    without = Bot(state_target, fleet, slack, rules=RuleSet(routing=Routing(default=CHANNEL)))
    assert without.engine.run_cycle(episode.fired_at + step).notices.resolved
    without.engine.run_cycle(episode.fired_at + 2 * step)
    (edit,) = slack.calls_to("chat.update")
    assert edit.body["ts"] == post.answer["ts"] and edit.body["channel"] == CHANNEL
    assert "CLOSED" in edit.body["text"] and "codex_alert" not in json.dumps(edit.body["blocks"])
    (reply,) = replies(slack, post.answer["ts"])
    assert f"`{RULE.name}` was removed" in reply
    episode_row = without.store.fetchone("SELECT resolve_reason, resolution_key FROM alert_episodes")
    assert episode_row["resolve_reason"] == "rule removed" and episode_row["resolution_key"]
    without.stop()


def test_a_broken_rule_file_keeps_the_alerts_of_its_rules(state_target, fleet, slack, episode):
    """Rules missing because their file does not load are not removed: nothing closes, nothing re-fires."""
    step = timedelta(seconds=fleet.step_seconds)
    first = Bot(state_target, fleet, slack)
    first.engine.run_cycle(episode.fired_at)
    first.stop()
    broken = RuleSet(routing=Routing(default=CHANNEL), problems=[Problem(RULES_DIR / "codex.yaml", 3, "bad YAML")])
    during = Bot(state_target, fleet, slack, rules=broken)
    assert not during.engine.run_cycle(episode.fired_at + step).notices.resolved
    during.stop()
    fixed = Bot(state_target, fleet, slack)
    fixed.engine.run_cycle(episode.fired_at + 2 * step)
    assert len(top_posts(slack)) == 1 and slack.calls_to("chat.update") == []
    assert fixed.store.fetchone("SELECT COUNT(*) AS n FROM alert_episodes WHERE resolved_at IS NULL")["n"] == 1
    fixed.stop()


def test_a_delivery_that_failed_before_a_restart_is_posted_once_after_it(state_target, fleet, slack, episode):
    step = timedelta(seconds=fleet.step_seconds)
    slack.server_error("chat.postMessage", times=2, status=500)
    first = Bot(state_target, fleet, slack)
    report = first.engine.run_cycle(episode.fired_at)
    assert report.notices.posted and report.delivered.retrying
    first.stop()
    second = Bot(state_target, fleet, slack)
    second.engine.run_cycle(episode.fired_at + step)  # the second 500
    slack.rate_limit("chat.postMessage", times=1, retry_after=0)
    second.outbox.flush(second.transport)  # a 429
    second.outbox.flush(second.transport)
    assert len(top_posts(slack)) == 1 and second.outbox.pending_count() == 0
    assert second.store.fetchone("SELECT COUNT(*) AS n FROM alert_episodes")["n"] == 1
    second.stop()


def test_reminders_go_to_the_thread_until_acknowledged(state_target, fleet, slack, episode):
    bot = Bot(state_target, fleet, slack)
    minutes = lambda n: episode.fired_at + timedelta(minutes=n)
    bot.engine.run_cycle(minutes(0))
    ts = top_posts(slack)[0].answer["ts"]
    bot.engine.run_cycle(minutes(2))
    assert replies(slack, ts) == []
    assert bot.engine.run_cycle(minutes(4)).notices.reminded
    assert len(replies(slack, ts)) == 1 and "Still firing after 4m" in replies(slack, ts)[0]
    rules = bot.engine.rules
    deps = AlertCommandDeps(bot.store, rules, bot.outbox, bot.transport, AccessPolicy(), UTC, clock=lambda: minutes(5))
    from codex_bot.commands.alerts_commands import button

    body = {"user": {"id": "U0ONCALL"}, "actions": [{"value": str(bot.engine.records.open_episode(RULE.name)[0].id)}]}
    assert "is on it" in button(ACKNOWLEDGE, body, deps)
    (edit,) = slack.calls_to("chat.update")
    assert edit.body["ts"] == ts and "Acknowledged by <@U0ONCALL>" in json.dumps(edit.body["blocks"])
    assert ACKNOWLEDGE not in json.dumps(edit.body["blocks"])
    bot.engine.run_cycle(minutes(8))
    assert not [r for r in replies(slack, ts)[2:] if "Still firing" in r]
    bot.stop()


def test_a_silenced_alert_posts_only_when_the_silence_ends(state_target, fleet, slack, episode):
    step = timedelta(seconds=fleet.step_seconds)
    bot = Bot(state_target, fleet, slack)
    silences = Silences(bot.store)
    silences.add(RULE.name, episode.fired_at - step, episode.fired_at + timedelta(hours=1), "U0ADMIN")
    assert bot.engine.run_cycle(episode.fired_at).notices.held
    assert top_posts(slack) == []
    silences.end(RULE.name, episode.fired_at + step)
    assert bot.engine.run_cycle(episode.fired_at + step).notices.posted
    assert len(top_posts(slack)) == 1
    bot.stop()


def test_prometheus_outage_gives_one_notice_and_resolves_nothing(state_target, fleet, slack, episode):
    step = timedelta(seconds=fleet.step_seconds)
    bot = Bot(state_target, fleet, slack)
    bot.engine.run_cycle(episode.fired_at)
    down = PrometheusClient(f"http://127.0.0.1:{free_port()}", timeout=2)
    bot.engine.client, working = down, bot.engine.client
    for n in (1, 2, 3):
        report = bot.engine.run_cycle(episode.fired_at + n * step)
        assert {s.state for s in report.evaluation.states} == {"error"}
    notices = [c for c in top_posts(slack) if "evaluation is failing" in c.body["text"]]
    assert len(notices) == 1 and "Cannot reach Prometheus" in notices[0].body["text"]
    assert slack.calls_to("chat.update") == []  # the firing alert was not resolved
    assert bot.engine.records.open_episode(RULE.name)
    bot.engine.client = working
    bot.engine.run_cycle(episode.fired_at + 4 * step)
    assert [r for r in replies(slack, notices[0].answer["ts"]) if "works again" in r]
    assert bot.engine.records.open_episode(RULE.name)  # the same episode carries on
    down.close()
    bot.stop()


def block_action(action_id: str, value: str, user: str, response_url: str) -> str:
    payload = {
        "type": "block_actions",
        "user": {"id": user, "username": user},
        "team": {"id": "T0EMULATE"},
        "api_app_id": "A0CODEXBOT",
        "token": "legacy",
        "container": {"type": "message"},
        "trigger_id": "1.2.3",
        "channel": {"id": CHANNEL},
        "response_url": response_url,
        "actions": [
            {"type": "button", "action_id": action_id, "block_id": "b", "value": value, "action_ts": "1700000000.1"}
        ],
    }
    return urlencode({"payload": json.dumps(payload)})


def test_buttons_and_slash_commands_over_http(state_target, fleet, slack, episode):
    bot = Bot(state_target, fleet, slack)
    bot.engine.run_cycle(episode.fired_at)
    app, commands = build_bot(slack, panels_only=True, prometheus_url=fleet.prometheus_url, admin_users=["U0ADMIN"])
    rules = RuleSet(rules=[RULE], routing=Routing(default=CHANNEL))
    deps = AlertCommandDeps(
        bot.store,
        rules,
        bot.outbox,
        bot.transport,
        AccessPolicy(admin_users=frozenset({"U0ADMIN"})),
        UTC,
        clock=lambda: episode.fired_at + timedelta(minutes=1),
    )
    register(commands, deps)
    actions.register(app, Services(commands, alerts=deps))
    served = ServedApp(app)
    episode_id = str(bot.engine.records.open_episode(RULE.name)[0].id)

    def click(action: str, user: str, name: str) -> str:
        body = block_action(action, episode_id, user, slack.response_url(name))
        assert requests.post(served.url, data=body, headers=signed_headers(served.secret, body), timeout=10).ok
        path = slack.response_url(name).split(slack.root, 1)[1]
        calls = slack.wait_for(lambda: [c for c in slack.calls_to("response_url") if c.path == path])
        assert calls and calls[0].body["response_type"] == "ephemeral"
        return calls[0].body["text"]

    def command(text: str, user: str, name: str) -> str:
        served.command(text, slack.response_url(name), user_id=user)
        path = slack.response_url(name).split(slack.root, 1)[1]
        calls = slack.wait_for(lambda: [c for c in slack.calls_to("response_url") if c.path == path])
        assert calls
        return calls[0].body["text"] + json.dumps(calls[0].body.get("blocks"))

    try:
        assert "Only codex-bot admins can silence alerts" in click(SILENCE_1H, "U0ALICE", "1")
        assert "Silenced by <@U0ADMIN>" in click(SILENCE_1H, "U0ADMIN", "2")
        assert Silences(bot.store).covering(RULE.name, {}, episode.fired_at + timedelta(minutes=30))
        assert "is on it" in click(ACKNOWLEDGE, "U0ALICE", "3")
        listing = command("alerts", "U0ALICE", "4")
        assert "1 firing" in listing and RULE.name in listing and "Silenced* (1)" in listing
        assert "Only codex-bot admins" in command("silence success-rate-drop 2h", "U0ALICE", "5")
        assert "There is no alert rule 'nope'" in command("silence nope 2h", "U0ADMIN", "6")
        assert "no longer silenced" in command("unsilence success-rate-drop", "U0ADMIN", "7")
        assert "is silenced until" in command("silence success-rate-drop 2h", "U0ADMIN", "8")
        assert "I don't understand the duration" in command("silence success-rate-drop soon", "U0ADMIN", "9")
    finally:
        served.stop()
    ts = top_posts(slack)[0].answer["ts"]
    assert any("Silenced by" in r for r in replies(slack, ts)) and any("is on it" in r for r in replies(slack, ts))
    bot.stop()


def test_the_scheduler_runs_cycles_and_one_process_evaluates_at_a_time(state_target, fleet, slack):
    from codex_bot.alerts.scheduler import LEASE, AlertScheduler

    bots = [Bot(state_target, fleet, slack) for _ in range(2)]
    schedulers = [AlertScheduler(b.engine, b.outbox, b.transport, timedelta(seconds=1)) for b in bots]
    for scheduler in schedulers:
        scheduler.start()
    try:
        assert slack.wait_for(lambda: bots[0].engine.records.states(), timeout=15)
        assert not bots[0].store.lease(LEASE, "someone-else", 3)  # held: another process would not evaluate
        owner = bots[0].store.value("lease/" + LEASE).rpartition("@")[0]
        assert owner in {s.owner for s in schedulers}
        holder = next(s for s in schedulers if s.owner == owner)
        holder.shutdown()  # a holder that stops hands the lease over at once
        assert bots[0].store.lease(LEASE, "someone-else", 3)
    finally:
        for scheduler in schedulers:
            if scheduler.scheduler.running:
                scheduler.shutdown()
        for bot in bots:
            bot.stop()
