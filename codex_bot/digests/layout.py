"""Placeholder replaced below."""
from __future__ import annotations

from dataclasses import dataclass, field

from codex_bot.slack.message import Message


@dataclass
class DigestMessages:
    """A digest as Slack messages: the main post, and replies for its thread (details when long)."""

    main: Message
    thread: list[Message] = field(default_factory=list)

    def all(self) -> list[Message]:
        return [self.main, *self.thread]
