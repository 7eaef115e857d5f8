"""Who a Slack user is: their e-mail from ``users.info`` (needs ``users:read`` and ``users:read.email``)."""

from __future__ import annotations

import threading
from typing import Protocol

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from codex_bot.errors import UserError


class Directory(Protocol):
    """Looks up a Slack user's e-mail address (None when their profile shows none)."""

    def email(self, user_id: str) -> str | None: ...


class SlackDirectory:
    """A :class:`Directory` over ``users.info``; answers are cached (e-mails rarely change)."""

    def __init__(self, client: WebClient) -> None:
        self.client = client
        self._emails: dict[str, str | None] = {}
        self._lock = threading.Lock()

    def email(self, user_id: str) -> str | None:
        with self._lock:
            if user_id in self._emails:
                return self._emails[user_id]
        try:
            user = self.client.users_info(user=user_id)["user"]
        except SlackApiError as exc:
            error = exc.response.get("error", "")
            if error == "missing_scope":
                raise UserError("I can't read Slack profiles yet: the app needs the users:read and "
                                "users:read.email scopes (reinstall it from deploy/slack-manifest.yaml).") from exc
            raise UserError(f"Slack did not tell me who you are ({error or exc}).") from exc
        found = (user.get("profile") or {}).get("email") or None
        with self._lock:
            self._emails[user_id] = found
        return found


class FixedDirectory:
    """A :class:`Directory` from a mapping (the demo's people, tests)."""

    def __init__(self, emails: dict[str, str]) -> None:
        self.emails = emails

    def email(self, user_id: str) -> str | None:
        return self.emails.get(user_id)
