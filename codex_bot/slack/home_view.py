"""The App Home tab: a dashboard view built from panel results, alerts and digests (slack_sdk models).

From top to bottom: title and range picker; the headline figures with their change against the
previous period; the token-usage chart; the viewer's own usage and share of the team; per-user
rows for people allowed to see them; firing alerts linking to their messages; the next digests;
the exact window and data source.  Every text stays within Slack's limits (≤ 100 blocks a view,
≤ 3,000 characters a text).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    ImageBlock,
    Option,
    PlainTextObject,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from codex_bot.formatting import humanize
from codex_bot.panels.personal import PersonalUsage
from codex_bot.panels.result import PanelResult
from codex_bot.slack.blocks import figure_field, table_section, unit_of, when, window
from codex_bot.slack.mrkdwn import MAX_HEADER, MAX_TEXT, escape, fit, mrkdwn
from codex_bot.slack.personal_blocks import share_line

RANGES = ("24h", "7d", "30d", "this week", "last week")  # the picker's choices
RANGE_ACTION = "home_range"  # action_id of the range picker
CALLBACK_ID = "codex_home"
HEADLINE = (  # (panel, figure key, name shown)
    ("tokens", "input", "Tokens in"),
    ("tokens", "output", "Tokens out"),
    ("cached", "cached_input", "Cached input"),
    ("cache-rate", "cache_rate_pct", "Cache rate"),
    ("success", "success_rate_pct", "Success rate"),
    ("p95", "p95_seconds", "P95 tool duration"),
    ("cost", "total_usd", "Estimated cost"),
)
HEADLINE_PANELS = tuple(dict.fromkeys(panel for panel, _, _ in HEADLINE))
YOU_PANELS = ("tokens", "cost", "conversations", "tools", "decisions")  # the viewer's own, for the "You" line
YOU_COUNTS = (("tools", "calls", "tool calls"), ("decisions", "count", "approval decisions"))  # (panel, column, name)
CHART_PANEL = "usage"
MAX_LISTED = 10
MORE = "… and {} more"


@dataclass(frozen=True)
class Chart:
    """The chart image: a public URL, or the id of a PNG uploaded to Slack (``slack_file``)."""

    alt_text: str
    url: str | None = None
    file_id: str | None = None


@dataclass(frozen=True)
class FiringAlert:
    rule: str
    severity: str
    labels: dict[str, str]
    fired_at: datetime
    link: str | None  # permalink of the alert's message, when it was posted


@dataclass(frozen=True)
class NextDigest:
    name: str
    channel: str
    at: datetime


@dataclass
class HomeData:
    range_text: str
    headline: dict[str, PanelResult]  # by panel name (HEADLINE_PANELS)
    tz: ZoneInfo
    source: str
    chart: Chart | None = None
    you: PersonalUsage | None = None
    users: PanelResult | None = None  # per-user rows, only for people allowed to see them
    alerts: list[FiringAlert] = field(default_factory=list)
    digests: list[NextDigest] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # why a part is missing ("chart unavailable", …)


def _option(range_text: str) -> Option:
    return Option(value=range_text, text=PlainTextObject(text=range_text))


def picker(range_text: str) -> ActionsBlock:
    select = StaticSelectElement(
        action_id=RANGE_ACTION,
        placeholder=PlainTextObject(text="Range"),
        options=[_option(r) for r in RANGES],
        initial_option=_option(range_text),
    )
    return ActionsBlock(block_id="home_controls", elements=[select])


def headline_section(data: HomeData) -> SectionBlock:
    fields = [
        figure_field(key, data.headline[panel], unit_of(key, data.headline[panel]), name)
        for panel, key, name in HEADLINE
    ]
    return SectionBlock(block_id="home_headline", fields=fields)


def chart_block(chart: Chart) -> ImageBlock:
    if chart.url:
        return ImageBlock(block_id="home_chart", image_url=chart.url, alt_text=chart.alt_text)
    return ImageBlock(block_id="home_chart", slack_file={"id": chart.file_id}, alt_text=chart.alt_text)


def listing(title: str, lines: list[str], empty: str) -> SectionBlock:
    """``*title*`` then whole lines, at most :data:`MAX_LISTED` and within Slack's text limit, then how many
    more there are (a line is never cut, so no link breaks)."""
    text, shown = f"*{title}*", 0
    for line in lines[:MAX_LISTED]:
        if len(text) + len(line) + 1 > MAX_TEXT - len(MORE):
            break
        text, shown = f"{text}\n{line}", shown + 1
    if not lines:
        text += f"\n{empty}"
    elif shown < len(lines):
        text += "\n" + MORE.format(len(lines) - shown)
    return SectionBlock(text=mrkdwn(text))


def alert_line(alert: FiringAlert, tz: ZoneInfo) -> str:
    labels = " ".join(f"`{escape(k)}={escape(v)}`" for k, v in sorted(alert.labels.items()))
    link = f" · <{alert.link}|see the alert>" if alert.link else ""
    return (
        f":rotating_light: *{escape(alert.rule)}* ({escape(alert.severity)}) {labels} "
        f"since {when(alert.fired_at, tz)}{link}"
    ).replace("  ", " ")


def digest_line(digest: NextDigest, tz: ZoneInfo) -> str:
    """``• *daily-eng* → #eng-codex at 2026-12-05 09:00`` (a channel id becomes a channel mention)."""
    if not digest.channel:  # a `to: each-user` digest
        return f"• *{escape(digest.name)}* → a DM to each person at {when(digest.at, tz)}"
    channel = escape(digest.channel) if digest.channel.startswith("#") else f"<#{escape(digest.channel)}>"
    return f"• *{escape(digest.name)}* → {channel} at {when(digest.at, tz)}"


