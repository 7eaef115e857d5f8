"""``/codex digest [NAME] [RANGE]``: post a digest in the channel now.

Thin handler: parse, render (:class:`~codex_bot.digests.service.Digests`), hand the messages to the
outbox (main post, details in its thread) and send; the asker gets a private confirmation.
:func:`register` adds it to the /codex router as the ``digest`` subcommand.
Without NAME the default digest panels are used; without RANGE a named digest covers its usual
period (as of now) and the default one the last 24h.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

from codex_bot.clock import Clock, utc_now
from codex_bot.commands.deps import CommandDeps
from codex_bot.commands.invocation import Invocation
from codex_bot.commands.subcommand import Subcommand
from codex_bot.delivery.message import Destination, Message
from codex_bot.delivery.outbox import Outbox, Transport
from codex_bot.digests.definitions import DigestDefinition, DigestFile
from codex_bot.digests.layout import title
from codex_bot.digests.schedule import JOB_PREFIX, enqueue_digest
from codex_bot.digests.service import Digests
from codex_bot.errors import UserError
from codex_bot.metrics.ranges import RANGE_FORMS, looks_like_range, normalize
from codex_bot.panels.request import DEFAULT_RANGE
from codex_bot.slack.replies import notice
from codex_bot.slack.slack_errors import explain
from codex_bot.store import Store

NAME = "digest"
ON_DEMAND = "on-demand"
USAGE = f"Use `digest [NAME] [RANGE]`, e.g. `digest 7d` or `digest daily-eng`; RANGE one of: {RANGE_FORMS}."


@dataclass
class DigestCommandDeps:
    digests: Digests
    definitions: DigestFile
    store: Store
    outbox: Outbox
    transport: Transport
    timezone: str = "UTC"
    clock: Clock = utc_now


def parse_digest_words(
    args: Sequence[str], definitions: DigestFile, timezone: str, channel: str
) -> tuple[DigestDefinition, str | None]:
    """(definition, range text or None) from ``[NAME] [RANGE]``; :class:`UserError` with the usage otherwise."""
    words = list(args)
    named = {d.name: d for d in definitions.digests}
    if words and words[0].lower() in named:
        definition: DigestDefinition = named[words.pop(0).lower()]
    else:
        definition = DigestDefinition(name=ON_DEMAND, channel=channel, schedule="0 0 * * *", timezone=timezone)
    text = normalize(" ".join(words))
    if text and not looks_like_range(text):
        known = ", ".join(named) or "none defined"
        broken = (
            f" {definitions.path} has problems, fix them to use its digests: "
            + "; ".join(str(problem) for problem in definitions.problems)
            if definitions.problems
            else ""
        )
        raise UserError(f"I don't understand {' '.join(words)!r}. {USAGE} Digests: {known}.{broken}")
    if not text and definition.name == ON_DEMAND:
        return definition, DEFAULT_RANGE
    return definition, text or None


def digest_reply(args: Sequence[str], invocation: Invocation, deps: DigestCommandDeps) -> tuple[Message, Destination]:
    """Post the digest (``args``: the words after ``digest``) in the asker's conversation; the private
    answer says whether it went out."""
    channel = invocation.channel_name or invocation.channel_id
    definition, range_text = parse_digest_words(args, deps.definitions, deps.timezone, channel)
    if definition.to == "each-user":
        raise UserError(
            f"{definition.name} is a personal digest, sent by DM to each person on its schedule; "
            "`/codex me` shows yours now."
        )
    digest, messages = deps.digests.render(
        definition, deps.clock(), range_text, invocation.channel_id, invocation.channel_name
    )
    key = f"{JOB_PREFIX}{definition.name}:asked:{uuid.uuid4().hex}"
    with deps.store.transaction() as tx:
        enqueue_digest(deps.outbox, tx, invocation.channel_id, key, messages, report=False)
    deps.outbox.flush(deps.transport)
    status = deps.outbox.status(key)
    if status == "sent":
        return notice(f"Posted the digest here: {title(digest)}.", ":white_check_mark:"), invocation.private()
    failed = deps.outbox.failure(key)
    if status == "failed" and failed is not None:  # Slack refused it for good: say why and what works
        why = (
            explain(failed.code, channel=invocation.channel_id, channel_name=invocation.channel_name)
            if failed.code
            else failed.error
        )
        return notice(f"I couldn't post the digest here: {why}."), invocation.private()
    return notice(
        "Slack did not take the digest yet (it is busy or unreachable); I'll retry it shortly.", ":hourglass:"
    ), invocation.private()


def register(commands: CommandDeps, deps: DigestCommandDeps) -> None:
    """Route ``/codex digest …`` to :func:`digest_reply`."""
    commands.add(
        Subcommand(NAME, "digest [NAME] [RANGE]", "post a digest in this channel now", partial(digest_reply, deps=deps))
    )
