"""The alert messages' buttons (Silence 1h / Silence 24h for admins, Acknowledge for anyone): ack at once,
act in Bolt's lazy-listener thread through :func:`codex_bot.commands.alerts_commands.button`."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, Respond

from codex_bot.alerts.messages import ACKNOWLEDGE, SILENCE_1H, SILENCE_24H
from codex_bot.commands.alerts_commands import AlertCommandDeps, button
from codex_bot.errors import UserError
from codex_bot.slack.listeners.services import Services

log = logging.getLogger(__name__)


def register(app: App, services: Services) -> None:
    """The alert buttons' listeners, when the bot runs alerts."""
    if services.alerts is None:
        return

    def acknowledge_click(ack: Ack) -> None:
        ack()

    for action_id in (SILENCE_1H, SILENCE_24H, ACKNOWLEDGE):
        app.action(action_id)(ack=acknowledge_click, lazy=[_listener(action_id, services.alerts)])


def _listener(action_id: str, deps: AlertCommandDeps) -> Callable[..., None]:
    """The lazy listener of one button (Bolt passes arguments by name, so the id is bound here)."""

    def act(body: dict[str, Any], respond: Respond) -> None:
        try:
            text = button(action_id, body, deps)
        except UserError as exc:
            text = str(exc)
        except Exception:  # a bug: logged with its trace; the clicker gets a short note
            log.exception("alert button %s failed", action_id)
            text = "Something went wrong on my side; it has been logged."
        respond(text=text, response_type="ephemeral", replace_original=False)

    return act
