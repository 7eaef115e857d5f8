"""``/codex me``: one person's usage and their share of the team, as a private reply (no ranks)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    PlainTextObject,
    SectionBlock,
)

from codex_bot.delivery.message import Message
from codex_bot.formatting import humanize
from codex_bot.panels.personal import PersonalUsage, Share
from codex_bot.slack.blocks import figure_field, notes_line, table_section, unit_of, window
from codex_bot.slack.mrkdwn import escape, mrkdwn

FIELDS = (  # (panel, figure key, name shown)
    ("tokens", "input", "Tokens in"),
    ("tokens", "output", "Tokens out"),
    ("tokens", "total", "Tokens in + out"),
    ("cost", "total_usd", "Estimated cost"),
    ("conversations", "conversations", "Conversations"),
)
TABLES = (  # (panel, heading, said when the person has no rows in the range)
    ("model-tokens", "Your tokens by model", None),
    ("tools", "Your tool calls by tool", "You made no tool calls in this range."),
    ("decisions", "Your tool approval decisions", "No approval decisions on your tool calls in this range."),
)
OPT_OUT = "personal_digest_opt_out"  # action ids of the personal digest's buttons
OPT_IN = "personal_digest_opt_in"


def share_text(share: Share, usage: PersonalUsage) -> str:
    """``12.3 % of tokens (1.2M of 9.8M)``; ``—`` when the team has none."""
    unit = unit_of(share.figure, usage.team[share.panel])
    percent = humanize(share.percent, "percent")
    return f"{percent} of {share.panel} ({humanize(share.mine, unit)} of {humanize(share.team, unit)})"


def share_line(usage: PersonalUsage) -> str:
    return "*Your share of the team*: " + " · ".join(share_text(s, usage) for s in usage.shares)


def table_blocks(usage: PersonalUsage, panel: str, heading: str, none: str | None) -> list[Block]:
    """The heading and table of one of the person's breakdowns; ``none`` (or nothing) without rows."""
    result = usage.mine.get(panel)
    if result is not None and result.rows:
        return [SectionBlock(text=mrkdwn(f"*{heading}*")), table_section(result)]
    if result is not None and none:
        return [SectionBlock(text=mrkdwn(f"*{heading}*: {none}"))]
    return []


def personal_blocks(usage: PersonalUsage, tz: ZoneInfo, source: str) -> list[Block]:
    tokens = usage.mine["tokens"]
    blocks: list[Block] = [HeaderBlock(text=PlainTextObject(text=f"Your Codex usage · {tokens.range.label}"))]
    blocks.append(
        SectionBlock(
            fields=[
                figure_field(key, usage.mine[panel], unit_of(key, usage.mine[panel]), name)
                for panel, key, name in FIELDS
            ]
        )
    )
    blocks.append(SectionBlock(text=mrkdwn(share_line(usage))))
    blocks += [block for panel, heading, none in TABLES for block in table_blocks(usage, panel, heading, none)]
    context = f"{window(tokens, tz)} · `user={escape(usage.label)}` · source: {escape(source)}"
    blocks.append(ContextBlock(elements=[mrkdwn(context)]))
    blocks.append(ContextBlock(elements=[mrkdwn("Only you see this. Shares are of the whole team, never a ranking.")]))
    notes = usage.mine["cost"].notes
    return [*blocks, notes_line(notes)] if notes else blocks


def personal_message(usage: PersonalUsage, tz: ZoneInfo, source: str) -> Message:
    tokens = usage.mine["tokens"]
    text = (
        f"Your Codex usage ({tokens.range.label}): {humanize(tokens.figures.get('total'), 'tokens')} tokens, "
        f"{humanize(usage.mine['cost'].figures.get('total_usd'), 'usd')}"
    )
    return Message(escape(text), personal_blocks(usage, tz, source))


def opt_out_block(digest: str) -> ActionsBlock:
    """The button under a personal digest that stops them."""
    return ActionsBlock(
        block_id="personal_digest",
        elements=[ButtonElement(text="Stop these personal digests", action_id=OPT_OUT, value=digest)],
    )


def opted_message(out: bool) -> Message:
    """The private confirmation of a click, with the button that undoes it."""
    if out:
        text = "You won't get personal usage digests any more. `/codex me` still answers whenever you ask."
        button = ButtonElement(text="Send them again", action_id=OPT_IN, value="on")
    else:
        text = "Personal usage digests are on again: the next one comes with its schedule."
        button = ButtonElement(text="Stop these personal digests", action_id=OPT_OUT, value="off")
    blocks = [SectionBlock(text=mrkdwn(text)), ActionsBlock(elements=[button])]
    return Message(text, blocks)
