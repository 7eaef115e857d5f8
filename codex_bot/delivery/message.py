"""A message ready to deliver: Block Kit blocks, fallback text and chart images; and where it goes.

Messages are rendered without being sent, so commands, alerts and digests build them the same way
and any :class:`~codex_bot.delivery.transport.Transport` (Slack, console) delivers them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from slack_sdk.models.blocks import Block


@dataclass(frozen=True)
class ChartImage:
    """A rendered chart to upload next to a message."""

    png: bytes
    filename: str  # e.g. "tokens-7d.png"
    title: str  # e.g. "Total token usage · 7d"
    alt_text: str


@dataclass
class Message:
    """``text`` is the plain fallback Slack shows in notifications; ``blocks`` is what people read."""

    text: str
    blocks: list[Block] = field(default_factory=list)
    charts: list[ChartImage] = field(default_factory=list)

    def blocks_json(self) -> list[dict[str, Any]]:
        return [block.to_dict() for block in self.blocks]


@dataclass(frozen=True)
class Destination:
    """Where a message goes.

    ``ephemeral`` replies are seen only by ``user``; they go through ``response_url`` when the
    message answers a slash command (works in any conversation), else ``chat.postEphemeral``.
    """

    channel: str
    user: str | None = None
    ephemeral: bool = False
    response_url: str | None = None
    thread_ts: str | None = None
    charts_in_thread: bool = False  # a new message's charts go in its thread (alerts, digests), not after it
    replace_original: bool = False  # an ephemeral reply through response_url replaces the message acted on

    def __post_init__(self) -> None:
        if self.ephemeral and not self.user:
            raise ValueError("an ephemeral destination needs the user who sees it")

    def privately(self) -> Destination:
        """The same conversation, seen only by ``user`` (for notes about this delivery)."""
        return Destination(self.channel, self.user, True, self.response_url, self.thread_ts)


@dataclass
class Delivery:
    """What a transport did: the message reference (if any), uploaded files, and chart problems."""

    channel: str
    ts: str | None = None
    files: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # short notes, e.g. "chart not uploaded: …"
