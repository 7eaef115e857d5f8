"""What the listeners hand off to, built once by the composition root (:mod:`codex_bot.bot`)."""

from __future__ import annotations

from dataclasses import dataclass

from codex_bot.commands.alerts_commands import AlertCommandDeps
from codex_bot.commands.deliveries_commands import DeliveryCommandDeps
from codex_bot.commands.deps import CommandDeps
from codex_bot.commands.home import Home
from codex_bot.store import Store


@dataclass(frozen=True)
class Services:
    """/codex with every sub-command (and the panel pickers); each other part, when the bot runs it: the alert
    buttons and silence modal, the Retry button of failure notices, the App Home, and the personal-digest
    opt-out buttons (which keep the choice in ``store``)."""

    commands: CommandDeps
    alerts: AlertCommandDeps | None = None
    deliveries: DeliveryCommandDeps | None = None
    home: Home | None = None
    store: Store | None = None
