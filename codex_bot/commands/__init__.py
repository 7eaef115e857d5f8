"""Slash commands: ``/codex`` parsing and thin handlers; the listeners ack at once and hand off."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from codex_bot.commands.codex import answer
from codex_bot.commands.deps import CommandDeps
from codex_bot.commands.invocation import COMMAND, Invocation


def register(app: App, deps: CommandDeps) -> None:
    """Register the ``/codex`` listener on ``app``."""

    @app.command(COMMAND)
    def codex(ack: Ack, command: dict[str, Any]) -> None:
        ack()  # Slack wants this within 3 s; the answer follows via response_url / the Web API
        answer(Invocation.from_slash(command), deps)
