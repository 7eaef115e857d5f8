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
    PlainTextObject,
    SectionBlock,
)

from codex_bot.alerts.records import EpisodeRecord
from codex_bot.delivery.message import Message
from codex_bot.digests.compose import Digest, Headline
from codex_bot.formatting import MISSING, compact, humanize
from codex_bot.slack.blocks import (
    MAX_FIELDS,
    MAX_HEADER,
    MAX_SECTION_TEXT,
    escape,
    table_text,
    when,
)

MAX_BLOCKS = 50  # Slack: blocks per message
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


def text_sections(lines: Sequence[str], title: str = "") -> list[SectionBlock]:
    """``lines`` (under a bold ``title``) in as few sections as the text limit allows; a line is never split
    (one longer than the limit is cut with an ellipsis)."""
    chunks: list[str] = []
    current = f"*{title}*" if title else ""
    for line in lines:
        line = line if len(line) <= MAX_SECTION_TEXT else line[: MAX_SECTION_TEXT - 1] + "…"
        if current and len(current) + 1 + len(line) > MAX_SECTION_TEXT:
            chunks.append(current)
            current = ""
        current = f"{current}\n{line}" if current else line
    chunks.append(current)
    return [SectionBlock(text=MarkdownTextObject(text=chunk)) for chunk in chunks if chunk]


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
    return MarkdownTextObject(text="\n".join(lines))


def headline_sections(items: Sequence[Headline]) -> list[SectionBlock]:
    fields = [headline_field(item) for item in items]
    return [SectionBlock(fields=fields[i : i + MAX_FIELDS]) for i in range(0, len(fields), MAX_FIELDS)]


def top_section(digest: Digest, panel: str) -> SectionBlock | None:
    """A top-N table with its title, shortened until it fits one section."""
    result = digest.results.get(panel)
    if result is None or not result.rows:
        return None
    limit = getattr(digest.definition.top, panel, len(result.rows))
    title = f"*{TOP_TITLES.get(panel, result.title)}*"
    text = ""
    while limit >= 1:
        text = f"{title}\n```{escape(table_text(result, limit))}```"
        if len(text) <= MAX_SECTION_TEXT:
            break
        limit -= 1
    return SectionBlock(text=MarkdownTextObject(text=text[:MAX_SECTION_TEXT]))


def decision_mix(digest: Digest) -> SectionBlock | None:
    """``approved 120 (80.0 %) · denied 10 (6.7 %) · …``."""
    rows = digest.rows("decisions")
    if not rows:
        return None
    parts = [f"{escape(str(r['decision']))} {compact(r['count'])} ({humanize(r['share_pct'], 'percent')})" for r in rows]
    (section,) = text_sections([" · ".join(parts)], "Decisions")
    return section


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
    return ContextBlock(elements=[MarkdownTextObject(text=text[:MAX_SECTION_TEXT])])


def window_line(digest: Digest, source: str) -> ContextBlock:
    tz, window = digest.definition.tz, digest.window
    before = window.previous()
    parts = [f"{when(window.start, tz)} → {when(window.end, tz)} {tz.key}",
             f"changes vs {when(before.start, tz)} → {when(before.end, tz)}"]
    parts += [f"`{escape(key)}={escape(value)}`" for key, value in sorted(digest.definition.filters.items())]
    parts.append(f"source: {source}")
    return context(" · ".join(parts))


def notes(digest: Digest) -> list[str]:
    found = [note for result in digest.results.values() for note in result.notes]
    return list(dict.fromkeys([*found, *digest.notes]))


def title(digest: Digest) -> str:
    d = digest.definition
    return f"{d.heading} · {period_label(digest.window.start, digest.window.end, d.tz)}"[:MAX_HEADER]


def main_blocks(digest: Digest, source: str) -> list[Block]:
    blocks: list[Block] = [HeaderBlock(text=PlainTextObject(text=title(digest), emoji=True)), window_line(digest, source)]
    blocks += headline_sections(digest.headline())
    tops = [top_section(digest, name) for name in TOP_TITLES]
    mix = decision_mix(digest)
    if any(tops) or mix:
        blocks.append(DividerBlock())
    blocks += [block for block in [*tops, mix] if block is not None]
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


def pack(main: list[Block], details: list[Block], max_blocks: int = MAX_BLOCKS) -> tuple[list[Block], list[list[Block]]]:
    """(main post blocks, thread replies' blocks): the main post's overflow continues first in the thread."""
    if len(main) > max_blocks:
        keep = max_blocks - 1
        details = [*main[keep:], *details]
        main = [*main[:keep], context("Continued in the thread.")]
    return main, [details[i : i + max_blocks] for i in range(0, len(details), max_blocks)]


def fallback(digest: Digest) -> str:
    """Notification text: ``Codex yesterday · Mon 23 Nov 09:00 → …: Input tokens 12.3M, …``."""
    shown = ", ".join(f"{h.label} {humanize(h.value, h.unit)}" for h in digest.headline()[:4])
    return f"{title(digest)}: {shown}" if shown else title(digest)


def digest_messages(digest: Digest, *, source: str, max_blocks: int = MAX_BLOCKS) -> DigestMessages:
    """The digest's main post (with its charts) and thread replies, each within Slack's limits."""
    main, thread = pack(main_blocks(digest, source), detail_blocks(digest), max_blocks)
    name = digest.definition.heading
    replies = [Message(f"{name}: details {i} of {len(thread)}", blocks) for i, blocks in enumerate(thread, start=1)]
    return DigestMessages(Message(fallback(digest), main, list(digest.charts)), replies)
