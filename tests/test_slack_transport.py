"""SlackTransport against the local Slack emulator: where text and charts go, retries, and refusals."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from slack_emulator import BOT_TOKEN, SlackEmulator
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from codex_bot.delivery.console import ConsoleTransport
from codex_bot.delivery.message import ChartImage, Destination, Message
from codex_bot.slack.client import retry_handlers
from codex_bot.slack.replies import notice
from codex_bot.slack.slack_errors import DeliveryError, failure_text
from codex_bot.slack.slack_transport import SlackTransport
from codex_bot.store import MessageRef

PNG = b"\x89PNG\r\n\x1a\n" + b"chart-bytes" * 50


@pytest.fixture
def slack() -> Iterator[SlackEmulator]:
    with SlackEmulator() as emulator:
        yield emulator


@pytest.fixture
def transport(slack: SlackEmulator) -> SlackTransport:
    return SlackTransport(WebClient(token=BOT_TOKEN, base_url=slack.base_url, retry_handlers=retry_handlers()))


def chart_message() -> Message:
    message = notice("Total token usage: 4.5M", ":bar_chart:")
    return Message(message.text, message.blocks, [ChartImage(PNG, "tokens-7d.png", "Tokens · 7d", "tokens chart")])


def test_public_message_then_its_chart_in_the_same_conversation(slack: SlackEmulator, transport: SlackTransport):
    delivery = transport.send(chart_message(), Destination("C0GENERAL", thread_ts="1700000000.000001"))

    posted = slack.calls_to("chat.postMessage")[0].body
    assert posted["channel"] == "C0GENERAL" and posted["thread_ts"] == "1700000000.000001"
    assert "4.5M" in posted["text"] and posted["blocks"]
    completed = slack.calls_to("files.completeUploadExternal")[0].body
    assert completed["channel_id"] == "C0GENERAL" and completed["thread_ts"] == "1700000000.000001"
    assert slack.uploads[delivery.files[0]] == PNG
    assert delivery.ts == slack.calls_to("chat.postMessage")[0].answer["ts"] and not delivery.problems


def test_ephemeral_reply_goes_to_response_url_and_chart_to_the_askers_dm(
    slack: SlackEmulator, transport: SlackTransport
):
    to = Destination("C0GENERAL", "U0ALICE", ephemeral=True, response_url=slack.response_url())
    delivery = transport.send(chart_message(), to)

    transport.send(chart_message(), to)
    assert [c.body["users"] for c in slack.calls_to("conversations.open")] == ["U0ALICE"], "opened once, then cached"
    assert slack.calls_to("files.completeUploadExternal")[0].body["channel_id"] == "D0ALICE"
    reply = slack.calls_to("response_url")[0].body
    assert reply["response_type"] == "ephemeral" and "direct message" in str(reply["blocks"][-1])
    assert not slack.calls_to("chat.postMessage"), "an ephemeral answer must not post in the channel"
    assert slack.uploads[delivery.files[0]] == PNG


def test_ephemeral_without_response_url_uses_chat_post_ephemeral(slack: SlackEmulator, transport: SlackTransport):
    transport.send(notice("hello"), Destination("C0GENERAL", "U0ALICE", ephemeral=True))
    body = slack.calls_to("chat.postEphemeral")[0].body
    assert body["user"] == "U0ALICE" and body["channel"] == "C0GENERAL"


def test_rate_limited_call_is_retried_after_retry_after(slack: SlackEmulator, transport: SlackTransport):
    slack.rate_limit("chat.postMessage", times=1, retry_after=0)
    delivery = transport.send(notice("hi"), Destination("C0GENERAL"))
    calls = slack.calls_to("chat.postMessage")
    assert [c.status for c in calls] == [429, 200] and delivery.ts


def test_server_error_is_retried(slack: SlackEmulator, transport: SlackTransport):
    slack.server_error("chat.postMessage", times=1, status=503)
    transport.send(notice("hi"), Destination("C0GENERAL"))
    assert [c.status for c in slack.calls_to("chat.postMessage")] == [503, 200]


def test_refused_post_raises_slack_error_with_a_readable_explanation(slack: SlackEmulator, transport: SlackTransport):
    slack.fail("chat.postMessage", "not_in_channel")
    with pytest.raises(SlackApiError) as refused:
        transport.send(notice("hi"), Destination("C0PRIVATE"))
    assert "/invite @codex-bot" in failure_text(refused.value)


def test_failed_chart_upload_keeps_the_text_and_tells_the_asker(slack: SlackEmulator, transport: SlackTransport):
    slack.fail("files.completeUploadExternal", "not_in_channel")
    to = Destination("C0GENERAL", "U0ALICE", response_url=slack.response_url())
    delivery = transport.send(chart_message(), to)

    assert delivery.ts and delivery.problems and not delivery.files
    note = slack.calls_to("response_url")[0].body
    assert note["response_type"] == "ephemeral" and "invite" in note["text"]


def test_expired_response_url_is_a_delivery_error(slack: SlackEmulator, transport: SlackTransport):
    slack.fail("response_url", "expired_url")
    with pytest.raises(DeliveryError, match="expired"):
        transport.send(notice("hi"), Destination("C0", "U0ALICE", ephemeral=True, response_url=slack.response_url()))


def test_update_edits_the_message_and_threads_its_chart(slack: SlackEmulator, transport: SlackTransport):
    slack.add_channel("alerts")
    posted = transport.send(notice("firing"), Destination("#alerts"))
    assert posted.channel == "C0ALERTS", "Slack answers with the channel's ID, not the name posted to"
    delivery = transport.update(MessageRef(posted.channel, str(posted.ts)), chart_message())
    edit = slack.calls_to("chat.update")[0].body
    assert edit["ts"] == posted.ts and edit["channel"] == "C0ALERTS"
    assert slack.calls_to("files.completeUploadExternal")[0].body["thread_ts"] == posted.ts
    assert delivery.files and "4.5M" in slack.posted("alerts")[0]["text"]


def test_console_transport_prints_readably_and_writes_charts(tmp_path):
    out = io.StringIO()
    console = ConsoleTransport(tmp_path / "charts", out)
    delivery = console.send(chart_message(), Destination("#eng", "U0ALICE", ephemeral=True))
    printed = out.getvalue()
    assert "Total token usage: 4.5M" in printed and "ephemeral to U0ALICE" in printed and "*" not in printed
    assert (tmp_path / "charts" / "001-tokens-7d.png").read_bytes() == PNG
    assert delivery.files == [str(tmp_path / "charts" / "001-tokens-7d.png")]


def test_console_transport_shows_buttons_by_their_labels(tmp_path):
    from slack_sdk.models.blocks import ActionsBlock, ButtonElement

    out = io.StringIO()
    buttons = ActionsBlock(
        elements=[
            ButtonElement(text="Silence 1h", action_id="a", value="1"),
            ButtonElement(text="Acknowledge", action_id="b", value="1"),
        ]
    )
    ConsoleTransport(tmp_path, out).send(Message("alert", [buttons]), Destination("#alerts"))
    assert "[ Silence 1h ] [ Acknowledge ]" in out.getvalue()
