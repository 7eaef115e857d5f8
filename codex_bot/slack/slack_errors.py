"""Slack failures explained in words a user or admin can act on."""

from __future__ import annotations

from slack_sdk.errors import SlackApiError, SlackClientError

from codex_bot.errors import UserError

_EXPLAINED: dict[str, str] = {
    "not_in_channel": "I'm not a member of this channel: invite me with `/invite @codex-bot`",
    "channel_not_found": "I can't see this conversation (a private channel I'm not in, or a wrong channel ID): "
    "invite me with `/invite @codex-bot` there",
    "is_archived": "this channel is archived: unarchive it, or send my messages to another channel",
    "restricted_action": "a workspace setting stops me from posting here",
    "msg_too_long": "the message is too long for Slack (a bug: please report it)",
    "invalid_blocks": "Slack rejected the message layout (a bug: please report it)",
    "ratelimited": "Slack is rate-limiting me; try again in a minute",
    "invalid_auth": "the bot token is not valid: reinstall the app and set SLACK_BOT_TOKEN to its new token",
    "not_authed": "no bot token was sent (check SLACK_BOT_TOKEN)",
    "token_revoked": "the bot token was revoked: reinstall the app and set SLACK_BOT_TOKEN to its new token",
    "account_inactive": "the bot token belongs to a deactivated app: reinstall it and update SLACK_BOT_TOKEN",
    "expired_url": "this command's reply link expired (30 minutes): run it again",
    "used_url": "this command's reply link was used up: run it again",
}
# A bot cannot be added to a direct message between people, nor to a group DM: say what works instead.
_NOT_HERE = {"not_in_channel", "channel_not_found"}
_IN_A_DM = (
    "apps can't post in a direct message between other people: ask me in my own DM "
    "(Apps → codex-bot → Messages) or in a channel I'm in"
)
_IN_A_GROUP_DM = (
    "I'm not in this group DM and apps can't be added to one: ask me in my own DM "
    "(Apps → codex-bot → Messages) or in a channel I'm in"
)


class DeliveryError(UserError):
    """A reply Slack did not take without a SlackApiError (a response_url answered non-200)."""


# What a transport raises when the text cannot go out (SlackApiError is a SlackClientError).
DELIVERY_FAILURES: tuple[type[Exception], ...] = (SlackClientError, OSError, DeliveryError)


def _kind(channel: str | None, name: str | None) -> str:
    """``im`` (a DM: ``D…``, named ``directmessage`` in slash commands), ``mpim`` (a group DM, ``mpdm-…``) or ``""``."""
    if (channel or "").startswith("D") or name == "directmessage":
        return "im"
    return "mpim" if (name or "").startswith("mpdm-") else ""


def explain(
    code: str, needed_scope: str | None = None, channel: str | None = None, channel_name: str | None = None
) -> str:
    """A phrase for Slack error ``code`` that says what to do; ``missing_scope`` names the scope to add, and
    "not in this conversation" depends on its kind (a DM or group DM can't take ``/invite``)."""
    kind = _kind(channel, channel_name) if code in _NOT_HERE else ""
    if kind:
        return _IN_A_DM if kind == "im" else _IN_A_GROUP_DM
    if code == "missing_scope":
        scope = f" `{needed_scope}`" if needed_scope else ""
        return f"the app is missing the{scope} permission: reinstall it from deploy/slack-manifest.yaml"
    return _EXPLAINED.get(code, f"Slack refused it ({code})")


def error_code(exc: BaseException) -> str | None:
    """Slack's error code of a failed call (``not_in_channel``, ``http_503``), None for other failures."""
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error") or f"http_{exc.response.status_code}")
    return None


def reason(exc: Exception, channel: str | None = None, channel_name: str | None = None) -> str:
    """A short reason for a failed Slack call (API error, response_url refusal, network) in ``channel``."""
    if isinstance(exc, SlackApiError):
        return explain(str(error_code(exc)), exc.response.get("needed"), channel, channel_name)
    if isinstance(exc, DeliveryError):
        return str(exc)
    return f"Slack could not be reached ({type(exc).__name__})"


def failure_text(exc: Exception, channel: str | None = None, channel_name: str | None = None) -> str:
    """What to tell the asker when their answer could not be posted in ``channel``."""
    return f"I couldn't post the answer: {reason(exc, channel, channel_name)}."
