"""The bot's Slack WebClient: ``CODEX_BOT_SLACK_API_URL`` as base URL, and slack_sdk's retry handlers.

Slack calls are retried by slack_sdk's own handlers: HTTP 429 after its ``Retry-After``, 500/503,
and connection errors (with backoff).  The same handlers serve response_url posts.
"""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.http_retry import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    RetryHandler,
)
from slack_sdk.http_retry.builtin_handlers import ServerErrorRetryHandler

from codex_bot.settings import Settings

SLACK_TIMEOUT = 30  # seconds per Web API call
MAX_RETRIES = 3


class SlackSetupError(Exception):
    """Slack settings are missing or rejected; the message names what to set."""


def retry_handlers(max_retries: int = MAX_RETRIES) -> list[RetryHandler]:
    return [
        RateLimitErrorRetryHandler(max_retry_count=max_retries),
        ServerErrorRetryHandler(max_retry_count=max_retries),
        ConnectionErrorRetryHandler(max_retry_count=max_retries),
    ]


def api_base_url(url: str) -> str:
    """slack_sdk appends method names to the base URL, so it must end with a slash."""
    return url if url.endswith("/") else url + "/"


def build_web_client(settings: Settings) -> WebClient:
    """The bot's WebClient; raises :class:`SlackSetupError` without ``SLACK_BOT_TOKEN``."""
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else ""
    if not token:
        raise SlackSetupError("SLACK_BOT_TOKEN is not set: copy the app's Bot User OAuth Token (xoxb-…).")
    return WebClient(
        token=token,
        base_url=api_base_url(settings.slack_api_url),
        timeout=SLACK_TIMEOUT,
        retry_handlers=retry_handlers(),
    )
