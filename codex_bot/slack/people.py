"""Who a Slack user is: their e-mail from ``users.info`` (needs ``users:read`` and ``users:read.email``)."""

from __future__ import annotations

import threading

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from codex_bot.errors import UserError


class SlackDirectory:
    """A :class:`~codex_bot.identity.Directory` over ``users.info``; answers are cached (e-mails rarely change)."""

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
                raise UserError(
                    "I can't read Slack profiles yet: the app needs the users:read and "
                    "users:read.email scopes (reinstall it from deploy/slack-manifest.yaml)."
                ) from exc
            raise UserError(f"Slack did not tell me who you are ({error or exc}).") from exc
        return self._remember(user)

    def _remember(self, user: dict) -> str | None:
        found = (user.get("profile") or {}).get("email") or None
        with self._lock:
            self._emails[user["id"]] = found
        return found

    def members(self) -> list[str]:
        """Every person of the workspace (``users.list``, all pages; no bots, no deactivated accounts); their
        e-mails are remembered on the way."""
        people, cursor = [], None
        while True:
            page = self.client.users_list(cursor=cursor, limit=200)
            for user in page.get("members") or []:
                if not (user.get("deleted") or user.get("is_bot") or user.get("id") == "USLACKBOT"):
                    self._remember(user)
                    people.append(str(user["id"]))
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return people


class FixedDirectory:
    """A :class:`~codex_bot.identity.Directory` from a mapping (the demo's people, tests)."""

    def __init__(self, emails: dict[str, str]) -> None:
        self.emails = emails

    def email(self, user_id: str) -> str | None:
        return self.emails.get(user_id)

    def members(self) -> list[str]:
        return list(self.emails)