def you_section(you: PersonalUsage) -> SectionBlock:
    tokens, cost = you.mine["tokens"], you.mine["cost"]
    mine = (
        f"*You*: {humanize(tokens.figures.get('total'), 'tokens')} tokens · "
        f"{humanize(cost.figures.get('total_usd'), 'usd')} · "
        f"{humanize(you.mine['conversations'].figures.get('conversations'), 'count')} conversations"
    )
    counts = [(you.row_total(panel, column), name) for panel, column, name in YOU_COUNTS]
    mine += "".join(f" · {humanize(total, 'count')} {name}" for total, name in counts if total is not None)
    return SectionBlock(block_id="home_you", text=mrkdwn(f"{mine}\n{share_line(you)}"))


def home_blocks(data: HomeData) -> list[Block]:
    tokens = data.headline["tokens"]
    blocks: list[Block] = [
        HeaderBlock(text=PlainTextObject(text=fit(f"Codex usage · {data.range_text}", MAX_HEADER))),
        picker(data.range_text),
        headline_section(data),
    ]
    if data.chart is not None:
        blocks.append(chart_block(data.chart))
    blocks.append(DividerBlock())
    if data.you is not None:
        blocks.append(you_section(data.you))
    if data.users is not None and data.users.rows:
        blocks += [SectionBlock(text=mrkdwn("*Per user*")), table_section(data.users)]
    blocks.append(
        listing(f"Firing alerts ({len(data.alerts)})", [alert_line(a, data.tz) for a in data.alerts], "_none_")
    )
    blocks.append(listing("Next digests", [digest_line(d, data.tz) for d in data.digests], "_none scheduled_"))
    context = f"{window(tokens, data.tz)} · changes vs {tokens.range.previous_label} · source: {escape(data.source)}"
    blocks.append(ContextBlock(elements=[mrkdwn(context)]))
    if data.notes:
        notes = " · ".join(escape(n) for n in data.notes)
        blocks.append(ContextBlock(elements=[mrkdwn(f":information_source: {notes}")]))
    return blocks


def home_view(data: HomeData) -> View:
    """The home tab for one viewer (``views.publish``)."""
    return View(type="home", callback_id=CALLBACK_ID, blocks=home_blocks(data))
