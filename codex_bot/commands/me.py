"""``/codex me [RANGE]``: the asker's own usage and share of the team, answered only to them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from zoneinfo import ZoneInfo

from codex_bot.clock import Clock
from codex_bot.commands.deps import CommandDeps
from codex_bot.commands.invocation import Invocation
from codex_bot.commands.subcommand import Subcommand
from codex_bot.delivery.message import Destination, Message
from codex_bot.errors import UserError
from codex_bot.identity import Identities
from codex_bot.metrics.ranges import RANGE_FORMS, looks_like_range, normalize
from codex_bot.panels.personal import personal_usage
from codex_bot.panels.request import DEFAULT_RANGE
from codex_bot.panels.service import PanelRunner
from codex_bot.slack.personal_blocks import personal_message

NAME = "me"


@dataclass
class MeDeps:
    panels: PanelRunner
    identities: Identities
    tz: ZoneInfo
    source: str
    clock: Clock


def parse_range_words(words: Sequence[str], usage: str) -> str:
    """The range of ``[RANGE]`` (default 24h); :class:`UserError` with ``usage`` otherwise."""
    text = normalize(" ".join(words))
    if text and not looks_like_range(text):
        raise UserError(f"I don't understand {' '.join(words)!r}. Use `{usage}`, RANGE one of: {RANGE_FORMS}.")
    return text or DEFAULT_RANGE


def me_reply(words: Sequence[str], invocation: Invocation, deps: MeDeps) -> tuple[Message, Destination]:
    range_text = parse_range_words(words, "me [RANGE]")
    label = deps.identities.label(invocation.user_id)
    usage = personal_usage(deps.panels, label, range_text, deps.clock())
    return personal_message(usage, deps.tz, deps.source), invocation.private()


def register(commands: CommandDeps, identities: Identities) -> MeDeps:
    """Route ``/codex me …``; its clock follows the commands' (tests and the demo pin it)."""
    deps = MeDeps(
        commands.panels,
        identities,
        commands.replies.tz,
        commands.replies.source,
        lambda: commands.clock(),
    )
    commands.add(
        Subcommand(
            NAME, "me [RANGE]", "your own usage and share of the team (only you see it)", partial(me_reply, deps=deps)
        )
    )
    return deps
