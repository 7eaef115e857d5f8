"""Issue 13, faults 3 and 6: an alert's thread holds everything about it.

The reminder, the acknowledgement and the resolution of an alert posted to the old channel go to
that channel's thread (the stored message reference), not to the new route with the old ``thread_ts``;
the alert's chart goes in its thread, not in a separate post.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from chart_fixtures import chart_renderer  # noqa: F401 - fixture
from test_alert_lifecycle import CHANNEL, RULE, UTC, Bot, episode, slack, top_posts  # noqa: F401 - fixtures

from codex_bot.access import AccessPolicy
from codex_bot.alerts.loader import RuleSet
from codex_bot.alerts.messages import ACKNOWLEDGE
from codex_bot.alerts.routing import Routing
from codex_bot.commands.alerts_commands import AlertCommandDeps, button

MOVED = "C0MOVED"
pytestmark = pytest.mark.prometheus


def test_replies_follow_the_message_after_the_rule_is_rerouted(tmp_path, fleet, slack, episode):  # noqa: F811
    minutes = lambda n: episode.fired_at + timedelta(minutes=n)
    first = Bot(tmp_path / "state.sqlite", fleet, slack)
    first.engine.run_cycle(minutes(0))
    (post,) = top_posts(slack)
    assert post.body["channel"] == CHANNEL
    first.stop()

    moved = RuleSet(rules=[RULE], routing=Routing(default=MOVED))
    bot = Bot(tmp_path / "state.sqlite", fleet, slack, rules=moved)
    assert bot.engine.run_cycle(minutes(4)).notices.reminded
    deps = AlertCommandDeps(bot.store, moved, bot.outbox, bot.transport, AccessPolicy(), UTC, clock=lambda: minutes(5))
    body = {"user": {"id": "U0ONCALL"}, "actions": [{"value": str(bot.engine.records.open_episode(RULE.name)[0].id)}]}
    assert "is on it" in button(ACKNOWLEDGE, body, deps)
    assert bot.engine.run_cycle(episode.resolved_at).notices.resolved
    bot.engine.run_cycle(episode.resolved_at + timedelta(seconds=fleet.step_seconds))

    ts = post.answer["ts"]
    threaded = [c for c in slack.calls_to("chat.postMessage") if c.body.get("thread_ts")]
    texts = " | ".join(c.body["text"] for c in threaded)
    assert "Still firing" in texts and "is on it" in texts and "Resolved after" in texts
    assert {(c.body["channel"], c.body["thread_ts"]) for c in threaded} == {(CHANNEL, ts)}
    assert {(c.body["channel"], c.body["ts"]) for c in slack.calls_to("chat.update")} == {(CHANNEL, ts)}
    assert [c for c in slack.calls_to("chat.postMessage") if c.body["channel"] == MOVED] == []
    bot.stop()


def test_the_alert_chart_is_in_its_thread(tmp_path, fleet, slack, episode, chart_renderer):  # noqa: F811
    bot = Bot(tmp_path / "state.sqlite", fleet, slack, renderer=chart_renderer)
    bot.engine.run_cycle(episode.fired_at)
    (post,) = top_posts(slack)
    (completed,) = slack.calls_to("files.completeUploadExternal")
    assert (completed.body["channel_id"], completed.body["thread_ts"]) == (CHANNEL, post.answer["ts"])
    bot.stop()
