"""``/codex alerts``, ``/codex silence <rule> <duration>``, ``/codex unsilence <rule>`` and the alert buttons.

Thin handlers: parse, call :mod:`codex_bot.alerts.actions`, reply.  :func:`register` adds the
three words to the /codex router as subcommands (silence and unsilence for admins only);
:func:`button` runs the alert messages' buttons (Silence 1h / Silence 24h for admins, Acknowledge
for anyone), whose listeners live in :mod:`codex_bot.slack.listeners.actions`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from codex_bot.access import AccessPolicy
from codex_bot.alerts import actions
from codex_bot.alerts.loader import RuleSet
from codex_bot.alerts.messages import ACKNOWLEDGE, SILENCE_1H, SILENCE_24H
from codex_bot.clock import Clock, utc_now
from codex_bot.commands.deps import CommandDeps
from codex_bot.commands.invocation import Invocation
from codex_bot.commands.subcommand import Subcommand
from codex_bot.delivery.message import Destination, Message
from codex_bot.delivery.outbox import Outbox, Transport
from codex_bot.errors import UserError
from codex_bot.store import Store

BUTTON_SILENCES = {SILENCE_1H: timedelta(hours=1), SILENCE_24H: timedelta(hours=24)}



@dataclass
class AlertCommandDeps:
    store: Store
    rules: RuleSet
    outbox: Outbox
    transport: Transport
    access: AccessPolicy
    tz: ZoneInfo
    clock: Clock = utc_now


def _usage(words: Sequence[str], count: int, usage: str) -> None:
    if len(words) != count:
        raise UserError(f"Use `{usage}`, e.g. `silence token-spike 2h` or `unsilence token-spike`.")


def list_alerts(words: Sequence[str], invocation: Invocation, deps: AlertCommandDeps) -> tuple[Message, Destination]:
    _usage(words, 0, "alerts")
    return actions.overview(deps.store, deps.rules, deps.clock(), deps.tz), invocation.private()


def silence(words: Sequence[str], invocation: Invocation, deps: AlertCommandDeps) -> tuple[Message, Destination]:
    _usage(words, 2, "silence <rule> <duration>")
    message = actions.silence_rule(deps.store, deps.rules, words[0], words[1], invocation.user_id, deps.clock(),
                                   deps.tz)
    return message, invocation.private()


def unsilence(words: Sequence[str], invocation: Invocation, deps: AlertCommandDeps) -> tuple[Message, Destination]:
    _usage(words, 1, "unsilence <rule>")
    return actions.unsilence_rule(deps.store, deps.rules, words[0], deps.clock()), invocation.private()


def register(commands: CommandDeps, deps: AlertCommandDeps) -> None:
    """Route ``/codex alerts|silence|unsilence …`` to the handlers above."""
    commands.add(
        Subcommand("alerts", "alerts", "list firing, pending and silenced alerts", partial(list_alerts, deps=deps)),
        Subcommand("silence", "silence <rule> <duration>", "hold back a rule's alerts for a while (e.g. 2h)",
                   partial(silence, deps=deps), admin_only=True),
        Subcommand("unsilence", "unsilence <rule>", "end a rule's silence", partial(unsilence, deps=deps),
                   admin_only=True),
    )


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
