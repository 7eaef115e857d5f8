"""Telling people when Slack refused a delivery for good: the admins' DMs and/or a fallback channel.

An alert or scheduled digest that Slack will never take as it is (``not_in_channel``,
``channel_not_found``, ``is_archived``, a revoked token, …) stays in the outbox as *failed*; the
outbox then posts one notice per channel and error (at most once per :data:`QUIET_SECONDS`) to
``CODEX_BOT_FALLBACK_CHANNEL`` and to every user of ``CODEX_BOT_ADMIN_USERS`` (in their DM with the
bot), naming the channel, the error, the fix, and how to send the kept messages once it is fixed:
the notice's *Retry* button, ``/codex deliveries retry`` or ``codex-bot deliveries retry``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from slack_sdk.models.blocks import ActionsBlock, ButtonElement, ContextBlock, SectionBlock

from codex_bot.delivery.message import Message
from codex_bot.settings import Settings
from codex_bot.slack.mrkdwn import code, escape, fit, fit_fallback, mrkdwn, unescape
from codex_bot.slack.slack_errors import explain

RETRY_ACTION = "codex_deliveries_retry"
QUIET_SECONDS = 6 * 3600  # one notice per channel and error within this time; the retry covers them all
LISTED = 5
RETRY_HOW = (
    "I kept them: once that is fixed, press *Retry*, or run `/codex deliveries retry` (admins) "
    "or `codex-bot deliveries retry` on the bot's machine."
)


@dataclass(frozen=True)
class FailedDelivery:
    """A delivery Slack refused for good, as the outbox keeps it."""

    key: str
    channel: str
    code: str | None  # Slack's error code, None for other failures
    error: str
    text: str


def is_conversation_id(ref: str) -> bool:
    """``C0123ABC``-style IDs (channels, group DMs, DMs), as opposed to ``#names`` and user IDs."""
    return re.fullmatch(r"[CGD][A-Z0-9]{2,}", ref) is not None


def is_user_id(ref: str) -> bool:
    """A user ID (``U…``/``W…``): a message to it goes to their DM with the bot."""
    return re.fullmatch(r"[UW][A-Z0-9]{2,}", ref) is not None


def mention(channel: str) -> str:
    """How a channel is shown in mrkdwn: ``<#C0123>`` for IDs (Slack shows the name), the escaped name otherwise."""
    return f"<#{channel}>" if is_conversation_id(channel) else code(channel)


def notice_message(text: str) -> Message:
    """A one-section notice whose mrkdwn was built by the bot (outside text already escaped)."""
    return Message(fit_fallback(text), [SectionBlock(text=mrkdwn(text))])


def _first_line(text: str) -> str:
    """The first line of a message's text, shown literally (entities it already has are not doubled)."""
    line = (text.strip().splitlines() or [""])[0]
    return fit(escape(unescape(line)), 150)


@dataclass(frozen=True)
class FailureNotices:
    """Who hears about permanent delivery failures (nobody when both are empty: then only the log says it)."""

    admins: tuple[str, ...] = ()
    fallback_channel: str = ""

    @classmethod
    def from_settings(cls, settings: Settings) -> FailureNotices:
        return cls(tuple(settings.admin_users), settings.fallback_channel.strip())

    def recipients(self, failing_channel: str) -> list[str]:
        """Where to tell about a failure in ``failing_channel`` (never that channel itself)."""
        found = [self.fallback_channel] if self.fallback_channel else []
        return [r for r in [*found, *self.admins] if r != failing_channel]

    @staticmethod
    def message(channel: str, error: str | None, failed: Sequence[FailedDelivery]) -> Message:
        """The notice for ``failed`` deliveries to ``channel`` that Slack refused with the code ``error``."""
        why = explain(error, channel=channel) if error else fit(escape(failed[0].error), 300)
        count = f"{len(failed)} message{'s' if len(failed) != 1 else ''}"
        head = f":warning: *I couldn't post {count} to {mention(channel)}*: {why}."
        lines = [f"• {_first_line(f.text)}" for f in failed[:LISTED]]
        if len(failed) > LISTED:
            lines.append(f"… and {len(failed) - LISTED} more")
        blocks = [
            SectionBlock(text=mrkdwn(head)),
            SectionBlock(text=mrkdwn("\n".join(lines))),
            ContextBlock(elements=[mrkdwn(RETRY_HOW)]),
            ActionsBlock(elements=[ButtonElement(text="Retry", action_id=RETRY_ACTION, value="all", style="primary")]),
        ]
        return Message(fit_fallback(f"I couldn't post {count} to {channel}: {why}."), blocks)
