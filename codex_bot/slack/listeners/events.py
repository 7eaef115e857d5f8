"""Events API listeners: ``app_home_opened`` publishes the App Home (built in :mod:`codex_bot.commands.home`)."""

from __future__ import annotations

from typing import Any

from slack_bolt import App

from codex_bot.slack.listeners.commands import acknowledge
from codex_bot.slack.listeners.services import Services


def register(app: App, services: Services) -> None:
    """The home tab's listener, when the bot has an App Home: ack at once, publish in Bolt's lazy thread."""
    home = services.home
    if home is None:
        return

    def opened(event: dict[str, Any]) -> None:
        if event.get("tab", "home") == "home":
            home.publish(event["user"])

    app.event("app_home_opened")(ack=acknowledge, lazy=[opened])
