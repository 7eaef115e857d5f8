"""Block Kit for panel results, built with slack_sdk's block models (rendered, never sent, here).

A panel reply reads: header (title · range); the headline figures, each with its change against
the previous period; breakdown rows as a compact monospace table; the chart as an image block when
a public chart URL exists; a context line with the exact window, timezone, filters and data source;
notes such as "estimate" last.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    HeaderBlock,
    ImageBlock,
    MarkdownTextObject,
    SectionBlock,
)

from codex_bot.charts.frame import words
from codex_bot.formatting import MISSING, humanize, humanize_change
from codex_bot.panels.result import PanelResult
from codex_bot.slack.mrkdwn import (
    MAX_ALT_TEXT,
    MAX_FALLBACK,
    MAX_FIELD,
    MAX_FIELDS,
    MAX_HEADER,
    MAX_TEXT,
    code,
    code_block,
    escape,
    fit,
    mrkdwn,
    plain,
)

MAX_TABLE_ROWS = 15


def label(key: str) -> str:
    """A figure key as a label: ``cache_rate_pct`` → ``Cache rate``, ``p95_seconds`` → ``P95``."""
    text = words(key.removesuffix("_seconds").removesuffix("_usd"))
    return text[:1].upper() + text[1:]


def unit_of(key: str, result: PanelResult) -> str:
    """The unit of a figure key or row column (the panel's unit when the result does not say)."""
    return result.units.get(key, result.unit)


def when(moment: datetime, tz: ZoneInfo) -> str:
    """``2025-03-01 14:00`` in ``tz`` (seconds shown only when not zero)."""
    local = moment.astimezone(tz)
    return local.strftime("%Y-%m-%d %H:%M:%S" if local.second else "%Y-%m-%d %H:%M")


def window(result: PanelResult, tz: ZoneInfo) -> str:
    """The exact window: ``2025-03-01 14:00 → 2025-03-08 14:00 Europe/Berlin``."""
    return f"{when(result.range.start, tz)} → {when(result.range.end, tz)} {tz.key}"


def header(result: PanelResult) -> HeaderBlock:
    return HeaderBlock(text=plain(f"{result.title} · {result.range.label}", MAX_HEADER))


def figure_field(key: str, result: PanelResult, unit: str, name: str | None = None) -> MarkdownTextObject:
    """``*Input*`` / ``12.3M`` / ``+4.5 % (+530k) vs previous 7d`` (``name`` instead of the key's label)."""
    value = result.figures.get(key)
    lines = [f"*{name or label(key)}*", humanize(value, unit)]
    if key in result.previous:
        delta = humanize_change(value, result.previous[key], unit)
        if delta != MISSING:
            lines.append(f"_{delta} vs {result.range.previous_label}_")
    return mrkdwn("\n".join(lines), MAX_FIELD)


def figure_sections(result: PanelResult) -> list[SectionBlock]:
    fields = [figure_field(key, result, unit_of(key, result)) for key in result.figures]
    return [SectionBlock(fields=fields[i : i + MAX_FIELDS]) for i in range(0, len(fields), MAX_FIELDS)]


def cell(value: Any, unit: str) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return MISSING if value in (None, "") else str(value)
    return humanize(value, unit)


def table_text(result: PanelResult, limit: int = MAX_TABLE_ROWS) -> str:
    """The rows as an aligned monospace table (first column left, numbers right), at most ``limit`` rows."""
    rows = result.rows
    columns = list(rows[0])
    body = [[cell(row.get(c), unit_of(c, result)) for c in columns] for row in rows[:limit]]
    grid = [[words(c) for c in columns], *body]
    widths = [max(len(line[i]) for line in grid) for i in range(len(columns))]

    def line(values: list[str]) -> str:
        first, rest = values[0].ljust(widths[0]), [v.rjust(w) for v, w in zip(values[1:], widths[1:])]
        return "  ".join([first, *rest]).rstrip()

    lines = [line(v) for v in grid]
    if len(rows) > limit:
        lines.append(f"… and {len(rows) - limit} more")
    return "\n".join(lines)


def table_section(result: PanelResult) -> SectionBlock:
    """The table in one section: fewer rows until it fits, then (very long cells) cut with "…"."""
    limit = MAX_TABLE_ROWS
    while limit > 1 and len(code_block(table_text(result, limit), MAX_FALLBACK)) > MAX_TEXT:
        limit //= 2
    return SectionBlock(text=mrkdwn(code_block(table_text(result, limit))))


def text_sections(lines: Sequence[str], title: str = "") -> list[SectionBlock]:
    """mrkdwn ``lines`` (under a bold ``title``) in as few sections as the text limit allows; a line is never
    split (one longer than the limit is cut with "…")."""
    chunks: list[str] = []
    current = f"*{title}*" if title else ""
    for line in (fit(line) for line in lines):
        if current and len(current) + 1 + len(line) > MAX_TEXT:
            chunks.append(current)
            current = ""
        current = f"{current}\n{line}" if current else line
    chunks.append(current)
    return [SectionBlock(text=mrkdwn(chunk)) for chunk in chunks if chunk]


def context_line(result: PanelResult, tz: ZoneInfo, source: str, link: str | None = None) -> ContextBlock:
    """Exact window and timezone, filters, where the figures come from, and the dashboard ``link`` (mrkdwn)."""
    parts = [window(result, tz)]
    parts += [f"`{code(key)}={code(value)}`" for key, value in sorted(result.filters.items())]
    parts.append(f"source: {escape(source)}")
    parts += [link] if link else []
    return ContextBlock(elements=[mrkdwn(" · ".join(parts))])


def notes_line(notes: Sequence[str]) -> ContextBlock:
    return ContextBlock(elements=[mrkdwn(":warning: " + " · ".join(escape(n) for n in notes))])


def image(url: str, result: PanelResult) -> ImageBlock:
    return ImageBlock(image_url=url, alt_text=fit(f"{result.title} chart, {result.range.label}", MAX_ALT_TEXT))


def panel_blocks(
    result: PanelResult,
    tz: ZoneInfo,
    *,
    source: str,
    image_url: str | None = None,
    notes: Sequence[str] = (),
    link: str | None = None,
) -> list[Block]:
    """The reply for one panel result; ``notes`` adds lines such as "chart unavailable", ``link`` a
    dashboard link (mrkdwn) to the context line."""
    blocks: list[Block] = [header(result)]
    if not result.has_data:
        blocks.append(SectionBlock(text=mrkdwn("No data in this range.")))
    else:
        blocks += figure_sections(result)
        if result.rows:
            blocks.append(table_section(result))
        if image_url:
            blocks.append(image(image_url, result))
    blocks.append(context_line(result, tz, source, link))
    all_notes = [*result.notes, *notes]
    if all_notes:
        blocks.append(notes_line(all_notes))
    return blocks


def fallback_text(result: PanelResult) -> str:
    """The plain text Slack shows in notifications: ``Total token usage (7d): Input 12.3M, …``."""
    if not result.has_data:
        return f"{result.title} ({result.range.label}): no data"
    shown = [f"{label(k)} {humanize(v, unit_of(k, result))}" for k, v in result.figures.items()]
    if result.rows:
        shown.append(f"{len(result.rows)} rows")
    return f"{result.title} ({result.range.label}): " + ", ".join(shown)


def notice_blocks(text: str, emoji: str = ":x:") -> list[Block]:
    """A one-paragraph answer (errors, refusals): ``emoji`` then ``text`` (mrkdwn, ``&<>`` escaped)."""
    return [SectionBlock(text=mrkdwn(f"{emoji} {escape(text)}"))]
