"""Words after ``/codex`` that are not panels (``alerts``, ``silence``, …), added by other features.

A feature builds its :class:`Subcommand` objects with what it needs captured in ``run`` and adds
them to :attr:`CommandDeps.subcommands <codex_bot.commands.deps.CommandDeps.subcommands>`; ``/codex``
routes to them before trying panels, checks ``admin_only`` and lists them in the help.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from codex_bot.commands.invocation import Invocation
from codex_bot.delivery.message import Destination, Message

# The words after the subcommand's name, who asked and where → the rendered answer and where it goes.
Run = Callable[[list[str], Invocation], tuple[Message, Destination]]


@dataclass(frozen=True)
class Subcommand:
    name: str  # the first word, e.g. "silence" (must not be a panel name or alias)
    usage: str  # e.g. "silence <rule> <duration>"
    description: str  # one line for the help, e.g. "mute a rule's alerts for a while"
    run: Run  # raises UserError subclasses for the asker to read
    admin_only: bool = False  # only CODEX_BOT_ADMIN_USERS may run it
