"""``/codex deliveries [retry]`` and the *Retry* button of a delivery-failure notice (admins only).

Alerts and scheduled digests that Slack refused for good stay in the outbox as failed (see
:mod:`codex_bot.slack.delivery_failures`); once the cause is fixed (the bot invited, the channel
unarchived, a new token), ``retry`` sends them, in order, and says what went out.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from codex_bot.access import AccessPolicy
from codex_bot.commands.deps import CommandDeps
from codex_bot.commands.invocation import Invocation
from codex_bot.commands.subcommand import Subcommand
from codex_bot.delivery.message import Destination, Message
from codex_bot.delivery.outbox import Outbox, Transport
from codex_bot.errors import UserError
from codex_bot.slack.delivery_failures import mention, notice_message
from codex_bot.slack.mrkdwn import escape, fit
from codex_bot.slack.slack_errors import explain

log = logging.getLogger(__name__)
NAME = "deliveries"
USAGE = "Use `deliveries` to list the messages Slack refused, or `deliveries retry` to send them again."


@dataclass
class DeliveryCommandDeps:
    outbox: Outbox
    transport: Transport
    access: AccessPolicy


def kept_failures(outbox: Outbox) -> str:
    """What is kept as failed, by channel and reason (mrkdwn)."""
    failed = outbox.failed()
    if not failed:
        return "No failed deliveries are kept."
    counts = Counter((f.channel, f.code) for f in failed)
    lines = [
        f"• {n} to {mention(channel)}: {explain(code, channel=channel) if code else 'failed'}"
        for (channel, code), n in counts.items()
    ]
    kept = f"{len(failed)} failed deliver{'y is' if len(failed) == 1 else 'ies are'} kept"
    return f"{kept}:\n" + "\n".join(lines) + "\nFix the cause, then `/codex deliveries retry`."


def retry(outbox: Outbox, transport: Transport) -> str:
    """Send the kept failed deliveries again; a one-paragraph account of what happened."""
    result = outbox.retry_failed()
    if not result.queued and not result.superseded:
        return "No failed deliveries are kept: nothing to retry."
    outbox.flush(transport)
    sent = sum(outbox.status(key) == "sent" for key in result.queued)
    queued = set(result.queued)
    again = [f for f in outbox.failed() if f.key in queued]
    pending = len(result.queued) - sent - len(again)
    parts = [f"Retried {len(result.queued)}: {sent} sent"]
    if pending:
        parts.append(f"{pending} waiting for Slack (retried automatically)")
    if again:
        first = again[0]
        why = explain(first.code, channel=first.channel) if first.code else fit(escape(first.error), 300)
        parts.append(f"{len(again)} failed again ({mention(first.channel)}: {why})")
    text = ", ".join(parts) + "."
    if result.superseded:
        text += f" {len(result.superseded)} left out: a later message of the same alert or digest went out already."
    return text


def deliveries(words: Sequence[str], invocation: Invocation, deps: DeliveryCommandDeps) -> tuple[Message, Destination]:
    if not words:
        return notice_message(kept_failures(deps.outbox)), invocation.private()
    if [w.lower() for w in words] != ["retry"]:
        raise UserError(USAGE)
    return notice_message(retry(deps.outbox, deps.transport)), invocation.private()


def register(commands: CommandDeps, deps: DeliveryCommandDeps) -> None:
    """Route ``/codex deliveries [retry]`` (admins only)."""
    commands.add(
        Subcommand(
            NAME,
            "deliveries [retry]",
            "list, or send again, messages Slack refused",
            partial(deliveries, deps=deps),
            admin_only=True,
        )
    )


def retry_button(body: dict[str, Any], deps: DeliveryCommandDeps) -> str:
    """The *Retry* button of a failure notice, for the admin who clicked: what went out (shown only to them)."""
    deps.access.require_admin(body["user"]["id"], "retry deliveries")
    return retry(deps.outbox, deps.transport)
