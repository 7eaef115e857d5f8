"""Slash commands: ``/codex`` parsing and thin handlers; the listeners ack at once and hand off."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from codex_bot.commands import pickers
from codex_bot.commands.codex import answer
from codex_bot.commands.deps import CommandDeps
from codex_bot.commands.invocation import COMMAND, Invocation


def acknowledge(ack: Ack) -> None:
    """Slack wants the ack within 3 s: give it at once, the answer follows (response_url / Web API)."""
    ack()


def register(app: App, deps: CommandDeps) -> None:
    """Register ``/codex`` on ``app``: ack in the request, answer in Bolt's lazy-listener thread.

    The app must run with ``process_before_response=True`` so the ack is sent as soon as it is
    given (otherwise Bolt polls for it every 10 ms).
    """

    def answer_command(command: dict[str, Any]) -> None:
        answer(Invocation.from_slash(command), deps)

    app.command(COMMAND)(ack=acknowledge, lazy=[answer_command])
    pickers.register(app, deps)
