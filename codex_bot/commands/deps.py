"""What the command handlers need, built once at start-up."""

from __future__ import annotations

from dataclasses import dataclass, field

from codex_bot.access import AccessPolicy
from codex_bot.clock import Clock, utc_now
from codex_bot.commands.subcommand import Subcommand
from codex_bot.delivery.transport import Transport
from codex_bot.panels.catalog import PANELS
from codex_bot.panels.service import PanelRunner
from codex_bot.slack.replies import PanelReplies

PANEL_NAMES = frozenset(name for panel in PANELS for name in panel.names)
HELP_WORDS = frozenset({"help", "?", "-h", "--help"})


@dataclass
class CommandDeps:
    panels: PanelRunner
    replies: PanelReplies
    transport: Transport
    access: AccessPolicy
    clock: Clock = utc_now  # "now" for ranges; pinned by tests and demos
    subcommands: dict[str, Subcommand] = field(default_factory=dict)  # by name; see commands.subcommand

    def add(self, *subcommands: Subcommand) -> None:
        """Route ``/codex <name> …`` to each of ``subcommands``; a name must not be a panel's."""
        for subcommand in subcommands:
            if subcommand.name in PANEL_NAMES or subcommand.name in HELP_WORDS:
                raise ValueError(f"/codex {subcommand.name} is already a panel or help")
            self.subcommands[subcommand.name] = subcommand
