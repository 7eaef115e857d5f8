"""Block actions and modal submissions: ack at once, act in Bolt's lazy-listener thread through a plain
function of :mod:`codex_bot.commands` (or of the feature that owns the state).

- the panel replies' pickers and *Share in channel* → :func:`codex_bot.commands.pickers.pick`
- the alert messages' buttons (Silence 1h / 24h / Silence…, Acknowledge, Show evidence) →
  :func:`codex_bot.commands.alerts_commands.button`; the silence modal's submission →
  :func:`~codex_bot.commands.alerts_commands.submit_silence`
- the *Retry* button of a delivery-failure notice → :func:`codex_bot.commands.deliveries_commands.retry_button`
- the App Home's range picker → :class:`codex_bot.commands.home.Home`
- the personal digest's opt-out / opt-in buttons → :func:`codex_bot.digests.personal.set_opt_out`
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from codex_bot.alerts.messages import ACKNOWLEDGE, EVIDENCE, SILENCE_1H, SILENCE_24H, SILENCE_CUSTOM, SILENCE_MODAL
from codex_bot.commands.alerts_commands import AlertCommandDeps, button, modal_errors, submit_silence
from codex_bot.commands.codex import INTERNAL_ERROR
from codex_bot.commands.deliveries_commands import DeliveryCommandDeps, retry_button
from codex_bot.commands.deps import CommandDeps
from codex_bot.commands.home import Home
from codex_bot.commands.pickers import ACTIONS, pick
from codex_bot.digests.personal import set_opt_out
from codex_bot.errors import UserError
from codex_bot.slack.delivery_failures import RETRY_ACTION
from codex_bot.slack.home_view import RANGE_ACTION
from codex_bot.slack.listeners.commands import acknowledge
from codex_bot.slack.listeners.services import Services
from codex_bot.slack.personal_blocks import OPT_IN, OPT_OUT, opted_message
from codex_bot.slack.slack_errors import DELIVERY_FAILURES
from codex_bot.store import Store

log = logging.getLogger(__name__)
FAILED = "Something went wrong on my side; it has been logged."


def register(app: App, services: Services) -> None:
    """The listeners of every button, picker and modal the bot's parts show."""
    _pickers(app, services.commands)
    if services.alerts is not None:
        _alert_buttons(app, services.alerts)
        _silence_modal(app, services.alerts)
    if services.deliveries is not None:
        _retry_button(app, services.deliveries)
    if services.home is not None:
        _home_range(app, services.home)
    if services.store is not None:
        _personal_digest_buttons(app, services.store)


def _outcome(what: str, run: Callable[[], str]) -> str:
    """What to tell the user: ``run()``'s answer, a :class:`UserError`'s message, or (a bug, logged with its
    trace) a short note."""
    try:
        return run()
    except UserError as exc:
        return str(exc)
    except Exception:
        log.exception("%s failed", what)
        return FAILED


def _pickers(app: App, deps: CommandDeps) -> None:
    def act(body: dict[str, Any], respond: Respond) -> None:
        try:
            pick(body, respond, deps)
        except UserError as exc:
            respond(text=str(exc), response_type="ephemeral", replace_original=False)
        except Exception:  # a bug: logged with its trace; the user gets a short note
            log.exception("panel picker failed")
            respond(text=INTERNAL_ERROR, response_type="ephemeral", replace_original=False)

    app.action(ACTIONS)(ack=acknowledge, lazy=[act])


def _alert_buttons(app: App, deps: AlertCommandDeps) -> None:
    for action_id in (SILENCE_1H, SILENCE_24H, SILENCE_CUSTOM, EVIDENCE, ACKNOWLEDGE):
        app.action(action_id)(ack=acknowledge, lazy=[_alert_listener(action_id, deps)])


def _alert_listener(action_id: str, deps: AlertCommandDeps) -> Callable[..., None]:
    """The lazy listener of one alert button (Bolt passes arguments by name, so the id is bound here)."""

    def act(body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        text = _outcome(f"alert button {action_id}", lambda: button(action_id, body, deps, client))
        if text:
            respond(text=text, response_type="ephemeral", replace_original=False)

    return act


def _silence_modal(app: App, deps: AlertCommandDeps) -> None:
    """The silence modal's submission: refused in the ack with the reason under the field, else done lazily."""

    def check_modal(ack: Ack, view: dict[str, Any]) -> None:
        errors = modal_errors(view)
        if errors:
            ack(response_action="errors", errors=errors)
        else:
            ack()

    def silence_from_modal(body: dict[str, Any], client: WebClient) -> None:
        if modal_errors(body["view"]):
            return  # refused in the ack, with the reason under the field
        user = body["user"]["id"]
        text = _outcome("silence modal", lambda: submit_silence(body, deps))
        try:
            client.chat_postMessage(channel=user, text=text)  # a modal has no conversation: tell the user directly
        except DELIVERY_FAILURES as exc:
            log.warning("could not tell %s about their silence: %s", user, exc)

    app.view(SILENCE_MODAL)(ack=check_modal, lazy=[silence_from_modal])


def _retry_button(app: App, deps: DeliveryCommandDeps) -> None:
    def act(body: dict[str, Any], respond: Respond) -> None:
        text = _outcome("delivery retry button", lambda: retry_button(body, deps))
        respond(text=text, response_type="ephemeral", replace_original=False)

    app.action(RETRY_ACTION)(ack=acknowledge, lazy=[act])


def _home_range(app: App, home: Home) -> None:
    def picked(body: dict[str, Any]) -> None:
        user = body["user"]["id"]
        home.choose(user, body["actions"][0]["selected_option"]["value"])
        home.publish(user)

    app.action(RANGE_ACTION)(ack=acknowledge, lazy=[picked])


def _personal_digest_buttons(app: App, store: Store) -> None:
    """Stop personal digests, or turn them back on (remembered in the state store), confirmed privately."""
    for action_id in (OPT_OUT, OPT_IN):
        app.action(action_id)(ack=acknowledge, lazy=[_opt_listener(action_id == OPT_OUT, store)])


def _opt_listener(out: bool, store: Store) -> Callable[..., None]:
    def act(body: dict[str, Any], respond: Respond) -> None:
        set_opt_out(store, body["user"]["id"], out)
        message = opted_message(out)
        respond(text=message.text, blocks=message.blocks_json(), response_type="ephemeral", replace_original=False)

    return act
