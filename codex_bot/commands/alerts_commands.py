"""``/codex alerts``, ``/codex silence <rule> <duration>``, ``/codex unsilence <rule>`` and the alert buttons.

Thin handlers: parse, call :mod:`codex_bot.alerts.actions`, reply.  :func:`register` adds the
three words to the /codex router as subcommands (silence and unsilence for admins only);
:func:`button` runs the alert messages' buttons (Silence 1h / Silence 24h / Silence… with its modal,
:func:`submit_silence`, for admins; Acknowledge and Show evidence for anyone), whose listeners live in
:mod:`codex_bot.slack.listeners.actions`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk import WebClient

from codex_bot.access import AccessPolicy
from codex_bot.alerts import actions
from codex_bot.alerts.loader import RuleSet
from codex_bot.alerts.messages import (
    ACKNOWLEDGE,
    COMMENT_BLOCK,
    COMMENT_INPUT,
    DURATION_BLOCK,
    DURATION_INPUT,
    EVIDENCE,
    SILENCE_1H,
    SILENCE_24H,
    SILENCE_CUSTOM,
    silence_modal,
)
from codex_bot.clock import Clock, utc_now
from codex_bot.commands.deps import CommandDeps
from codex_bot.commands.invocation import Invocation
from codex_bot.commands.subcommand import Subcommand
from codex_bot.dashboard import DashboardLink
from codex_bot.delivery.message import Destination, Message
from codex_bot.delivery.outbox import Outbox, Transport
from codex_bot.errors import UserError
from codex_bot.panels.service import PanelRunner
from codex_bot.slack.replies import PanelReplies
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
    panels: PanelRunner | None = None  # answers Show evidence (with ``replies``)
    replies: PanelReplies | None = None
    dashboard: DashboardLink | None = None


def _usage(words: Sequence[str], count: int, usage: str) -> None:
    if len(words) != count:
        raise UserError(f"Use `{usage}`, e.g. `silence token-spike 2h` or `unsilence token-spike`.")


def list_alerts(words: Sequence[str], invocation: Invocation, deps: AlertCommandDeps) -> tuple[Message, Destination]:
    _usage(words, 0, "alerts")
    return actions.overview(deps.store, deps.rules, deps.clock(), deps.tz), invocation.private()


def silence(words: Sequence[str], invocation: Invocation, deps: AlertCommandDeps) -> tuple[Message, Destination]:
    _usage(words, 2, "silence <rule> <duration>")
    message = actions.silence_rule(
        deps.store, deps.rules, words[0], words[1], invocation.user_id, deps.clock(), deps.tz
    )
    return message, invocation.private()


def unsilence(words: Sequence[str], invocation: Invocation, deps: AlertCommandDeps) -> tuple[Message, Destination]:
    _usage(words, 1, "unsilence <rule>")
    return actions.unsilence_rule(deps.store, deps.rules, words[0], deps.clock()), invocation.private()


def register(commands: CommandDeps, deps: AlertCommandDeps) -> None:
    """Route ``/codex alerts|silence|unsilence …`` to the handlers above."""
    commands.add(
        Subcommand("alerts", "alerts", "list firing, pending and silenced alerts", partial(list_alerts, deps=deps)),
        Subcommand(
            "silence",
            "silence <rule> <duration>",
            "hold back a rule's alerts for a while (e.g. 2h)",
            partial(silence, deps=deps),
            admin_only=True,
        ),
        Subcommand(
            "unsilence", "unsilence <rule>", "end a rule's silence", partial(unsilence, deps=deps), admin_only=True
        ),
    )


def button(action_id: str, body: dict[str, Any], deps: AlertCommandDeps, client: WebClient | None = None) -> str:
    """Run one alert button for the user who clicked; the answer is shown only to them (empty: none)."""
    user = body["user"]["id"]
    episode_id = int(body["actions"][0]["value"])
    now = deps.clock()
    if action_id == ACKNOWLEDGE:
        text = actions.acknowledge(deps.store, deps.outbox, deps.rules, episode_id, user, now, deps.tz, deps.dashboard)
    elif action_id == EVIDENCE:
        if deps.panels is None or deps.replies is None:
            raise UserError("Evidence is not available in this bot.")
        text = actions.evidence(deps.store, deps.outbox, deps.rules, deps.panels, deps.replies, episode_id)
    elif action_id == SILENCE_CUSTOM:
        deps.access.require_admin(user, "silence alerts")
        return open_silence_modal(episode_id, body["trigger_id"], deps, client)
    else:
        deps.access.require_admin(user, "silence alerts")
        text = actions.silence_episode(
            deps.store,
            deps.outbox,
            deps.rules,
            episode_id,
            BUTTON_SILENCES[action_id],
            user,
            now,
            deps.tz,
            dashboard=deps.dashboard,
        )
    deps.outbox.flush(deps.transport)
    return text


def open_silence_modal(episode_id: int, trigger_id: str, deps: AlertCommandDeps, client: WebClient | None) -> str:
    """views.open the Silence… modal for the episode (the trigger id is good for 3 s, so at once)."""
    episode = actions.find_episode(deps.store, episode_id)
    rule = actions.find_rule(deps.rules, episode.rule)
    assert client is not None, "the Silence… button needs the Slack client"
    client.views_open(trigger_id=trigger_id, view=silence_modal(rule, episode))
    return ""


def modal_errors(view: dict[str, Any]) -> dict[str, str]:
    """Slack's ``errors`` response for a bad duration (shown under its field), or {} when it is good."""
    try:
        actions.silence_length(_modal_value(view, DURATION_BLOCK, DURATION_INPUT))
    except UserError as exc:
        return {DURATION_BLOCK: str(exc)}
    return {}


def _modal_value(view: dict[str, Any], block: str, action: str) -> str:
    return str(view["state"]["values"].get(block, {}).get(action, {}).get("value") or "")


def submit_silence(body: dict[str, Any], deps: AlertCommandDeps) -> str:
    """The submitted Silence… modal: silence for the given duration with the comment."""
    user, view = body["user"]["id"], body["view"]
    deps.access.require_admin(user, "silence alerts")
    length = actions.silence_length(_modal_value(view, DURATION_BLOCK, DURATION_INPUT))
    comment = _modal_value(view, COMMENT_BLOCK, COMMENT_INPUT)
    text = actions.silence_episode(
        deps.store,
        deps.outbox,
        deps.rules,
        int(view["private_metadata"]),
        length,
        user,
        deps.clock(),
        deps.tz,
        comment=comment,
        dashboard=deps.dashboard,
    )
    deps.outbox.flush(deps.transport)
    return text
