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
    SectionBlock,
)

from codex_bot.alerts.records import EpisodeRecord
from codex_bot.alerts.rules import Rule
from codex_bot.formatting import humanize
from codex_bot.slack.blocks import when
from codex_bot.slack.message import ChartImage, Message
from codex_bot.slack.mrkdwn import MAX_FIELD, MAX_HEADER, MAX_TEXT, code, escape, fit_fallback, link, mrkdwn, plain

# Button action ids (the Slack listeners in codex_bot.commands.alerts_commands match these).
SILENCE_1H = "codex_alert_silence_1h"
SILENCE_24H = "codex_alert_silence_24h"
ACKNOWLEDGE = "codex_alert_ack"
SEVERITY_EMOJI = {"critical": ":red_circle:", "warning": ":large_orange_circle:", "info": ":large_blue_circle:"}


def labels_text(labels: dict[str, str]) -> str:
    """``model=gpt-5`` pairs as inline code, escaped: label values come from telemetry."""
    return " ".join(f"`{code(k)}={code(v)}`" for k, v in sorted(labels.items()))


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
    """Plain text (a header shows it as typed, so label values need no escaping there)."""
    labels = " ".join(f"{k}={v}" for k, v in sorted(episode.labels.items()))
    return f"{state} · {episode.rule}" + (f" · {labels}" if labels else "")


def _header(text: str) -> HeaderBlock:
    return HeaderBlock(text=plain(text, MAX_HEADER))


def _context(rule: Rule, tz: ZoneInfo, extra: str = "") -> ContextBlock:
    parts = [f"rule `{rule.name}`", f"`{rule.figure}` over {rule.window}", f"severity {rule.severity}"]
    parts += [labels_text(rule.filters)] if rule.filters else []
    parts += [escape(extra)] if extra else []
    return ContextBlock(elements=[mrkdwn(" · ".join(parts))])


def _fields(*fields: tuple[str, str]) -> SectionBlock:
    """Labelled fields, each *label* over its value."""
    return SectionBlock(fields=[mrkdwn(f"*{label}*\n{value}", MAX_FIELD) for label, value in fields])


def _fired_and_ended(episode: EpisodeRecord, tz: ZoneInfo, ended: str) -> tuple[tuple[str, str], tuple[str, str]]:
    """The *Fired* field and the field of how it ended (*Resolved*, *Closed*), with how long it fired."""
    assert episode.resolved_at is not None
    return (("Fired", f"{when(episode.fired_at, tz)} {tz.key}"),
            (ended, f"{when(episode.resolved_at, tz)} ({span(episode.resolved_at - episode.fired_at)})"))


def _plain(text: str) -> Message:
    """A message of one mrkdwn text section (thread replies and notices); untrusted parts escaped by the caller."""
    return Message(fit_fallback(text), [SectionBlock(text=mrkdwn(text))])


def _facts(rule: Rule, episode: EpisodeRecord, tz: ZoneInfo) -> SectionBlock:
    return _fields(
        ("Value", humanize(episode.value, rule.figure.unit)),
        ("Threshold", threshold_text(rule, episode.threshold)),
        ("Since", f"{when(episode.started_at, tz)} {tz.key}"),
        ("Firing for", f"{span(episode.fired_at - episode.started_at)} pending, then fired"),
    )


def _about(rule: Rule, episode: EpisodeRecord) -> list[Block]:
    """The rule's description (shown as written: its ``<…>`` make no mentions or links), labels and runbook;
    a description too long for Slack is cut with "…" (``codex-bot rules check`` warns about it)."""
    lines = _about_lines(rule, episode.labels)
    return [SectionBlock(text=mrkdwn("\n".join(lines)))] if lines else []


def _about_lines(rule: Rule, labels: dict[str, str]) -> list[str]:
    lines = [escape(rule.description)] if rule.description else []
    if labels:
        lines.append(labels_text(labels))
    if rule.runbook:
        lines.append(f":book: {link(rule.runbook, 'Runbook')}")
    return lines


def cut_texts(rule: Rule) -> dict[str, str]:
    """The rule's texts that its alert messages will cut to fit Slack ("…"), each with why: for ``rules check``."""
    cut = {}
    about = len("\n".join(_about_lines(rule, {})))
    if about > MAX_TEXT:
        cut["description"] = (f"the description is {about} characters in Slack (with its runbook link, `&<>` "
                              f"written as entities); alerts show only the first {MAX_TEXT}, cut with \"…\"")
    if len(title := f"RESOLVED · {rule.name}") > MAX_HEADER:
        cut["name"] = f"the alert title {title!r} is over Slack's {MAX_HEADER} characters; it will be cut with \"…\""
    return cut


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
        blocks.append(SectionBlock(text=mrkdwn(ack)))
    blocks.append(_buttons(episode, acknowledged=bool(episode.acknowledged_by)))
    blocks.append(_context(rule, tz, chart_note))
    value = humanize(episode.value, rule.figure.unit)
    text = f"{emoji} FIRING {rule.name}: {value} ({threshold_text(rule, episode.threshold)})"
    return Message(fit_fallback(text), blocks, [chart] if chart else [])


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
    reason = escape(episode.resolve_reason or "recovered")
    return _plain(f":white_check_mark: Resolved after {span(episode.resolved_at - episode.fired_at)}: "
                  f"{rule.figure.key} is {value} ({reason}).")


def retired_message(episode: EpisodeRecord, tz: ZoneInfo) -> Message:
    """The original message of an alert whose rule was removed, edited to show it is closed (no buttons)."""
    facts = _fields(("Value when it fired", humanize(episode.value, episode.unit)),
                    ("Threshold", humanize(episode.threshold, episode.unit)),
                    *_fired_and_ended(episode, tz, "Closed"))
    context = f"rule `{episode.rule}` is no longer in the rule files, so this alert is no longer evaluated"
    blocks: list[Block] = [_header(_title(episode, "CLOSED")), facts,
                           ContextBlock(elements=[mrkdwn(context)])]
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
    text = (f":warning: Alert evaluation is failing since {when(since, tz)} {tz.key}: {escape(reason)} "
            "Alerts keep their current state (nothing fires or resolves) until it works again.")
    return _plain(text)


def recovered_notice(since: datetime, at: datetime) -> Message:
    text = f":white_check_mark: Alert evaluation works again (it failed for {span(at - since)})."
    return _plain(text)
