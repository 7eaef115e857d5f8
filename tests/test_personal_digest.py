"""``to: each-user`` digests: each person with telemetry gets their own usage by DM once per slot, from the
real scheduler, outbox and Slack transport over the emulator (people from ``users.list``); the opt-out and
opt-in buttons (signed interactions through the served app) are remembered in the state store."""

from __future__ import annotations

import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from prometheus_fleet import Fleet
from slack_emulator import BOT_TOKEN, SIGNING_SECRET, ServedApp, SlackEmulator, blocks_of, button_payload

from codex_bot.bot import assemble
from codex_bot.commands.digest_commands import DigestCommandDeps, digest_reply
from codex_bot.commands.invocation import Invocation
from codex_bot.delivery.console import blocks_to_text
from codex_bot.delivery.outbox import Outbox
from codex_bot.digests.definitions import DigestDefinition, DigestFile
from codex_bot.digests.personal import opted_out
from codex_bot.digests.schedule import DigestScheduler
from codex_bot.errors import UserError
from codex_bot.formatting import humanize
from codex_bot.metrics.client import PrometheusClient
from codex_bot.panels.cost import load_prices
from codex_bot.panels.personal import personal_usage
from codex_bot.panels.service import Panels
from codex_bot.settings import load_settings
from codex_bot.slack.personal_blocks import OPT_IN, OPT_OUT, opt_out_block, personal_blocks

pytestmark = pytest.mark.prometheus
TZ = ZoneInfo("Europe/Berlin")
WEEKLY_ME = DigestDefinition(name="weekly-me", to="each-user", schedule="0 * * * *", timezone=TZ.key, range="7d")


def emails_by_usage(fleet: Fleet, at: datetime) -> list[str]:
    by_user = fleet.truth.total("input_tokens", at - timedelta(days=7), at, by=("user",))
    return sorted((u for (u,) in by_user if "@" in u), key=lambda u: -by_user[(u,)])  # type: ignore[index]


def test_each_person_gets_their_own_usage_once_per_slot_and_may_opt_out(fleet: Fleet):
    end = fleet.align(fleet.end)
    alice, bob, carol = emails_by_usage(fleet, end)[:3]
    now = [end - timedelta(hours=2, minutes=-5)]  # the scheduler's clock
    with SlackEmulator() as slack:
        for user, email in (
            ("U0ALICE", alice),
            ("U0BOB", bob),
            ("U0CAROL", carol),
            ("U0DAVE", "dave.new@example.com"),
            ("U0ERIN", None),
        ):
            slack.add_person(user, email)
        settings = load_settings(
            slack_bot_token=BOT_TOKEN,
            slack_api_url=slack.base_url,
            timezone=TZ.key,
            prometheus_url=fleet.prometheus_url,
            quickchart_url="http://127.0.0.1:9",
            state_db=Path(tempfile.mkdtemp(prefix="codex-bot-dm-")) / "state.sqlite",
        )
        bot = assemble(settings, signing_secret=SIGNING_SECRET)
        served = ServedApp(bot.app)
        scheduler = DigestScheduler(
            [WEEKLY_ME],
            bot.digests.digests,
            bot.store,
            Outbox(bot.store),
            bot.transport,
            clock=lambda: now[0],
            personal=bot.personal,
        )
        try:
            served.interaction(button_payload("U0CAROL", OPT_OUT, WEEKLY_ME.name, slack.response_url("carol-out")))
            said = slack.wait_calls("response_url")[0].body
            assert [o.status for o in scheduler.run_due()] == ["none"]  # first seen: no slot yet
            now[0] = end - timedelta(hours=1)
            assert [o.status for o in scheduler.run_due()] == ["queued"]
            first = slack.calls_to("chat.postMessage")
            assert [o.status for o in scheduler.run_due()] == ["taken"]
            served.interaction(button_payload("U0CAROL", OPT_IN, "on", slack.response_url("carol-in")))
            slack.wait_calls("response_url", 2)
            now[0] = end
            assert [o.status for o in scheduler.run_due()] == ["queued"]
            second = slack.calls_to("chat.postMessage")[len(first) :]
        finally:
            served.stop()

    assert said["response_type"] == "ephemeral" and said["replace_original"] is False
    assert "You won't get personal usage digests any more" in said["text"]
    assert said["blocks"][-1]["elements"][0]["action_id"] == OPT_IN

    def dms(*people: str) -> list[str]:  # each person's DM with the bot: where Slack shows the digest
        return [slack.direct_message(person).id for person in people]

    assert [c.body["channel"] for c in first] == dms("U0ALICE", "U0BOB"), "Carol opted out; Dave and Erin have no data"
    assert sorted(c.body["channel"] for c in second) == dms("U0ALICE", "U0BOB", "U0CAROL")
    assert not opted_out(bot.store, "U0CAROL")

    panels = Panels(PrometheusClient(fleet.prometheus_url), TZ, load_prices())
    slot = end - timedelta(hours=1)
    for call, email in zip(first, (alice, bob)):
        usage = personal_usage(panels, email, "7d", slot)
        source = f"Prometheus at {fleet.prometheus_url.split('//')[1]}"
        expected = [*personal_blocks(usage, TZ, source), opt_out_block(WEEKLY_ME.name)]
        assert blocks_of(call.body) == [block.to_dict() for block in expected]
        mine = fleet.truth.total("input_tokens", slot - timedelta(days=7), slot, where={"user": email})
        assert f"Tokens in: {humanize(mine, 'tokens')}" in blocks_to_text(blocks_of(call.body))


def test_each_user_digests_are_checked_and_not_posted_on_demand():
    with pytest.raises(ValueError, match="remove its channel"):
        DigestDefinition(name="x", to="each-user", channel="#eng", schedule="0 9 * * MON")
    with pytest.raises(ValueError, match="or `to: each-user`"):
        DigestDefinition(name="x", schedule="0 9 * * MON")
    deps = DigestCommandDeps(None, DigestFile(Path("d.yaml"), [WEEKLY_ME]), None, None, None)  # type: ignore[arg-type]
    with pytest.raises(UserError, match="personal digest, sent by DM"):
        digest_reply(["weekly-me"], Invocation("digest weekly-me", "U1", "C1"), deps)
