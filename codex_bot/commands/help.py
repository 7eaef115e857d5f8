"""``/codex help`` (and ``/codex`` alone): panels, ranges and filters with examples, from the catalog."""

from __future__ import annotations

from collections.abc import Iterable

from slack_sdk.models.blocks import (
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from codex_bot.access import PERSONAL_FILTERS
from codex_bot.commands.invocation import COMMAND
from codex_bot.commands.subcommand import Subcommand
from codex_bot.delivery.message import Message
from codex_bot.metrics.ranges import CALENDAR_RANGES, RANGE_FORMS
from codex_bot.panels.catalog import PANELS, Panel
from codex_bot.panels.request import DEFAULT_RANGE, PUBLIC_WORD
from codex_bot.slack.blocks import text_sections
from codex_bot.slack.mrkdwn import escape


def panel_line(panel: Panel) -> str:
    """``• `tokens` (token, total-tokens): input, output and total tokens · model= user=``."""
    aliases = f" ({', '.join(panel.aliases)})" if panel.aliases else ""
    filters = " · " + " ".join(f"{f}=" for f in panel.filters) if panel.filters else ""
    return f"• `{panel.name}`{aliases}: {panel.description}{filters}"


def sections(title: str, lines: list[str]) -> list[SectionBlock]:
    """``lines`` (escaped) under a bold ``title``, in as many sections as Slack's text limit needs."""
    return text_sections([escape(line) for line in lines], escape(title))


def examples() -> list[str]:
    """A few requests to copy, from the catalog: a filter, a calendar range, a public post."""
    first, timeseries = PANELS[0], next(p for p in PANELS if p.shape == "timeseries")
    return [
        f"`{COMMAND} {first.example}`",
        f"`{COMMAND} {timeseries.name} {CALENDAR_RANGES[1]}`",
        f"`{COMMAND} {PANELS[-1].name} {CALENDAR_RANGES[-1]} {PUBLIC_WORD}`",
    ]


def subcommand_line(subcommand: Subcommand) -> str:
    admin = " (admins)" if subcommand.admin_only else ""
    return f"• `{COMMAND} {subcommand.usage}`: {subcommand.description}{admin}"


def help_message(subcommands: Iterable[Subcommand] = ()) -> Message:
    """The help answer, generated from the panel catalog, the range forms and the other commands."""
    others = [subcommand_line(s) for s in subcommands]
    filters = sorted({key for panel in PANELS for key in panel.filters})
    personal = [panel.name for panel in PANELS if panel.personal]
    blocks = [
        HeaderBlock(text="Codex usage, from Prometheus"),
        SectionBlock(
            text=MarkdownTextObject(
                text=escape(
                    f"`{COMMAND} <panel> [range] [key=value …] [{PUBLIC_WORD}]`: only you see the answer; "
                    f"add `{PUBLIC_WORD}` to post it in the channel. Examples: " + ", ".join(examples())
                )
            )
        ),
        *sections("Panels (aliases): what they show · filters", [panel_line(p) for p in PANELS]),
        SectionBlock(
            text=MarkdownTextObject(
                text=(
                    f"*Ranges*: {RANGE_FORMS}; default {DEFAULT_RANGE}. Calendar ranges follow the bot's timezone.\n"
                    f"*Filters*: {', '.join(f'`{f}=`' for f in filters)} (each panel lists its own); "
                    'quote values with spaces: `user="Ada Lovelace"`.'
                )
            )
        ),
        *(sections("Other commands", others) if others else []),
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=(
                        f"Per-user figures (the {', '.join(f'`{p}`' for p in personal)} panel, "
                        f"{', '.join(f'`{f}=`' for f in sorted(PERSONAL_FILTERS))} filters) are shown only to allowed "
                        "people and channels. Every answer states its exact time window and data source."
                    )
                )
            ]
        ),
    ]
    return Message(f"{COMMAND} help: panels, ranges and filters", blocks)
