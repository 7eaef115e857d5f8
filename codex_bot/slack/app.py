"""The Bolt app: the bot's WebClient plus every listener (registered from codex_bot.slack.listeners)."""

from __future__ import annotations

from slack_bolt import App
from slack_bolt.error import BoltError
from slack_sdk import WebClient

from codex_bot.slack.client import SlackSetupError
from codex_bot.slack.listeners import Services, register


def build_app(
    client: WebClient, services: Services, *, signing_secret: str | None = None, verify_token: bool = True
) -> App:
    """The Bolt app; ``verify_token`` calls auth.test now, so a bad token fails at start-up.

    ``signing_secret`` verifies HTTP-mode requests (Socket Mode needs none).  Raises
    :class:`SlackSetupError` when Slack rejects the token or cannot be reached.
    """
    try:
        app = App(
            name="codex-bot",
            client=client,
            signing_secret=signing_secret or "",
            token_verification_enabled=verify_token,
            process_before_response=True,  # ack in the request; answers run as lazy listeners
        )
    except BoltError as exc:
        raise SlackSetupError(f"Slack rejected SLACK_BOT_TOKEN ({exc}); copy the app's Bot User OAuth Token.") from exc
    except OSError as exc:
        raise SlackSetupError(
            f"cannot reach Slack at {client.base_url} ({exc}); check CODEX_BOT_SLACK_API_URL."
        ) from exc
    register(app, services)
    return app
