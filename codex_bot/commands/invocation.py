"""One /codex invocation: what was typed, by whom, where, and how to answer it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from codex_bot.delivery.message import Destination

COMMAND = "/codex"  # the slash command, as in deploy/slack-manifest.yaml


@dataclass(frozen=True)
class Invocation:
    text: str
    user_id: str
    channel_id: str
    channel_name: str | None = None
    response_url: str | None = None

    @classmethod
    def from_slash(cls, command: Mapping[str, Any]) -> Invocation:
        """From Slack's slash-command payload (HTTP form fields or the Socket Mode envelope)."""
        return cls(
            text=str(command.get("text") or ""),
            user_id=str(command["user_id"]),
            channel_id=str(command["channel_id"]),
            channel_name=command.get("channel_name"),
            response_url=command.get("response_url"),
        )

    def private(self) -> Destination:
        """Seen only by the asker, in the conversation they asked in."""
        return Destination(self.channel_id, self.user_id, ephemeral=True, response_url=self.response_url)

    def public(self) -> Destination:
        """Posted in the conversation for everyone (notes about the delivery still go to the asker)."""
        return Destination(self.channel_id, self.user_id, ephemeral=False, response_url=self.response_url)
