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
    InputBlock,
    PlainTextInputElement,
    SectionBlock,
)
from slack_sdk.models.views import View

from codex_bot.alerts.records import EpisodeRecord
from codex_bot.alerts.rules import Rule, parse_duration
from codex_bot.alerts.silences import Silence
from codex_bot.dashboard import DashboardLink
from codex_bot.delivery.message import ChartImage, Message
from codex_bot.formatting import humanize
from codex_bot.slack.blocks import when
from codex_bot.slack.mrkdwn import MAX_FIELD, MAX_HEADER, MAX_TEXT, code, escape, fit_fallback, link, mrkdwn, plain

# Button action ids (the Slack listeners in codex_bot.commands.alerts_commands match these).
SILENCE_1H = "codex_alert_silence_1h"
SILENCE_24H = "codex_alert_silence_24h"
SILENCE_CUSTOM = "codex_alert_silence_custom"  # opens the silence modal
EVIDENCE = "codex_alert_evidence"
ACKNOWLEDGE = "codex_alert_ack"
SILENCE_MODAL = "codex_alert_silence_modal"  # the modal's callback id; its private_metadata is the episode id
DURATION_BLOCK, DURATION_INPUT = "silence_duration", "duration"
COMMENT_BLOCK, COMMENT_INPUT = "silence_comment", "comment"
SEVERITY_EMOJI = {"critical": ":red_circle:", "warning": ":large_orange_circle:", "info": ":large_blue_circle:"}


def labels_text(labels: dict[str, str]) -> str:
    """``model=gpt-5`` pairs as inline code, escaped: label values come from telemetry."""
    return " ".join(f"`{code(k)}={code(v)}`" for k, v in sorted(labels.items()))


