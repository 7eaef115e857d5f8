"""``/codex alerts``, ``/codex silence <rule> <duration>``, ``/codex unsilence <rule>`` and the alert buttons.

Thin handlers: parse, check access, call :mod:`codex_bot.alerts.actions`, reply.  The /codex
router sends invocations whose first word is in :data:`ALERT_WORDS` to :func:`alerts_reply`;
:func:`register` adds the button listeners (Silence 1h / Silence 24h / Acknowledge).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from slack_bolt import Ack, App, Respond

from codex_bot.alerts import actions
from codex_bot.alerts.loader import RuleSet
from codex_bot.alerts.messages import ACKNOWLEDGE, SILENCE_1H, SILENCE_24H
from codex_bot.commands.access import AccessPolicy
from codex_bot.commands.invocation import Invocation
from codex_bot.errors import UserError
from codex_bot.outbox import Outbox, Transport
from codex_bot.slack.message import Destination, Message
from codex_bot.store import Store

log = logging.getLogger(__name__)

ALERT_WORDS = ("alerts", "silence", "unsilence")
BUTTON_SILENCES = {SILENCE_1H: timedelta(hours=1), SILENCE_24H: timedelta(hours=24)}
USAGE = "Use `alerts`, `silence <rule> <duration>` (e.g. `silence token-spike 2h`) or `unsilence <rule>`."


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class AlertCommandDeps:
    store: Store
    rules: RuleSet
    outbox: Outbox
    transport: Transport
    access: AccessPolicy
    tz: ZoneInfo
    clock: Callable[[], datetime] = utc_now


def alerts_reply(words: Sequence[str], invocation: Invocation, deps: AlertCommandDeps) -> tuple[Message, Destination]:
    """The private answer to ``/codex alerts|silence|unsilence ...``; raises UserError for bad input."""
    command, args = words[0].lower(), list(words[1:])
    now = deps.clock()
    if command == "alerts" and not args:
        return actions.overview(deps.store, deps.rules, now, deps.tz), invocation.private()
    if command == "silence" and len(args) == 2:
        deps.access.require_admin(invocation.user_id, "silence alerts")
        message = actions.silence_rule(deps.store, deps.rules, args[0], args[1], invocation.user_id, now, deps.tz)
        return message, invocation.private()
    if command == "unsilence" and len(args) == 1:
        deps.access.require_admin(invocation.user_id, "unsilence alerts")
        return actions.unsilence_rule(deps.store, deps.rules, args[0], now), invocation.private()
    raise UserError(USAGE)


def button(action_id: str, body: dict[str, Any], deps: AlertCommandDeps) -> str:
    """Run one alert button for the user who clicked; the answer is shown only to them."""
    user = body["user"]["id"]
    episode_id = int(body["actions"][0]["value"])
    now = deps.clock()
    if action_id == ACKNOWLEDGE:
        text = actions.acknowledge(deps.store, deps.outbox, deps.rules, episode_id, user, now, deps.tz)
    else:
        deps.access.require_admin(user, "silence alerts")
        text = actions.silence_episode(deps.store, deps.outbox, deps.rules, episode_id, BUTTON_SILENCES[action_id],
                                       user, now, deps.tz)
    deps.outbox.flush(deps.transport)
    return text


def register(app: App, deps: AlertCommandDeps) -> None:
    """The alert message buttons: ack at once, act in Bolt's lazy-listener thread."""

    def acknowledge_click(ack: Ack) -> None:
        ack()

    for action_id in (SILENCE_1H, SILENCE_24H, ACKNOWLEDGE):

        def act(body: dict[str, Any], respond: Respond, action_id: str = action_id) -> None:
            try:
                text = button(action_id, body, deps)
            except UserError as exc:
                text = str(exc)
            except Exception:  # a bug: logged with its trace; the clicker gets a short note
                log.exception("alert button %s failed", action_id)
                text = "Something went wrong on my side; it has been logged."
            respond(text=text, response_type="ephemeral", replace_original=False)

        app.action(action_id)(ack=acknowledge_click, lazy=[act])
