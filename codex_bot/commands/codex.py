"""Answering one ``/codex ...`` invocation: route it, render the answer, deliver it; never swallow errors.

Everything the asker can act on (unknown panel, bad range, unknown filter, Prometheus down or
slow, access refused) comes back as a private one-line answer.  Anything else is a bug: it is
logged with its traceback and the asker gets a short apology, never the trace.
"""

from __future__ import annotations

import logging

from codex_bot.commands.deps import HELP_WORDS, CommandDeps
from codex_bot.commands.help import help_message
from codex_bot.commands.invocation import Invocation
from codex_bot.commands.panel import panel_reply
from codex_bot.commands.subcommand import Subcommand
from codex_bot.delivery.message import Delivery, Destination, Message
from codex_bot.errors import UserError
from codex_bot.panels.request import split_words
from codex_bot.slack.replies import notice
from codex_bot.slack.slack_errors import DELIVERY_FAILURES, failure_text

log = logging.getLogger(__name__)

INTERNAL_ERROR = "Something went wrong on my side while answering; it has been logged. Please try again."


def run_subcommand(
    subcommand: Subcommand, words: list[str], invocation: Invocation, deps: CommandDeps
) -> tuple[Message, Destination]:
    if subcommand.admin_only:
        deps.access.require_admin(invocation.user_id, f"run `/codex {subcommand.name}`")
    return subcommand.run(words, invocation)


def reply_for(invocation: Invocation, deps: CommandDeps) -> tuple[Message, Destination]:
    """The rendered answer to ``invocation`` and where it goes (errors become private notices)."""
    words = split_words(invocation.text)
    first = words[0].lower() if words else ""
    try:
        if not words or first in HELP_WORDS:
            return help_message(deps.subcommands.values()), invocation.private()
        if first in deps.subcommands:
            return run_subcommand(deps.subcommands[first], words[1:], invocation, deps)
        return panel_reply(words, invocation, deps)
    except UserError as exc:
        return notice(str(exc)), invocation.private()
    except Exception:  # a bug: log it with its trace, tell the asker without one
        log.exception("/codex %r failed", invocation.text)
        return notice(INTERNAL_ERROR), invocation.private()


def answer(invocation: Invocation, deps: CommandDeps) -> Delivery | None:
    """Compute, render and deliver the answer; a delivery failure is explained to the asker privately."""
    message, destination = reply_for(invocation, deps)
    return deliver(message, destination, invocation, deps)


def deliver(message: Message, destination: Destination, invocation: Invocation, deps: CommandDeps) -> Delivery | None:
    """Send ``message``; a delivery failure is explained to the asker privately (never raised)."""
    try:
        return deps.transport.send(message, destination)
    except DELIVERY_FAILURES as exc:  # Slack refused or was unreachable: say so, privately
        log.warning("answer to /codex %r not delivered: %s", invocation.text, exc)
        if destination.ephemeral:
            return None
        try:
            deps.transport.send(
                notice(failure_text(exc, invocation.channel_id, invocation.channel_name)), invocation.private()
            )
        except DELIVERY_FAILURES as again:
            log.warning("could not tell %s why: %s", invocation.user_id, again)
        return None
