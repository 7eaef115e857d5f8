"""Slack calls of the App Home: publish a view, upload a private chart for it, link to a posted message."""

from __future__ import annotations

import logging
from typing import Protocol

from slack_sdk import WebClient
from slack_sdk.models.views import View

from codex_bot.slack.slack_errors import reason
from codex_bot.slack.slack_transport import SLACK_FAILURES
from codex_bot.store import MessageRef

log = logging.getLogger(__name__)


class Surfaces(Protocol):
    """Where the App Home goes: Slack, or the console of the demo."""

    def publish_home(self, user_id: str, view: View) -> None: ...

    def upload_image(self, png: bytes, filename: str, title: str) -> str: ...

    def permalink(self, ref: MessageRef) -> str | None: ...


class SlackSurfaces:
    def __init__(self, client: WebClient) -> None:
        self.client = client

    def publish_home(self, user_id: str, view: View) -> None:
        """``views.publish`` the home tab of ``user_id`` (raises Slack's errors)."""
        self.client.views_publish(user_id=user_id, view=view)

    def upload_image(self, png: bytes, filename: str, title: str) -> str:
        """Upload ``png`` shared nowhere (only the app sees it), for an image block's ``slack_file``; its id."""
        done = self.client.files_upload_v2(file=png, filename=filename, title=title, alt_txt=title)
        return str(done["files"][0]["id"])

    def permalink(self, ref: MessageRef) -> str | None:
        """``chat.getPermalink`` of a posted message; None (logged) when Slack cannot give one."""
        try:
            return str(self.client.chat_getPermalink(channel=ref.channel, message_ts=ref.ts)["permalink"])
        except SLACK_FAILURES as exc:
            log.warning("no permalink for %s %s: %s", ref.channel, ref.ts, reason(exc))
            return None
