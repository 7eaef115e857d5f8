"""What people do with alerts: list them, silence and unsilence rules, and the message buttons.

Plain functions over the state database; the Slack listeners in
:mod:`codex_bot.commands.alerts_commands` only parse, check access and call these.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import Block, HeaderBlock, SectionBlock

from codex_bot.alerts import messages
from codex_bot.alerts.loader import RuleSet
from codex_bot.alerts.notify import silence_key
from codex_bot.alerts.records import AlertRecords, EpisodeRecord
from codex_bot.alerts.rules import Rule, parse_duration
from codex_bot.alerts.silences import Silences
from codex_bot.dashboard import DashboardLink
from codex_bot.delivery.message import Message
from codex_bot.delivery.outbox import Outbox, Outgoing
from codex_bot.errors import UserError
from codex_bot.formatting import humanize
from codex_bot.panels.request import PanelRequest
from codex_bot.panels.service import PanelRunner
from codex_bot.slack.blocks import when
from codex_bot.slack.mrkdwn import mrkdwn, plain
from codex_bot.slack.replies import PanelReplies
from codex_bot.store import Store

MAX_SILENCE = timedelta(days=30)
MAX_LISTED = 25


class UnknownRule(UserError):
    pass


def find_rule(rules: RuleSet, name: str) -> Rule:
    rule = rules.rule(name.strip().lower())
    if rule is None:
        known = ", ".join(r.name for r in rules.rules) or "none are loaded"
        raise UnknownRule(f"There is no alert rule {name[:60]!r}. Rules: {known}.")
    return rule


def silence_length(text: str) -> timedelta:
    try:
        length = parse_duration(text)
    except ValueError:
        raise UserError(f"I don't understand the duration {text[:40]!r}; write e.g. 30m, 2h or 1d.") from None
    if not timedelta(0) < length <= MAX_SILENCE:
        raise UserError(f"A silence lasts from 1m to {MAX_SILENCE.days}d.")
    return length


def _line(state_rule: str, labels: dict[str, str], text: str) -> str:
    shown = f" {messages.labels_text(labels)}" if labels else ""
    return f"• *{state_rule}*{shown} — {text}"


def overview(store: Store, rules: RuleSet, at: datetime, tz: ZoneInfo) -> Message:
    """``/codex alerts``: what fires, what is pending, what is silenced."""
    states = sorted(AlertRecords(store).states().values(), key=lambda s: (s.rule, s.key))
    silences = Silences(store).active(at)
    sections: list[tuple[str, list[str]]] = []
    for name, wanted in (("Firing", ("firing",)), ("Pending", ("pending",))):
        lines = []
        for state in (s for s in states if s.state in wanted or (name == "Firing" and s.firing and s.state == "error")):
            rule = rules.rule(state.rule)
            unit = rule.figure.unit if rule else ""
            since = state.fired_at if state.firing else state.active_since
            detail = f"{humanize(state.value, unit)} since {when(since, tz)}" if since else humanize(state.value, unit)
            lines.append(_line(state.rule, dict(state.labels), detail))
        sections.append((name, lines))
    silenced = [
        _line(s.rule, s.matchers, f"until {when(s.ends_at, tz)} {tz.key} by <@{s.created_by}>") for s in silences
    ]
    sections.append(("Silenced", silenced))
    blocks: list[Block] = [HeaderBlock(text=plain("Codex alerts"))]
    for title, lines in sections:
        body = "\n".join(lines[:MAX_LISTED]) or "_none_"
        if len(lines) > MAX_LISTED:
            body += f"\n… and {len(lines) - MAX_LISTED} more"
        blocks.append(SectionBlock(text=mrkdwn(f"*{title}* ({len(lines)})\n{body}")))
    counts = ", ".join(f"{len(lines)} {title.lower()}" for title, lines in sections)
    return Message(f"Codex alerts: {counts}", blocks)


def silence_rule(
    store: Store, rules: RuleSet, name: str, duration: str, user: str, at: datetime, tz: ZoneInfo
) -> Message:
    """``/codex silence <rule> <duration>``."""
    rule = find_rule(rules, name)
    silence = Silences(store).add(rule.name, at, at + silence_length(duration), user)
    text = f":no_bell: *{rule.name}* is silenced until {when(silence.ends_at, tz)} {tz.key}."
    return messages.action_reply(text)


def unsilence_rule(store: Store, rules: RuleSet, name: str, at: datetime) -> Message:
    """``/codex unsilence <rule>``."""
    rule = find_rule(rules, name)
    ended = Silences(store).end(rule.name, at)
    if not ended:
        return messages.action_reply(f"*{rule.name}* was not silenced.")
    return messages.action_reply(f":bell: *{rule.name}* is no longer silenced.")


def find_episode(store: Store, episode_id: int) -> EpisodeRecord:
    episode = AlertRecords(store).episode(episode_id)
    if episode is None:
        raise UserError("That alert is no longer known.")
    return episode


def silence_episode(
    store: Store,
    outbox: Outbox,
    rules: RuleSet,
    episode_id: int,
    length: timedelta,
    user: str,
    at: datetime,
    tz: ZoneInfo,
    *,
    comment: str = "",
    dashboard: DashboardLink | None = None,
) -> str:
    """The Silence buttons and modal: silence this rule+group, edit the alert's message to show who
    silenced it until when (without Silence buttons) and say so in its thread."""
    episode = find_episode(store, episode_id)
    rule = find_rule(rules, episode.rule)
    silence = Silences(store).add(rule.name, at, at + length, user, matchers=episode.labels, comment=comment.strip())
    text = messages.silenced_text(silence, tz)
    if episode.posted_key:
        channel = _channel(rules, rule, episode, outbox)
        key = silence_key(episode.id, silence.id)
        with store.transaction() as tx:
            if episode.open:
                edited = messages.firing_message(rule, episode, tz, silence=silence, dashboard=dashboard)
                outbox.enqueue(tx, Outgoing(f"{key}:edit", channel, edited, edit_of=episode.posted_key))
            outbox.enqueue(tx, Outgoing(key, channel, messages.action_reply(text), thread_of=episode.posted_key))
    return text


def evidence(
    store: Store, outbox: Outbox, rules: RuleSet, panels: PanelRunner, replies: PanelReplies, episode_id: int
) -> str:
    """The Show evidence button: the rule's panel over the window the alert fired on (its group's
    filters), with its chart, in the alert's thread."""
    episode = find_episode(store, episode_id)
    rule = find_rule(rules, episode.rule)
    if episode.posted_key is None:
        raise UserError("That alert has no message to answer in.")
    request = PanelRequest(rule.figure.panel, rule.window, messages.alert_filters(rule, episode))
    message = replies.compose(panels.run(request, at=episode.fired_at))
    channel = _channel(rules, rule, episode, outbox)
    outbox.put(
        Outgoing(f"alert:{episode.id}:evidence:{uuid.uuid4().hex}", channel, message, thread_of=episode.posted_key)
    )
    return f"The {request.panel} panel over the {rule.window} the alert fired on is in its thread."


