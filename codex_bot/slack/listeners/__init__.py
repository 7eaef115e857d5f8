"""Every Bolt listener, grouped by kind as in Bolt's starter app: each module has ``register(app, services)``
and thin listeners that ack at once and hand off to a plain function of :mod:`codex_bot.commands`."""

from __future__ import annotations

from slack_bolt import App

from codex_bot.slack.listeners import actions, commands, events
from codex_bot.slack.listeners.services import Services

__all__ = ["Services", "register"]


def register(app: App, services: Services) -> None:
    """Every listener of ``app``: the /codex slash command, the buttons, pickers and modals, the App Home event."""
    commands.register(app, services)
    actions.register(app, services)
    events.register(app, services)
