"""Checking, with ``conversations.info``, that the bot can post where rules and digests send their messages.

Run at ``codex-bot serve`` start-up and by ``codex-bot rules check --slack``; each problem names the
channel, what uses it, and the fix.  ``conversations.info`` takes IDs only, so a channel given by
name is reported as not checked (use its ID, which also survives renames).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from codex_bot.slack.delivery_failures import is_conversation_id, is_user_id
from codex_bot.slack.slack_errors import error_code, explain, reason

_TOKEN_ERRORS = frozenset({"invalid_auth", "not_authed", "token_revoked", "account_inactive"})


@dataclass(frozen=True)
class ChannelProblem:
    channel: str
    used_by: tuple[str, ...]  # e.g. ("routing.default", "digest daily-eng")
    problem: str  # what is wrong and the fix
    blocking: bool = True  # False: a note (not checked), not a failure
    code: str = ""  # Slack's error code, if it answered one

    def __str__(self) -> str:
        return f"{self.channel} ({', '.join(self.used_by)}): {self.problem}"


def check_channels(client: WebClient, uses: Mapping[str, Sequence[str]]) -> list[ChannelProblem]:
    """The problems of every channel in ``uses`` (channel → what sends there); [] when all can be posted to."""
    problems: list[ChannelProblem] = []
    for channel, used_by in uses.items():
        found = _check(client, channel, tuple(used_by))
        if found is None:
            continue
        problems.append(found)
        if found.code in _TOKEN_ERRORS:  # every other check would say the same
            break
    return problems


def _check(client: WebClient, channel: str, used_by: tuple[str, ...]) -> ChannelProblem | None:
    if is_user_id(channel):
        return None  # a person's DM with the bot: always there
    if not is_conversation_id(channel):
        return ChannelProblem(
            channel,
            used_by,
            "not checked: a channel name, and conversations.info takes IDs; "
            "use the channel ID instead (channel details → About → Channel ID)",
            blocking=False,
        )
    try:
        info = client.conversations_info(channel=channel)["channel"]
    except SlackApiError as exc:
        code = str(error_code(exc))
        if code in _TOKEN_ERRORS:
            return ChannelProblem(channel, used_by, f"the bot token is refused ({code}): {explain(code)}", code=code)
        if code == "missing_scope":
            return ChannelProblem(channel, used_by, f"not checked: {reason(exc)}", blocking=False)
        return ChannelProblem(channel, used_by, f"{code}: {explain(code, channel=channel)}", code=code)
    except (SlackClientError, OSError) as exc:
        return ChannelProblem(channel, used_by, f"not checked: {reason(exc)}", blocking=False)
    if info.get("is_archived"):
        return ChannelProblem(channel, used_by, f"is_archived: {explain('is_archived')}", code="is_archived")
    return None
