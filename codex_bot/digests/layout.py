"""A digest as Slack messages, within Slack's limits: the main post, and its thread for details.

The main post reads: header (title · period); the exact window and what it is compared with; the
headline figures with their change; top users, models and tools; the decision mix; the alerts that
fired (the first few; all of them in the thread when there are more); notes; the chart images.
Limits kept: 50 blocks per message, 3000 characters per section text, 10 fields per section,
150 characters per header.  Whatever does not fit in the main post continues in its thread, split
into as many replies as needed, never cutting a line in two.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from codex_bot.alerts.records import EpisodeRecord
from codex_bot.dashboard import DashboardLink
from codex_bot.delivery.message import Message
from codex_bot.digests.compose import Digest, Headline
from codex_bot.formatting import MISSING, compact, humanize
from codex_bot.slack.blocks import table_text, text_sections, when
from codex_bot.slack.mrkdwn import (
    MAX_BLOCKS,
    MAX_FALLBACK,
    MAX_FIELD,
    MAX_FIELDS,
    MAX_HEADER,
    MAX_TEXT,
    code,
    code_block,
    escape,
    fit,
    fit_fallback,
    mrkdwn,
    plain,
)

MAIN_ALERTS = 5  # alerts listed in the main post; all of them go to the thread when there are more
TOP_TITLES = {"users": "Top users", "models": "Top models", "tools": "Top tools"}
SEVERITY_ICONS = {"critical": ":red_circle:", "warning": ":large_orange_circle:", "info": ":large_blue_circle:"}


@dataclass
class DigestMessages:
    """A digest as Slack messages: the main post, and replies for its thread (details when long)."""

    main: Message
    thread: list[Message] = field(default_factory=list)

    def all(self) -> list[Message]:
        return [self.main, *self.thread]


def period_label(start: datetime, end: datetime, tz: ZoneInfo) -> str:
    """``Mon 23 Nov 09:00 → Tue 24 Nov 09:00``; whole days as ``Mon 16 Nov → Mon 23 Nov``."""
    a, b = start.astimezone(tz), end.astimezone(tz)
    form = "%a %d %b" if (a.hour, a.minute, b.hour, b.minute) == (0, 0, 0, 0) else "%a %d %b %H:%M"
    return f"{a.strftime(form)} → {b.strftime(form)}"


def headline_field(item: Headline) -> MarkdownTextObject:
    """``*Input tokens*`` / ``12.3M`` / ``_+4.5 % (+530k)_``."""
    lines = [f"*{item.label}*", humanize(item.value, item.unit)]
    if item.change != MISSING:
        lines.append(f"_{item.change}_")
    return mrkdwn("\n".join(lines), MAX_FIELD)


def headline_sections(items: Sequence[Headline]) -> list[SectionBlock]:
    fields = [headline_field(item) for item in items]
    return [SectionBlock(fields=fields[i : i + MAX_FIELDS]) for i in range(0, len(fields), MAX_FIELDS)]


def top_section(digest: Digest, panel: str) -> SectionBlock | None:
    """A top-N table with its title, shortened until it fits one section."""
    result = digest.results.get(panel)
    if result is None or not result.rows:
        return None
    limit = getattr(digest.definition.top, panel, len(result.rows))
    title = f"*{escape(TOP_TITLES.get(panel, result.title))}*"
    while limit > 1 and len(title) + 1 + len(code_block(table_text(result, limit), MAX_FALLBACK)) > MAX_TEXT:
        limit -= 1
    return SectionBlock(text=mrkdwn(f"{title}\n{code_block(table_text(result, limit), MAX_TEXT - len(title) - 1)}"))


def decision_mix(digest: Digest) -> list[SectionBlock]:
    """``approved 120 (80.0 %) · denied 10 (6.7 %) · …``."""
    rows = digest.rows("decisions")
    if not rows:
        return []
    parts = [
        f"{escape(str(r['decision']))} {compact(r['count'])} ({humanize(r['share_pct'], 'percent')})" for r in rows
    ]
    return text_sections([" · ".join(parts)], "Decisions")


def alert_line(alert: EpisodeRecord, tz: ZoneInfo) -> str:
    """``:red_circle: *success-drop* model=gpt-5 · fired Tue 10:05 at 82.1 % (threshold 95.0 %) · resolved Tue 13:10``."""
    labels = " ".join(f"{k}={v}" for k, v in sorted(alert.labels.items()))
    icon = SEVERITY_ICONS.get(alert.severity, ":white_circle:")
    value = "" if alert.value is None else f" at {humanize(alert.value, alert.unit)}"
    threshold = "" if alert.threshold is None else f" (threshold {humanize(alert.threshold, alert.unit)})"
    ended = f"resolved {_moment(alert.resolved_at, tz)}" if alert.resolved_at else "still firing"
    head = f"{icon} *{escape(alert.rule)}*" + (f" {escape(labels)}" if labels else "")
    return f"{head} · fired {_moment(alert.fired_at, tz)}{value}{threshold} · {ended}"


def _moment(moment: datetime, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).strftime("%a %H:%M")


def alert_sections(digest: Digest, limit: int | None) -> list[SectionBlock]:
    alerts = digest.alerts if limit is None else digest.alerts[:limit]
    lines = [alert_line(a, digest.definition.tz) for a in alerts]
    if not digest.alerts:
        lines = ["None fired in this period."]
    elif limit is not None and len(digest.alerts) > limit:
        lines.append(f"… and {len(digest.alerts) - limit} more in the thread.")
    return text_sections(lines, f"Alerts fired ({len(digest.alerts)})")


def context(text: str) -> ContextBlock:
    return ContextBlock(elements=[mrkdwn(text)])


def window_line(digest: Digest, source: str, dashboard: DashboardLink | None = None) -> ContextBlock:
    tz, window = digest.definition.tz, digest.window
    before = window.previous()
    parts = [
        f"{when(window.start, tz)} → {when(window.end, tz)} {tz.key}",
        f"changes vs {when(before.start, tz)} → {when(before.end, tz)}",
    ]
    parts += [f"`{code(key)}={code(value)}`" for key, value in sorted(digest.definition.filters.items())]
    parts.append(f"source: {escape(source)}")
    if dashboard is not None:
        parts.append(dashboard.mrkdwn(window.start, window.end, digest.definition.filters))
    return context(" · ".join(parts))


def notes(digest: Digest) -> list[str]:
    found = [note for result in digest.results.values() for note in result.notes]
    return list(dict.fromkeys([*found, *digest.notes]))


def title(digest: Digest) -> str:
    d = digest.definition
    return fit(f"{d.heading} · {period_label(digest.window.start, digest.window.end, d.tz)}", MAX_HEADER)


def main_blocks(digest: Digest, source: str, dashboard: DashboardLink | None = None) -> list[Block]:
    blocks: list[Block] = [HeaderBlock(text=plain(title(digest), MAX_HEADER)), window_line(digest, source, dashboard)]
    blocks += headline_sections(digest.headline())
    tops = [top_section(digest, name) for name in TOP_TITLES]
    mix = decision_mix(digest)
    if any(tops) or mix:
        blocks.append(DividerBlock())
    blocks += [block for block in tops if block is not None] + mix
    if digest.definition.alerts:
        blocks.append(DividerBlock())
        blocks += alert_sections(digest, MAIN_ALERTS)
    if notes(digest):
        blocks.append(context(":information_source: " + " · ".join(escape(n) for n in notes(digest))))
    return blocks


def detail_blocks(digest: Digest) -> list[Block]:
    """What goes to the thread even when the main post has room: the full alert list when it is long."""
    if len(digest.alerts) <= MAIN_ALERTS:
        return []
    return [*alert_sections(digest, None)]


def pack(
    main: list[Block], details: list[Block], max_blocks: int = MAX_BLOCKS
) -> tuple[list[Block], list[list[Block]]]:
    """(main post blocks, thread replies' blocks): the main post's overflow continues first in the thread."""
    if len(main) > max_blocks:
        keep = max_blocks - 1
        details = [*main[keep:], *details]
        main = [*main[:keep], context("Continued in the thread.")]
    return main, [details[i : i + max_blocks] for i in range(0, len(details), max_blocks)]


def fallback(digest: Digest) -> str:
    """Notification text: ``Codex yesterday · Mon 23 Nov 09:00 → …: Input tokens 12.3M, …``."""
    shown = ", ".join(f"{escape(h.label)} {humanize(h.value, h.unit)}" for h in digest.headline()[:4])
    return fit_fallback(f"{escape(title(digest))}: {shown}" if shown else escape(title(digest)))


def digest_messages(
    digest: Digest, *, source: str, max_blocks: int = MAX_BLOCKS, dashboard: DashboardLink | None = None
) -> DigestMessages:
    """The digest's main post (with its charts) and thread replies, each within Slack's limits."""
    main, thread = pack(main_blocks(digest, source, dashboard), detail_blocks(digest), max_blocks)
    name = digest.definition.heading
    replies = [
        Message(f"{escape(name)}: details {i} of {len(thread)}", blocks) for i, blocks in enumerate(thread, start=1)
    ]
    return DigestMessages(Message(fallback(digest), main, list(digest.charts)), replies)