def span(delta: timedelta) -> str:
    """``1h 12m``, ``45m``, ``2d 3h``."""
    minutes = int(delta.total_seconds() // 60)
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    parts = [
        f"{days}d" if days else "",
        f"{hours}h" if hours else "",
        f"{mins}m" if mins or not (days or hours) else "",
    ]
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


def alert_window(rule: Rule, episode: EpisodeRecord) -> tuple[datetime, datetime]:
    """The window the alert fired on: the rule's window ending when it fired."""
    return episode.fired_at - parse_duration(rule.window), episode.fired_at


def alert_filters(rule: Rule, episode: EpisodeRecord) -> dict[str, str]:
    """The rule's filters and the alert's group labels: what its panel is asked with."""
    return {**rule.filters, **episode.labels}


def _context(rule: Rule, tz: ZoneInfo, extra: str = "", link: str = "") -> ContextBlock:
    parts = [f"rule `{rule.name}`", f"`{rule.figure}` over {rule.window}", f"severity {rule.severity}"]
    parts += [labels_text(rule.filters)] if rule.filters else []
    parts += [escape(extra)] if extra else []
    parts += [link] if link else []
    return ContextBlock(elements=[mrkdwn(" · ".join(parts))])


def _fields(*fields: tuple[str, str]) -> SectionBlock:
    """Labelled fields, each *label* over its value."""
    return SectionBlock(fields=[mrkdwn(f"*{label}*\n{value}", MAX_FIELD) for label, value in fields])


def _fired_and_ended(episode: EpisodeRecord, tz: ZoneInfo, ended: str) -> tuple[tuple[str, str], tuple[str, str]]:
    """The *Fired* field and the field of how it ended (*Resolved*, *Closed*), with how long it fired."""
    assert episode.resolved_at is not None
    return (
        ("Fired", f"{when(episode.fired_at, tz)} {tz.key}"),
        (ended, f"{when(episode.resolved_at, tz)} ({span(episode.resolved_at - episode.fired_at)})"),
    )


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
        cut["description"] = (
            f"the description is {about} characters in Slack (with its runbook link, `&<>` "
            f'written as entities); alerts show only the first {MAX_TEXT}, cut with "…"'
        )
    if len(title := f"RESOLVED · {rule.name}") > MAX_HEADER:
        cut["name"] = f'the alert title {title!r} is over Slack\'s {MAX_HEADER} characters; it will be cut with "…"'
    return cut


def _buttons(episode: EpisodeRecord, acknowledged: bool, silenced: bool) -> ActionsBlock:
    value = str(episode.id)
    elements = [ButtonElement(text="Show evidence", action_id=EVIDENCE, value=value)]
    if not silenced:
        elements += [
            ButtonElement(text="Silence 1h", action_id=SILENCE_1H, value=value),
            ButtonElement(text="Silence 24h", action_id=SILENCE_24H, value=value),
            ButtonElement(text="Silence…", action_id=SILENCE_CUSTOM, value=value),
        ]
    if not acknowledged:
        elements.append(ButtonElement(text="Acknowledge", action_id=ACKNOWLEDGE, value=value, style="primary"))
    return ActionsBlock(elements=elements)


def silenced_text(silence: Silence, tz: ZoneInfo) -> str:
    """``:no_bell: Silenced by <@U1> until 2025-03-01 14:00 UTC: deploying a fix``."""
    text = f":no_bell: Silenced by <@{silence.created_by}> until {when(silence.ends_at, tz)} {tz.key}"
    return text + (f": {escape(silence.comment)}" if silence.comment else ".")


def firing_message(
    rule: Rule,
    episode: EpisodeRecord,
    tz: ZoneInfo,
    chart: ChartImage | None = None,
    chart_note: str = "",
    *,
    silence: Silence | None = None,
    dashboard: DashboardLink | None = None,
) -> Message:
    """The firing message; also its edited form after an acknowledgement or a silence (who, until when,
    and no Silence buttons)."""
    emoji = SEVERITY_EMOJI.get(rule.severity, ":red_circle:")
    blocks: list[Block] = [_header(_title(episode, "FIRING")), _facts(rule, episode, tz), *_about(rule, episode)]
    if episode.acknowledged_by:
        ack = f":eyes: Acknowledged by <@{episode.acknowledged_by}>"
        if episode.acknowledged_at:
            ack += f" at {when(episode.acknowledged_at, tz)}"
        blocks.append(SectionBlock(text=mrkdwn(ack)))
    if silence is not None:
        blocks.append(SectionBlock(text=mrkdwn(silenced_text(silence, tz))))
    blocks.append(_buttons(episode, acknowledged=bool(episode.acknowledged_by), silenced=silence is not None))
    link = dashboard.mrkdwn(*alert_window(rule, episode), alert_filters(rule, episode)) if dashboard else ""
    blocks.append(_context(rule, tz, chart_note, link))
    value = humanize(episode.value, rule.figure.unit)
    text = f"{emoji} FIRING {rule.name}: {value} ({threshold_text(rule, episode.threshold)})"
    return Message(fit_fallback(text), blocks, [chart] if chart else [])


def resolved_message(rule: Rule, episode: EpisodeRecord, tz: ZoneInfo) -> Message:
    """The original message, edited to show the resolution (no buttons)."""
    assert episode.resolved_at is not None
    facts = _fields(
        ("Value at resolution", humanize(episode.resolved_value, rule.figure.unit)),
        ("Threshold", threshold_text(rule, episode.threshold)),
        *_fired_and_ended(episode, tz, "Resolved"),
    )
    blocks: list[Block] = [
        _header(_title(episode, "RESOLVED")),
        facts,
        *_about(rule, episode),
        _context(rule, tz, f"resolved: {episode.resolve_reason or 'recovered'}"),
    ]
    return Message(
        f":white_check_mark: RESOLVED {rule.name} after {span(episode.resolved_at - episode.fired_at)}", blocks
    )


def silence_modal(rule: Rule, episode: EpisodeRecord) -> View:
    """The modal of the Silence… button: a duration and a comment; submitting silences this alert's group."""
    what = f"*{rule.name}*" + (f" {labels_text(episode.labels)}" if episode.labels else "")
    return View(
        type="modal",
        callback_id=SILENCE_MODAL,
        private_metadata=str(episode.id),
        title="Silence alert",
        submit="Silence",
        close="Cancel",
        blocks=[
            SectionBlock(text=mrkdwn(f"Hold back the messages of {what}")),
            InputBlock(
                block_id=DURATION_BLOCK,
                label="For how long (1m to 30d)",
                element=PlainTextInputElement(
                    action_id=DURATION_INPUT, initial_value="2h", placeholder="e.g. 30m, 2h, 3d"
                ),
            ),
            InputBlock(
                block_id=COMMENT_BLOCK,
                label="Comment",
                optional=True,
                element=PlainTextInputElement(
                    action_id=COMMENT_INPUT, multiline=True, max_length=500, placeholder="why, e.g. deploying a fix"
                ),
            ),
        ],
    )


def resolved_reply(rule: Rule, episode: EpisodeRecord) -> Message:
    assert episode.resolved_at is not None
    value = humanize(episode.resolved_value, rule.figure.unit)
    reason = escape(episode.resolve_reason or "recovered")
    return _plain(
        f":white_check_mark: Resolved after {span(episode.resolved_at - episode.fired_at)}: "
        f"{rule.figure.key} is {value} ({reason})."
    )


def retired_message(episode: EpisodeRecord, tz: ZoneInfo) -> Message:
    """The original message of an alert whose rule was removed, edited to show it is closed (no buttons)."""
    facts = _fields(
        ("Value when it fired", humanize(episode.value, episode.unit)),
        ("Threshold", humanize(episode.threshold, episode.unit)),
        *_fired_and_ended(episode, tz, "Closed"),
    )
    context = f"rule `{episode.rule}` is no longer in the rule files, so this alert is no longer evaluated"
    blocks: list[Block] = [_header(_title(episode, "CLOSED")), facts, ContextBlock(elements=[mrkdwn(context)])]
    return Message(f":heavy_minus_sign: CLOSED {episode.rule}: its rule was removed", blocks)


def retired_reply(episode: EpisodeRecord) -> Message:
    return _plain(
        f":heavy_minus_sign: Closed: the rule `{episode.rule}` was removed from the rule files, so this "
        "alert is no longer evaluated. It was not seen to recover."
    )


def reminder_message(rule: Rule, episode: EpisodeRecord, value: float | None, at: datetime) -> Message:
    text = (
        f":repeat: Still firing after {span(at - episode.fired_at)}: {rule.figure.key} is "
        f"{humanize(value, rule.figure.unit)} ({threshold_text(rule, episode.threshold)})."
    )
    return _plain(text)


def action_reply(text: str) -> Message:
    """A short note in the alert's thread (silenced by …, acknowledged by …)."""
    return _plain(text)


def failing_notice(reason: str, since: datetime, tz: ZoneInfo) -> Message:
    text = (
        f":warning: Alert evaluation is failing since {when(since, tz)} {tz.key}: {escape(reason)} "
        "Alerts keep their current state (nothing fires or resolves) until it works again."
    )
    return _plain(text)


def recovered_notice(since: datetime, at: datetime) -> Message:
    text = f":white_check_mark: Alert evaluation works again (it failed for {span(at - since)})."
    return _plain(text)
