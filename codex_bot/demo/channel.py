"""Slack mode of the demo: everything it says goes to one channel, in the open.

The demo has no real person asking and may not be in the channels its rules and digests name, so
private answers (``chat.postEphemeral`` needs a real asker) and routed alerts and digests are all
posted publicly in the demo channel instead; threads and edits stay as they are.
"""

from __future__ import annotations

from codex_bot.delivery.message import Delivery, Destination, Message
from codex_bot.delivery.transport import Transport
from codex_bot.store import MessageRef


class OneChannel:
    """A :class:`~codex_bot.delivery.transport.Transport` sending every message publicly to ``channel``."""

    def __init__(self, transport: Transport, channel: str) -> None:
        self.transport = transport
        self.channel = channel

    def send(self, message: Message, destination: Destination) -> Delivery:
        return self.transport.send(message, Destination(self.channel, thread_ts=destination.thread_ts))

    def update(self, ref: MessageRef, message: Message) -> Delivery:
        return self.transport.update(ref, message)
