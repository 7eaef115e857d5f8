"""Delivering messages to Slack: chat.postMessage / response_url / chat.postEphemeral, charts by files_upload_v2.

Public messages go into the conversation and their charts are uploaded right after, into the same
conversation and thread, or, for alerts and digests (``Destination.charts_in_thread``), into the new
message's own thread, so a chart is never a separate post.  A user ID as channel means that
person's DM with the bot.  Ephemeral replies must stay private, and Slack has no private file
upload, so their charts go to the asker's direct conversation with the bot (the same conversation
when they asked there) and the reply says so.  Rate limits, 5xx and connection errors are retried by
the WebClient's retry handlers (see :func:`codex_bot.slack.app.retry_handlers`).
"""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackClientError
from slack_sdk.models.blocks import ContextBlock
from slack_sdk.webhook import WebhookClient

from codex_bot.delivery.message import ChartImage, Delivery, Destination, Message
from codex_bot.slack.delivery_failures import is_user_id
from codex_bot.slack.mrkdwn import escape, mrkdwn
from codex_bot.slack.slack_errors import (
    DELIVERY_FAILURES,
    DeliveryError,
    explain,
    reason,
)
from codex_bot.store import MessageRef

log = logging.getLogger(__name__)

SLACK_FAILURES = (SlackClientError, OSError)  # SlackApiError is a SlackClientError


def with_note(message: Message, note: str) -> Message:
    """``message`` with one more context line (mrkdwn; ``&<>`` escaped) at the end."""
    block = ContextBlock(elements=[mrkdwn(escape(note))])
    return Message(message.text, [*message.blocks, block], message.charts)


class SlackTransport:
    """A :class:`~codex_bot.delivery.transport.Transport` over a configured ``WebClient``."""

    def __init__(self, client: WebClient) -> None:
        self.client = client
        self._direct: dict[str, str] = {}  # user id → their DM with the bot (conversations.open is stable)

    def send(self, message: Message, destination: Destination) -> Delivery:
        if destination.ephemeral:
            return self._send_ephemeral(message, destination)
        return self._send_public(message, destination)

    def update(self, ref: MessageRef, message: Message) -> Delivery:
        """Edit a posted message; its charts (a message edit cannot carry files) go to its thread."""
        updated = self.client.chat_update(
            channel=ref.channel, ts=ref.ts, text=message.text, blocks=message.blocks_json()
        )
        delivery = Delivery(channel=updated["channel"], ts=updated["ts"])
        self._upload(message.charts, delivery.channel, ref.ts, delivery)
        return delivery

    # --- public: the message, then its charts in the same place ---
    def _send_public(self, message: Message, to: Destination) -> Delivery:
        channel = self._direct_conversation(to.channel) if is_user_id(to.channel) else to.channel
        posted = self.client.chat_postMessage(
            channel=channel, text=message.text, blocks=message.blocks_json(), thread_ts=to.thread_ts
        )
        delivery = Delivery(channel=posted["channel"], ts=posted["ts"])
        thread = to.thread_ts or (delivery.ts if to.charts_in_thread else None)
        self._upload(message.charts, delivery.channel, thread, delivery)
        if delivery.problems and to.user:
            self._tell_privately(to, "; ".join(delivery.problems))
        return delivery

    def _tell_privately(self, to: Destination, note: str) -> None:
        try:
            self._post_ephemeral(with_note(Message(escape(note)), f":warning: {note}"), to.privately())
        except DELIVERY_FAILURES as exc:
            log.warning("could not tell %s about a delivery problem: %s", to.user, exc)

    # --- ephemeral: charts to the asker's DM with the bot, then the private reply ---
    def _send_ephemeral(self, message: Message, to: Destination) -> Delivery:
        delivery = Delivery(channel=to.channel)
        if message.charts:
            message = with_note(message, self._deliver_private_charts(message.charts, to, delivery))
        self._post_ephemeral(message, to)
        return delivery

    def _deliver_private_charts(self, charts: list[ChartImage], to: Destination, delivery: Delivery) -> str:
        try:
            direct = self._direct_conversation(str(to.user))
        except SLACK_FAILURES as exc:
            delivery.problems.append(f"chart not sent: {reason(exc)}")
            return f":warning: Chart not sent: {reason(exc)}."
        self._upload(charts, direct, None, delivery)
        if delivery.problems:
            return ":warning: " + "; ".join(delivery.problems) + "."
        return "Chart below." if direct == to.channel else "Chart sent to you in a direct message from me."

    def _direct_conversation(self, user: str) -> str:
        if user not in self._direct:
            self._direct[user] = self.client.conversations_open(users=user)["channel"]["id"]
        return self._direct[user]

    def _post_ephemeral(self, message: Message, to: Destination) -> None:
        if to.response_url:
            self._respond(message, to.response_url, to.replace_original)
            return
        if not to.user:
            raise ValueError(f"an ephemeral message to {to.channel} needs the user it is for")
        self.client.chat_postEphemeral(
            channel=to.channel, user=to.user, text=message.text, blocks=message.blocks_json(), thread_ts=to.thread_ts
        )

    def _respond(self, message: Message, response_url: str, replace_original: bool = False) -> None:
        hook = WebhookClient(
            response_url,
            timeout=self.client.timeout,
            ssl=self.client.ssl,
            proxy=self.client.proxy,
            retry_handlers=self.client.retry_handlers,
        )
        answer = hook.send(
            text=message.text,
            blocks=message.blocks_json(),
            response_type="ephemeral",
            replace_original=replace_original or None,
        )
        if answer.status_code != 200:
            code = (answer.body or f"http_{answer.status_code}").strip()
            raise DeliveryError(f"Slack did not take the reply: {explain(code)}.")

    # --- charts ---
    def _upload(self, charts: list[ChartImage], channel: str, thread_ts: str | None, delivery: Delivery) -> None:
        if not charts:
            return
        uploads = [{"file": c.png, "filename": c.filename, "title": c.title, "alt_txt": c.alt_text} for c in charts]
        try:
            done = self.client.files_upload_v2(file_uploads=uploads, channel=channel, thread_ts=thread_ts)
        except SLACK_FAILURES as exc:
            log.warning("chart upload to %s failed: %s", channel, reason(exc))
            delivery.problems.append(f"chart not uploaded: {reason(exc)}")
            return
        delivery.files.extend(f["id"] for f in done.get("files") or [])
