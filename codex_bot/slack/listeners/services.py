"""What the listeners hand off to, built once by the composition root (:mod:`codex_bot.bot`)."""

from __future__ import annotations

from dataclasses import dataclass

from codex_bot.commands.alerts_commands import AlertCommandDeps
from codex_bot.commands.deps import CommandDeps


@dataclass(frozen=True)
class Services:
    """/codex with every sub-command and, when the bot runs alerts, the alert buttons' collaborators."""

    commands: CommandDeps
    alerts: AlertCommandDeps | None = None