def acknowledge(
    store: Store,
    outbox: Outbox,
    rules: RuleSet,
    episode_id: int,
    user: str,
    at: datetime,
    tz: ZoneInfo,
    dashboard: DashboardLink | None = None,
) -> str:
    """The Acknowledge button: stops reminders, shows who is on it in the message and its thread."""
    episode = find_episode(store, episode_id)
    if episode.acknowledged_by:
        return f"Already acknowledged by <@{episode.acknowledged_by}>."
    rule = find_rule(rules, episode.rule)
    text = f":eyes: <@{user}> is on it."
    silence = Silences(store).covering(rule.name, episode.labels, at)
    with store.transaction() as tx:
        AlertRecords.mark(tx, episode.id, acknowledged_by=user, acknowledged_at=at)
        if episode.posted_key and episode.open:
            acked = find_episode(store, episode.id)
            channel = _channel(rules, rule, episode, outbox)
            edited = messages.firing_message(rule, acked, tz, silence=silence, dashboard=dashboard)
            outbox.enqueue(tx, Outgoing(f"alert:{episode.id}:ack", channel, edited, edit_of=episode.posted_key))
            outbox.enqueue(
                tx,
                Outgoing(
                    f"alert:{episode.id}:ack-reply", channel, messages.action_reply(text), thread_of=episode.posted_key
                ),
            )
    return text


def _channel(rules: RuleSet, rule: Rule, episode: EpisodeRecord, outbox: Outbox) -> str:
    """The alert's channel now; its thread replies go where its message is (the outbox follows the reference)."""
    channel = rules.routing.channel_for(rule, episode.labels)
    channel = channel or (outbox.channel_of(episode.posted_key) if episode.posted_key else None)
    if channel is None:
        raise UserError(f"Alert rule {rule.name} has no channel to post to.")
    return channel
