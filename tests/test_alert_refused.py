"""Issue 13, fault 5, end to end: the alert loop as ``serve`` builds it (settings → AlertScheduler) fires into a
private channel the bot is not in; the admin hears of it in their DM, and once invited, a retry posts it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from slack_emulator import BOT_TOKEN, SlackEmulator
from test_alert_lifecycle import RULE, episode  # noqa: F401 - fixture

from codex_bot.alerts.loader import RuleSet
from codex_bot.alerts.routing import Routing
from codex_bot.bot import alert_scheduler, build_parts
from codex_bot.commands.deliveries_commands import retry
from codex_bot.settings import load_settings
from codex_bot.slack.client import build_web_client
from codex_bot.slack.slack_transport import SlackTransport
from codex_bot.store import Store

ADMIN = "U0ADMIN"
pytestmark = pytest.mark.prometheus


@pytest.fixture
def slack() -> Iterator[SlackEmulator]:
    with SlackEmulator() as emulator:
        emulator.add_channel("oncall", kind="private", member=False)
        yield emulator


def test_an_alert_to_a_channel_without_the_bot_reaches_the_admin_and_goes_out_after_the_fix(
    tmp_path,
    fleet,
    slack,
    episode,  # noqa: F811 - a fixture
):
    settings = load_settings(
        slack_bot_token=BOT_TOKEN,
        slack_api_url=slack.base_url,
        admin_users=[ADMIN],
        prometheus_url=fleet.prometheus_url,
        state_db=tmp_path / "state.sqlite",
    )
    oncall = slack.channel("oncall").id
    store = Store.open(settings.state_db)
    transport = SlackTransport(build_web_client(settings))
    rules = RuleSet(rules=[RULE], routing=Routing(default=oncall))
    scheduler = alert_scheduler(build_parts(settings, transport, store), rules)

    report = scheduler.engine.run_cycle(episode.fired_at)

    assert report.notices.posted and report.delivered.failed == [f"alert:{report.notices.posted[0]}:firing"]
    (notice,) = slack.posted(ADMIN)
    assert f"<#{oncall}>" in notice["text"] + str(notice["blocks"]) and f"FIRING {RULE.name}" in str(notice["blocks"])
    assert "/invite @codex-bot" in str(notice["blocks"])
    slack.add_channel("oncall", kind="private", member=True)
    assert "Retried 1: 1 sent" in retry(scheduler.outbox, transport)
    (posted,) = slack.posted(oncall)
    assert f"FIRING {RULE.name}" in posted["text"]
    scheduler.engine.client.close()
    store.close()
