"""Slack failures explained in words a user or admin can act on."""

from __future__ import annotations

from slack_sdk.errors import SlackApiError, SlackClientError

from codex_bot.errors import UserError

_EXPLAINED: dict[str, str] = {
    "not_in_channel": "I'm not a member of this channel: invite me with `/invite @codex-bot`",
    "channel_not_found": "I can't see this conversation: invite me with `/invite @codex-bot`",
    "is_archived": "this channel is archived",
    "restricted_action": "a workspace setting stops me from posting here",
    "msg_too_long": "the message is too long for Slack",
    "invalid_blocks": "Slack rejected the message layout (a bug: please report it)",
    "ratelimited": "Slack is rate-limiting me; try again in a minute",
    "invalid_auth": "the bot token is not valid (check SLACK_BOT_TOKEN)",
    "not_authed": "no bot token was sent (check SLACK_BOT_TOKEN)",
    "token_revoked": "the bot token was revoked: reinstall the app",
    "account_inactive": "the bot token belongs to a deactivated app: reinstall it",
    "expired_url": "this command's reply link expired (30 minutes): run it again",
    "used_url": "this command's reply link was used up: run it again",
}


class DeliveryError(UserError):
    """A reply Slack did not take without a SlackApiError (a response_url answered non-200)."""


# What a transport raises when the text cannot go out (SlackApiError is a SlackClientError).
DELIVERY_FAILURES: tuple[type[Exception], ...] = (SlackClientError, OSError, DeliveryError)


def explain(code: str, needed_scope: str | None = None) -> str:
    """A phrase for Slack error ``code``; ``missing_scope`` names the scope to add."""
    if code == "missing_scope":
        scope = f" `{needed_scope}`" if needed_scope else ""
        return f"the app is missing the{scope} permission: reinstall it from deploy/slack-manifest.yaml"
    return _EXPLAINED.get(code, f"Slack refused it ({code})")


def reason(exc: Exception) -> str:
    """A short reason for a failed Slack call (API error, response_url refusal, network)."""
    if isinstance(exc, SlackApiError):
        response = exc.response
        code = response.get("error") or f"http_{response.status_code}"
        return explain(str(code), response.get("needed"))
    if isinstance(exc, DeliveryError):
        return str(exc)
    return f"Slack could not be reached ({type(exc).__name__})"


def failure_text(exc: Exception) -> str:
    """What to tell the asker when their answer could not be posted."""
    return f"I couldn't post the answer: {reason(exc)}."
