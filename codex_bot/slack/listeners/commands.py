"""The ``/codex`` slash command: ack in the request, answer in Bolt's lazy-listener thread."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from codex_bot.commands.codex import answer
from codex_bot.commands.invocation import COMMAND, Invocation
from codex_bot.slack.listeners.services import Services


def acknowledge(ack: Ack) -> None:
    """Slack wants the ack within 3 s: give it at once, the answer follows (response_url / Web API).

    Every listener (command, actions, events) acks with this one."""
    ack()


def register(app: App, services: Services) -> None:
    """Register ``/codex`` on ``app``.

    The app must run with ``process_before_response=True`` so the ack is sent as soon as it is
    given (otherwise Bolt polls for it every 10 ms).
    """
    deps = services.commands

    def answer_command(command: dict[str, Any]) -> None:
        answer(Invocation.from_slash(command), deps)

    app.command(COMMAND)(ack=acknowledge, lazy=[answer_command])
