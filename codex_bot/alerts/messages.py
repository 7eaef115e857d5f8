"""Alert messages as Block Kit (rendered here, delivered through the outbox elsewhere)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from codex_bot.alerts.records import EpisodeRecord
from codex_bot.alerts.rules import Rule
from codex_bot.delivery.message import ChartImage, Message
from codex_bot.formatting import humanize
from codex_bot.slack.blocks import MAX_HEADER, when

# Button action ids (the Slack listeners in codex_bot.commands.alerts_commands match these).
SILENCE_1H = "codex_alert_silence_1h"
SILENCE_24H = "codex_alert_silence_24h"
ACKNOWLEDGE = "codex_alert_ack"
SEVERITY_EMOJI = {"critical": ":red_circle:", "warning": ":large_orange_circle:", "info": ":large_blue_circle:"}


def labels_text(labels: dict[str, str]) -> str:
    return " ".join(f"`{k}={v}`" for k, v in sorted(labels.items()))


def span(delta: timedelta) -> str:
    """``1h 12m``, ``45m``, ``2d 3h``."""
    minutes = int(delta.total_seconds() // 60)
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    parts = [f"{days}d" if days else "", f"{hours}h" if hours else "", f"{mins}m" if mins or not (days or hours) else ""]
    return " ".join(p for p in parts if p)


def threshold_text(rule: Rule, threshold: float | None) -> str:
    """``below 90 %`` or ``above 12.3M (3x the 7d median)``."""
    unit = rule.figure.unit
    shown = humanize(threshold, unit)
    if rule.condition.relative:
        return f"{rule.condition.op} {shown} ({rule.condition.text})"
    return f"{rule.condition.op} {shown}"


def _title(episode: EpisodeRecord, state: str) -> str:
    labels = " ".join(f"{k}={v}" for k, v in sorted(episode.labels.items()))
    return f"{state} · {episode.rule}" + (f" · {labels}" if labels else "")


def _header(text: str) -> HeaderBlock:
    return HeaderBlock(text=PlainTextObject(text=text[:MAX_HEADER], emoji=True))


def _context(rule: Rule, tz: ZoneInfo, extra: str = "") -> ContextBlock:
    parts = [f"rule `{rule.name}`", f"`{rule.figure}` over {rule.window}", f"severity {rule.severity}"]
    parts += [labels_text(rule.filters)] if rule.filters else []
    parts += [extra] if extra else []
    return ContextBlock(elements=[MarkdownTextObject(text=" · ".join(parts))])


def _fields(*fields: tuple[str, str]) -> SectionBlock:
    """Labelled fields, each *label* over its value."""
    return SectionBlock(fields=[MarkdownTextObject(text=f"*{label}*\n{value}") for label, value in fields])


def _fired_and_ended(episode: EpisodeRecord, tz: ZoneInfo, ended: str) -> tuple[tuple[str, str], tuple[str, str]]:
    """The *Fired* field and the field of how it ended (*Resolved*, *Closed*), with how long it fired."""
    assert episode.resolved_at is not None
    return (("Fired", f"{when(episode.fired_at, tz)} {tz.key}"),
            (ended, f"{when(episode.resolved_at, tz)} ({span(episode.resolved_at - episode.fired_at)})"))


def _plain(text: str) -> Message:
    """A message of one text section (thread replies and notices)."""
    return Message(text, [SectionBlock(text=MarkdownTextObject(text=text))])


def _facts(rule: Rule, episode: EpisodeRecord, tz: ZoneInfo) -> SectionBlock:
    return _fields(
        ("Value", humanize(episode.value, rule.figure.unit)),
        ("Threshold", threshold_text(rule, episode.threshold)),
        ("Since", f"{when(episode.started_at, tz)} {tz.key}"),
        ("Firing for", f"{span(episode.fired_at - episode.started_at)} pending, then fired"),
    )


def _about(rule: Rule, episode: EpisodeRecord) -> list[Block]:
    lines = [rule.description] if rule.description else []
    if episode.labels:
        lines.append(labels_text(episode.labels))
    if rule.runbook:
        lines.append(f":book: <{rule.runbook}|Runbook>")
    return [SectionBlock(text=MarkdownTextObject(text="\n".join(lines)))] if lines else []


def _buttons(episode: EpisodeRecord, acknowledged: bool) -> ActionsBlock:
    value = str(episode.id)
    elements = [
        ButtonElement(text="Silence 1h", action_id=SILENCE_1H, value=value),
        ButtonElement(text="Silence 24h", action_id=SILENCE_24H, value=value),
    ]
    if not acknowledged:
        elements.append(ButtonElement(text="Acknowledge", action_id=ACKNOWLEDGE, value=value, style="primary"))
    return ActionsBlock(elements=elements)


def firing_message(rule: Rule, episode: EpisodeRecord, tz: ZoneInfo, chart: ChartImage | None = None,
                   chart_note: str = "") -> Message:
    """The firing message; also its edited form after an acknowledgement."""
    emoji = SEVERITY_EMOJI.get(rule.severity, ":red_circle:")
    blocks: list[Block] = [_header(_title(episode, "FIRING")), _facts(rule, episode, tz), *_about(rule, episode)]
    if episode.acknowledged_by:
        ack = f":eyes: Acknowledged by <@{episode.acknowledged_by}>"
        if episode.acknowledged_at:
            ack += f" at {when(episode.acknowledged_at, tz)}"
        blocks.append(SectionBlock(text=MarkdownTextObject(text=ack)))
    blocks.append(_buttons(episode, acknowledged=bool(episode.acknowledged_by)))
    blocks.append(_context(rule, tz, chart_note))
    value = humanize(episode.value, rule.figure.unit)
    text = f"{emoji} FIRING {rule.name}: {value} ({threshold_text(rule, episode.threshold)})"
    return Message(text, blocks, [chart] if chart else [])


def resolved_message(rule: Rule, episode: EpisodeRecord, tz: ZoneInfo) -> Message:
    """The original message, edited to show the resolution (no buttons)."""
    assert episode.resolved_at is not None
    facts = _fields(("Value at resolution", humanize(episode.resolved_value, rule.figure.unit)),
                    ("Threshold", threshold_text(rule, episode.threshold)),
                    *_fired_and_ended(episode, tz, "Resolved"))
    blocks: list[Block] = [_header(_title(episode, "RESOLVED")), facts,
                           *_about(rule, episode), _context(rule, tz, f"resolved: {episode.resolve_reason or 'recovered'}")]
    return Message(f":white_check_mark: RESOLVED {rule.name} after {span(episode.resolved_at - episode.fired_at)}", blocks)


def resolved_reply(rule: Rule, episode: EpisodeRecord) -> Message:
    assert episode.resolved_at is not None
    value = humanize(episode.resolved_value, rule.figure.unit)
    reason = episode.resolve_reason or "recovered"
    return _plain(f":white_check_mark: Resolved after {span(episode.resolved_at - episode.fired_at)}: "
                  f"{rule.figure.key} is {value} ({reason}).")


def retired_message(episode: EpisodeRecord, tz: ZoneInfo) -> Message:
    """The original message of an alert whose rule was removed, edited to show it is closed (no buttons)."""
    facts = _fields(("Value when it fired", humanize(episode.value, episode.unit)),
                    ("Threshold", humanize(episode.threshold, episode.unit)),
                    *_fired_and_ended(episode, tz, "Closed"))
    context = f"rule `{episode.rule}` is no longer in the rule files, so this alert is no longer evaluated"
    blocks: list[Block] = [_header(_title(episode, "CLOSED")), facts,
                           ContextBlock(elements=[MarkdownTextObject(text=context)])]
    return Message(f":heavy_minus_sign: CLOSED {episode.rule}: its rule was removed", blocks)


def retired_reply(episode: EpisodeRecord) -> Message:
    return _plain(f":heavy_minus_sign: Closed: the rule `{episode.rule}` was removed from the rule files, so this "
                  "alert is no longer evaluated. It was not seen to recover.")


def reminder_message(rule: Rule, episode: EpisodeRecord, value: float | None, at: datetime) -> Message:
    text = (f":repeat: Still firing after {span(at - episode.fired_at)}: {rule.figure.key} is "
            f"{humanize(value, rule.figure.unit)} ({threshold_text(rule, episode.threshold)}).")
    return _plain(text)


def action_reply(text: str) -> Message:
    """A short note in the alert's thread (silenced by …, acknowledged by …)."""
    return _plain(text)


def failing_notice(reason: str, since: datetime, tz: ZoneInfo) -> Message:
    text = (f":warning: Alert evaluation is failing since {when(since, tz)} {tz.key}: {reason} "
            "Alerts keep their current state (nothing fires or resolves) until it works again.")
    return _plain(text)


def recovered_notice(since: datetime, at: datetime) -> Message:
    text = f":white_check_mark: Alert evaluation works again (it failed for {span(at - since)})."
    return _plain(text)
