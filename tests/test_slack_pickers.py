"""Pickers under every panel reply, end to end: signed block_actions (HTTP and Socket Mode) through the real
Bolt app, a real Prometheus holding the synthetic fleet, answers checked against the generator's ground truth.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from prometheus_fleet import Fleet, free_port
from slack_emulator import (
    APP_TOKEN,
    Call,
    ServedApp,
    SlackEmulator,
    SocketModeEndpoint,
    block_actions_payload,
    blocks_of,
    build_bot,
    button_action,
    select_action,
)

from codex_bot.delivery.console import blocks_to_text
from codex_bot.formatting import humanize
from codex_bot.slack.pickers import ANY, MAX_OPTIONS, PICK_RANGE, SHARE, picker_block
from codex_bot.slack.serve import socket_mode_handler

pytestmark = pytest.mark.prometheus
TZ = ZoneInfo("Europe/Berlin")
LEAD = "U0LEAD"  # may see per-user figures
ALICE = "U0ALICE"
MODEL = "codex_pick_filter_model"
USER = "codex_pick_filter_user"


@dataclass
class Setup:
    slack: SlackEmulator
    bot: ServedApp
    at: datetime

    def answer(self, name: str) -> Call:
        path = self.slack.response_url(name).split(self.slack.root, 1)[1]
        calls = self.slack.wait_for(lambda: [c for c in self.slack.calls_to("response_url") if c.path == path])
        assert calls, f"no answer at {path}"
        return calls[-1]

    def ask(self, text: str, name: str, user: str = ALICE) -> Call:
        assert self.bot.command(text, self.slack.response_url(name), user_id=user).status_code == 200
        return self.answer(name)

    def act(self, action: dict[str, Any], name: str, **fields: Any) -> None:
        payload = block_actions_payload(action, self.slack.response_url(name), **fields)
        assert self.bot.interaction(payload).status_code == 200


def pickers(body: dict[str, Any]) -> dict[str, Any]:
    (block,) = [b for b in blocks_of(body) if b["type"] == "actions" and b["block_id"].startswith("codex_panel:")]
    return block


def options(block: dict[str, Any], action_id: str) -> list[str]:
    element = next(e for e in block["elements"] if e["action_id"] == action_id)
    return [o["value"] for o in element["options"]]


def initial(block: dict[str, Any], action_id: str) -> str:
    return next(e for e in block["elements"] if e["action_id"] == action_id)["initial_option"]["value"]


def input_tokens(fleet: Fleet, start: datetime, end: datetime, **where: str) -> str:
    return f"Input: {humanize(fleet.truth.total('input_tokens', start, end, where=where or None), 'tokens')}"


@pytest.fixture(scope="module")
def setup(fleet: Fleet) -> Iterator[Setup]:
    at = fleet.align(fleet.end)
    with SlackEmulator() as slack:
        app, deps = build_bot(
            slack,
            prometheus_url=fleet.prometheus_url,
            timezone=TZ.key,
            quickchart_url=f"http://127.0.0.1:{free_port()}",
            personal_data_users=[LEAD],
        )
        deps.clock = lambda: at
        served = ServedApp(app)
        yield Setup(slack, served, at)
        served.stop()


def test_a_reply_offers_the_range_and_the_values_prometheus_has(fleet: Fleet, setup: Setup):
    block = pickers(setup.ask("tokens 7d", "offer").body)
    assert block["block_id"] == "codex_panel:tokens 7d"
    assert initial(block, PICK_RANGE) == "7d" and {"24h", "30d", "this week", "last week"} <= set(
        options(block, PICK_RANGE)
    )
    models = sorted(fleet.truth.values("model", "input_tokens"))
    assert options(block, MODEL) == [ANY, *(f"={m}" for m in models)] and initial(block, MODEL) == ANY
    assert USER not in json.dumps(block), "user values are personal data: not offered to Alice"
    assert [e["action_id"] for e in block["elements"]][-1] == SHARE
    lead = pickers(setup.ask("tokens 7d", "offer-lead", user=LEAD).body)
    users = sorted(fleet.truth.values("user", "input_tokens"))
    assert options(lead, USER) == [ANY, *(f"={u}" for u in users)]


def test_picking_a_range_then_a_model_replaces_the_reply_with_the_true_figures(fleet: Fleet, setup: Setup):
    block = pickers(setup.ask("tokens 7d", "pick").body)
    setup.act(select_action(block, PICK_RANGE, "24h"), "pick-range")
    replaced = setup.answer("pick-range").body
    assert replaced["replace_original"] is True and replaced["response_type"] == "ephemeral"
    day = setup.at - timedelta(days=1)
    assert input_tokens(fleet, day, setup.at) in blocks_to_text(blocks_of(replaced))
    block = pickers(replaced)
    assert block["block_id"] == "codex_panel:tokens 24h" and initial(block, PICK_RANGE) == "24h"
    model = sorted(fleet.truth.values("model", "input_tokens"))[0]
    setup.act(select_action(block, MODEL, f"={model}"), "pick-model")
    filtered = setup.answer("pick-model").body
    text = blocks_to_text(blocks_of(filtered))
    assert input_tokens(fleet, day, setup.at, model=model) in text and f"model={model}" in text
    assert initial(pickers(filtered), MODEL) == f"={model}"
    setup.act(select_action(pickers(filtered), MODEL, ANY), "pick-any")
    assert input_tokens(fleet, day, setup.at) in blocks_to_text(blocks_of(setup.answer("pick-any").body))


def test_share_posts_in_the_channel_and_drops_the_private_reply(fleet: Fleet, setup: Setup):
    block = pickers(setup.ask("sessions 7d", "share").body)
    before = len(setup.slack.calls_to("chat.postMessage"))
    setup.act(button_action(block, SHARE), "share-click")
    posted = setup.slack.wait_calls("chat.postMessage", before + 1)[-1]
    assert posted.body["channel"] == "C0GENERAL"
    week = setup.at - timedelta(days=7)
    conversations = humanize(fleet.truth.total("conversations", week, setup.at), "count")
    assert f"Conversations: {conversations}" in blocks_to_text(blocks_of(posted.body))
    public = pickers(posted.body)
    assert SHARE not in [e["action_id"] for e in public["elements"]]
    assert setup.answer("share-click").body["delete_original"] is True


def test_sharing_per_user_figures_follows_the_access_policy(setup: Setup):
    block = pickers(setup.ask("users 7d", "share-users", user=LEAD).body)
    before = len(setup.slack.calls_to("chat.postMessage"))
    setup.act(button_action(block, SHARE), "share-users-click", user_id=LEAD)
    refusal = setup.answer("share-users-click").body
    assert "can't be posted publicly" in refusal["text"] and refusal["replace_original"] is False
    assert len(setup.slack.calls_to("chat.postMessage")) == before


def test_a_forged_range_is_refused_plainly(setup: Setup):
    block = pickers(setup.ask("tokens 7d", "forged").body)
    action = {**select_action(block, PICK_RANGE, "24h"), "selected_option": {"value": "fortnight"}}
    setup.act(action, "forged-pick")
    assert "I don't understand the range 'fortnight'" in setup.answer("forged-pick").body["text"]


def test_a_public_message_is_updated_in_place_over_socket_mode(fleet: Fleet, setup: Setup):
    endpoint = SocketModeEndpoint().start()
    try:
        with SlackEmulator(ws_url=endpoint.url) as slack:
            app, deps = build_bot(
                slack,
                prometheus_url=fleet.prometheus_url,
                timezone=TZ.key,
                quickchart_url=f"http://127.0.0.1:{free_port()}",
            )
            deps.clock = lambda: setup.at
            handler = socket_mode_handler(app, APP_TOKEN)
            handler.connect()
            try:
                assert slack.wait_for(endpoint.connected)
                endpoint.send(
                    {
                        "envelope_id": "cmd",
                        "type": "slash_commands",
                        "accepts_response_payload": True,
                        "payload": {
                            "command": "/codex",
                            "text": "tokens 7d public",
                            "user_id": ALICE,
                            "channel_id": "C0GENERAL",
                            "channel_name": "general",
                            "team_id": "T0EMULATE",
                            "response_url": slack.response_url("s"),
                        },
                    }
                )
                posted = slack.wait_calls("chat.postMessage")[0]
                block = pickers(posted.body)
                model = sorted(fleet.truth.values("model", "input_tokens"))[-1]
                payload = block_actions_payload(
                    select_action(block, MODEL, f"={model}"),
                    slack.response_url("u"),
                    message_ts=posted.answer["ts"],
                    ephemeral=False,
                )
                endpoint.send(
                    {
                        "envelope_id": "pick",
                        "type": "interactive",
                        "accepts_response_payload": False,
                        "payload": payload,
                    }
                )
                (update,) = slack.wait_calls("chat.update")
            finally:
                handler.close()
    finally:
        endpoint.stop()
    assert {"cmd", "pick"} <= {m["envelope_id"] for m in endpoint.received}
    assert update.body["channel"] == "C0GENERAL" and update.body["ts"] == posted.answer["ts"]
    week = setup.at - timedelta(days=7)
    assert input_tokens(fleet, week, setup.at, model=model) in blocks_to_text(blocks_of(update.body))
    assert initial(pickers(update.body), MODEL) == f"={model}"


def test_pickers_keep_slack_limits_with_many_and_long_values():
    values = [f"model-{i:03d}" for i in range(300)] + ["x" * 200]
    block = picker_block("tokens 7d model=model-250", "7d", {"model": "model-250"}, {"model": values}, share=True)
    assert block is not None
    select = block.to_dict()["elements"][1]
    assert len(select["options"]) == MAX_OPTIONS and select["initial_option"]["value"] == "=model-250"
    assert all(len(o["value"]) <= 150 and len(o["text"]["text"]) <= 75 for o in select["options"])
    unfiltered = picker_block("tokens 7d", "7d", {}, {"model": values}, share=False).to_dict()["elements"][1]
    assert len(unfiltered["options"]) == MAX_OPTIONS and unfiltered["initial_option"]["value"] == ANY
    assert picker_block("tokens 7d model=" + "y" * 300, "7d", {"model": "y" * 300}, {}, share=True) is None
