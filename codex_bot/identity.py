"""Which telemetry ``user`` label is the Slack user asking: their Slack e-mail under ``CODEX_BOT_USER_LABEL``.

- ``email``: the e-mail as is; ``hash``: the e-mail hashed with ``CODEX_BOT_USER_HASH_SALT`` (as ingest does);
- ``account_id``: the Codex account id from ``CODEX_BOT_USER_ACCOUNT_MAP``, a YAML mapping of Slack e-mail
  (or Slack user id) to account id, since Slack does not know Codex account ids;
- ``none``: there is no per-person data; the asker is told so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import yaml

from codex_bot.errors import UserError
from codex_bot.telemetry.labels import UserLabelRule, person_label


class Directory(Protocol):
    """Looks up a Slack user's e-mail address (None when their profile shows none), and lists the people
    (:class:`codex_bot.slack.people.SlackDirectory` over the Slack API)."""

    def email(self, user_id: str) -> str | None: ...

    def members(self) -> list[str]: ...


class NoPersonalData(UserError):
    """Per-person figures are off, or the asker's telemetry label cannot be found; the message says why."""


def load_accounts(path: Path | None) -> dict[str, str]:
    """``CODEX_BOT_USER_ACCOUNT_MAP``: ``{e-mail or Slack user id: account id}``; :class:`UserError` if unreadable."""
    if path is None:
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise UserError(f"cannot read CODEX_BOT_USER_ACCOUNT_MAP {path}: {exc}") from None
    if not isinstance(data, dict) or not all(isinstance(v, (str, int)) for v in data.values()):
        raise UserError(f"CODEX_BOT_USER_ACCOUNT_MAP {path} must map e-mails or Slack user ids to account ids")
    return {str(key).lower(): str(value) for key, value in data.items()}


@dataclass
class Identities:
    directory: Directory
    rule: UserLabelRule
    accounts: Mapping[str, str] = field(default_factory=dict)  # lower-cased e-mail or Slack user id → account id

    def label(self, user_id: str) -> str:
        """The asker's ``user`` label; :class:`NoPersonalData` explaining why there is none."""
        if self.rule.mode == "none":
            raise NoPersonalData(
                "Per-person usage is off here: telemetry is recorded without a user "
                "(CODEX_BOT_USER_LABEL=none), so I can only show team figures."
            )
        email = self.directory.email(user_id)
        account = self.accounts.get(user_id.lower()) or (self.accounts.get(email.lower()) if email else None)
        found = person_label(email, account, self.rule)
        if found is not None:
            return found
        if self.rule.mode == "account_id":
            raise NoPersonalData(
                "Telemetry names people by Codex account id, and CODEX_BOT_USER_ACCOUNT_MAP has "
                "none for you; an admin can add your Slack e-mail with your account id."
            )
        raise NoPersonalData(
            "Your Slack profile shows me no e-mail address, so I can't find your usage "
            "(the app needs the users:read.email scope)."
        )
