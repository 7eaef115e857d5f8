"""The delivery interface every sender implements (Slack, console)."""

from __future__ import annotations

from typing import Protocol

from codex_bot.delivery.message import Delivery, Destination, Message
from codex_bot.store import MessageRef


class Transport(Protocol):
    """Delivers rendered messages.

    ``send``/``update`` raise when the text cannot go out: Slack's own errors (``SlackApiError``,
    ``OSError``), so a retrying caller such as the outbox can tell transient failures, or
    :class:`~codex_bot.slack.slack_errors.DeliveryError`; ``slack_errors.failure_text`` words them
    for people.  Chart problems never fail a delivery: they land in ``Delivery.problems``.
    """

    def send(self, message: Message, destination: Destination) -> Delivery: ...

    def update(self, ref: MessageRef, message: Message) -> Delivery: ...
