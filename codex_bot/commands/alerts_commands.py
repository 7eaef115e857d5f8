"""``/codex alerts``, ``/codex silence <rule> <duration>``, ``/codex unsilence <rule>`` and the alert buttons.

Thin handlers: parse, call :mod:`codex_bot.alerts.actions`, reply.  :func:`register` adds the
three words to the /codex router as subcommands (silence and unsilence for admins only);
:func:`register_buttons` adds the listeners of the alert messages' buttons (Silence 1h /
Silence 24h / Silence… with its modal for admins; Acknowledge and Show evidence for anyone).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from codex_bot.alerts import actions
from codex_bot.alerts.loader import RuleSet, load_rules
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
    SILENCE_MODAL,
    silence_modal,
)
from codex_bot.clock import Clock, utc_now
from codex_bot.commands.access import AccessPolicy
from codex_bot.commands.deps import CommandDeps
from codex_bot.commands.invocation import Invocation
from codex_bot.commands.subcommand import Subcommand
from codex_bot.dashboard import DashboardLink, dashboard_link
from codex_bot.errors import UserError
from codex_bot.outbox import Outbox, Transport
from codex_bot.panels.service import PanelRunner
from codex_bot.settings import Settings
from codex_bot.slack.message import Destination, Message
from codex_bot.slack.replies import PanelReplies
from codex_bot.slack.slack_errors import DELIVERY_FAILURES
from codex_bot.store import Store

log = logging.getLogger(__name__)

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

    @classmethod
    def from_settings(cls, settings: Settings, store: Store, transport: Transport, panels: PanelRunner | None = None,
                      replies: PanelReplies | None = None) -> AlertCommandDeps:
        rules = load_rules(settings.rules_dir, exclude=settings.not_rules)
        return cls(store, rules, Outbox.from_settings(store, settings), transport, AccessPolicy.from_settings(settings), settings.tz,
                   panels=panels, replies=replies, dashboard=dashboard_link(settings.dashboard_url_template))


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


def button(action_id: str, body: dict[str, Any], deps: AlertCommandDeps, client: WebClient | None = None) -> str:
    """Run one alert button for the user who clicked; the answer is shown only to them (empty: none)."""
    user = body["user"]["id"]
    episode_id = int(body["actions"][0]["value"])
    now = deps.clock()
    if action_id == ACKNOWLEDGE:
        text = actions.acknowledge(deps.store, deps.outbox, deps.rules, episode_id, user, now, deps.tz,
                                   deps.dashboard)
    elif action_id == EVIDENCE:
        if deps.panels is None or deps.replies is None:
            raise UserError("Evidence is not available in this bot.")
        text = actions.evidence(deps.store, deps.outbox, deps.rules, deps.panels, deps.replies, episode_id)
    elif action_id == SILENCE_CUSTOM:
        deps.access.require_admin(user, "silence alerts")
        return open_silence_modal(episode_id, body["trigger_id"], deps, client)
    else:
        deps.access.require_admin(user, "silence alerts")
        text = actions.silence_episode(deps.store, deps.outbox, deps.rules, episode_id, BUTTON_SILENCES[action_id],
                                       user, now, deps.tz, dashboard=deps.dashboard)
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
    text = actions.silence_episode(deps.store, deps.outbox, deps.rules, int(view["private_metadata"]), length,
                                   user, deps.clock(), deps.tz, comment=comment, dashboard=deps.dashboard)
    deps.outbox.flush(deps.transport)
    return text


def register_buttons(app: App, deps: AlertCommandDeps) -> None:
    """The alert message buttons and the silence modal: ack at once, act in Bolt's lazy-listener thread."""

    def acknowledge_click(ack: Ack) -> None:
        ack()

    for action_id in (SILENCE_1H, SILENCE_24H, SILENCE_CUSTOM, EVIDENCE, ACKNOWLEDGE):
        app.action(action_id)(ack=acknowledge_click, lazy=[_listener(action_id, deps)])

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
        try:
            text = submit_silence(body, deps)
        except UserError as exc:
            text = str(exc)
        except Exception:  # a bug: logged with its trace; the user gets a short note in a DM
            log.exception("silence modal failed")
            text = "Something went wrong on my side; it has been logged."
        try:
            client.chat_postMessage(channel=user, text=text)  # a modal has no conversation: tell the user directly
        except DELIVERY_FAILURES as exc:
            log.warning("could not tell %s about their silence: %s", user, exc)

    app.view(SILENCE_MODAL)(ack=check_modal, lazy=[silence_from_modal])


def _listener(action_id: str, deps: AlertCommandDeps) -> Callable[..., None]:
    """The lazy listener of one button (Bolt passes arguments by name, so the id is bound here)."""

    def act(body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        try:
            text = button(action_id, body, deps, client)
            if not text:
                return
        except UserError as exc:
            text = str(exc)
        except Exception:  # a bug: logged with its trace; the clicker gets a short note
            log.exception("alert button %s failed", action_id)
            text = "Something went wrong on my side; it has been logged."
        respond(text=text, response_type="ephemeral", replace_original=False)

    return act
