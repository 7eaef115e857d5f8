"""The strict Slack emulator answers like Slack: block rules with JSON pointers, channel IDs, membership,
archived channels, revoked tokens, response_url uses and lifetime."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from slack_block_rules import block_errors
from slack_emulator import BOT_TOKEN, SlackEmulator, manifest_scopes
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError


@pytest.fixture
def slack() -> Iterator[SlackEmulator]:
    with SlackEmulator(channels=["eng"]) as emulator:
        yield emulator


def client(slack: SlackEmulator, token: str = BOT_TOKEN) -> WebClient:
    return WebClient(token=token, base_url=slack.base_url)


def error_of(call, **kwargs) -> dict:
    with pytest.raises(SlackApiError) as refused:
        call(**kwargs)
    return refused.value.response.data


def section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def test_a_name_is_resolved_and_the_answer_carries_the_channel_id(slack):
    answer = client(slack).chat_postMessage(channel="#eng", text="hi")
    assert answer["channel"] == "C0ENG"
    assert client(slack).chat_postMessage(channel="eng", text="hi")["channel"] == "C0ENG"
    assert [m["text"] for m in slack.posted("C0ENG")] == ["hi", "hi"]
    assert error_of(client(slack).chat_postMessage, channel="#nowhere", text="hi")["error"] == "channel_not_found"


@pytest.mark.parametrize(
    ("blocks", "pointer"),
    [
        ([section("x" * 3001)], "/blocks/0/text/text"),
        ([{"type": "section", "fields": [{"type": "mrkdwn", "text": "f"}] * 11}], "/blocks/0/fields"),
        ([{"type": "section", "fields": [{"type": "mrkdwn", "text": "f" * 2001}]}], "/blocks/0/fields/0/text"),
        ([{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}], "/blocks/0/text/text"),
        ([{"type": "context", "elements": [{"type": "mrkdwn", "text": "c" * 3001}]}], "/blocks/0/elements/0/text"),
        ([{"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * 11}], "/blocks/0/elements"),
        (
            [
                {
                    "type": "actions",
                    "elements": [
                        {"type": "button", "text": {"type": "plain_text", "text": "b" * 76}, "action_id": "a"}
                    ],
                }
            ],
            "/blocks/0/elements/0/text/text",
        ),
        (
            [
                {
                    "type": "actions",
                    "elements": [
                        {"type": "button", "text": {"type": "plain_text", "text": "b"}, "action_id": "a" * 256}
                    ],
                }
            ],
            "/blocks/0/elements/0/action_id",
        ),
        ([{"type": "image", "image_url": "https://x.test/" + "a" * 3000, "alt_text": "a"}], "/blocks/0/image_url"),
        ([{"type": "image", "image_url": "https://x.test/a.png", "alt_text": "a" * 2001}], "/blocks/0/alt_text"),
        ([{**section("x"), "block_id": "b" * 256}], "/blocks/0/block_id"),
        ([section("")], "/blocks/0/text/text"),
        ([section("x")] * 51, "/blocks"),
        ([{"type": "no-such-block"}], "/blocks/0/type"),
    ],
)
def test_invalid_blocks_name_the_json_pointer_like_slack(slack, blocks, pointer):
    answer = error_of(client(slack).chat_postMessage, channel="C0ENG", text="fallback", blocks=blocks)
    assert answer["error"] == "invalid_blocks"
    assert any(e.endswith(f"[json-pointer:{pointer}]") for e in answer["errors"]), answer["errors"]
    assert answer["response_metadata"]["messages"][0].startswith("[ERROR] ")
    assert not slack.posted("C0ENG")


@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing")
def test_text_limits_and_no_text(slack):
    post = client(slack).chat_postMessage
    assert error_of(post, channel="C0ENG", text="x" * 40_001)["error"] == "msg_too_long"
    assert error_of(post, channel="C0ENG", text="")["error"] == "no_text"
    assert post(channel="C0ENG", text="x" * 40_000, blocks=[section("x" * 3000)] * 50)["ok"]
    assert block_errors([section("x" * 3000)] * 100, max_blocks=100) == []


def test_membership_private_channels_dms_and_archived(slack):
    slack.add_channel("random", member=False)
    slack.add_channel("secret", kind="private", member=False)
    slack.add_channel("old", archived=True)
    someone_elses_dm = slack.add_channel("alice-bob", kind="im", member=False, id="D0ALICEBOB")
    post = client(slack).chat_postMessage
    assert post(channel="#random", text="hi")["channel"] == "C0RANDOM", "chat:write.public posts to public channels"
    assert error_of(post, channel="#secret", text="hi")["error"] == "channel_not_found"
    assert error_of(post, channel=someone_elses_dm.id, text="hi")["error"] == "channel_not_found"
    assert error_of(post, channel="#old", text="hi")["error"] == "is_archived"
    assert post(channel="U0ALICE", text="hi")["channel"] == "D0ALICE", "a user ID posts to their DM with the bot"


def test_a_public_channel_without_chat_write_public_is_not_in_channel():
    with SlackEmulator(scopes=manifest_scopes() - {"chat:write.public"}) as slack:
        slack.add_channel("random", member=False)
        assert error_of(client(slack).chat_postMessage, channel="#random", text="hi")["error"] == "not_in_channel"
        slack.add_channel("random")
        assert client(slack).chat_postMessage(channel="#random", text="hi")["ok"]


def test_update_needs_the_id_and_a_message_the_bot_posted(slack):
    ts = client(slack).chat_postMessage(channel="#eng", text="firing")["ts"]
    assert error_of(client(slack).chat_update, channel="#eng", ts=ts, text="x")["error"] == "channel_not_found"
    assert error_of(client(slack).chat_update, channel="C0ENG", ts="1.2", text="x")["error"] == "message_not_found"
    assert client(slack).chat_update(channel="C0ENG", ts=ts, text="resolved")["ok"]
    assert slack.posted("eng")[0]["text"] == "resolved"
    slack.archive("eng")
    assert error_of(client(slack).chat_update, channel="C0ENG", ts=ts, text="x")["error"] == "is_archived"


def test_a_reply_to_a_message_of_another_conversation_is_taken_but_lost(slack):
    slack.add_channel("alerts")
    post = client(slack).chat_postMessage
    parent = post(channel="#eng", text="firing")["ts"]
    post(channel="#eng", text="resolved", thread_ts=parent)
    lost = post(channel="#alerts", text="resolved again", thread_ts=parent)
    assert lost["ok"], "Slack answers ok"
    assert [m["text"] for m in slack.thread("eng", parent)] == ["resolved"]
    assert [m["text"] for m in slack.orphans()] == ["resolved again"] and not slack.thread("alerts", parent)
    assert error_of(post, channel="#eng", text="x", thread_ts="0")["error"] == "invalid_thread_ts"


def test_revoked_and_invalid_tokens(slack):
    slack.revoke()
    assert error_of(client(slack).chat_postMessage, channel="C0ENG", text="hi")["error"] == "token_revoked"
    slack.revoke("xoxb-other", "invalid_auth")
    assert error_of(client(slack, "xoxb-other").auth_test)["error"] == "invalid_auth"


def test_conversations_info_and_join(slack):
    slack.add_channel("random", member=False)
    slack.add_channel("secret", kind="private", member=False)
    scoped = manifest_scopes() | {"channels:read", "groups:read", "channels:join"}
    slack.scopes = scoped
    info = client(slack).conversations_info(channel="C0RANDOM")["channel"]
    assert info["id"] == "C0RANDOM" and info["is_member"] is False and info["is_archived"] is False
    assert error_of(client(slack).conversations_info, channel="C0SECRET")["error"] == "channel_not_found"
    assert client(slack).conversations_join(channel="C0RANDOM")["channel"]["is_member"] is True
    slack.scopes = manifest_scopes() - {"channels:read"}  # an app installed before the read scopes were added
    assert error_of(client(slack).conversations_info, channel="C0ENG")["error"] == "missing_scope"


def test_a_response_url_takes_five_posts_within_thirty_minutes(slack):
    url = slack.response_url("r")
    answers = [requests.post(url, json={"text": f"reply {i}"}, timeout=5) for i in range(6)]
    assert [a.status_code for a in answers] == [200] * 5 + [404] and answers[-1].text == "used_url"
    url = slack.response_url("late")
    slack.age_response_url("late", 31 * 60)
    answer = requests.post(url, json={"text": "too late"}, timeout=5)
    assert (answer.status_code, answer.text) == (404, "expired_url")
    bad = requests.post(slack.response_url("bad"), json={"text": "x", "blocks": [section("x" * 3001)]}, timeout=5)
    assert (bad.status_code, bad.text) == (400, "invalid_blocks")
