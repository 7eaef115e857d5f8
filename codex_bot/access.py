"""Who may see per-user figures, and who may run admin actions.

Per-user figures (the ``users`` panel, any ``user=`` filter) are personal data.  They are shown
privately to the people in ``CODEX_BOT_PERSONAL_DATA_USERS`` anywhere, and to anyone in the
channels of ``CODEX_BOT_PERSONAL_DATA_CHANNELS`` (ids like ``C0123`` or names like ``#eng-leads``);
posting them publicly needs an allowed channel, since everyone there reads them.  Nobody is allowed
by default.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from codex_bot.errors import UserError
from codex_bot.panels.catalog import find_panel
from codex_bot.settings import Settings

PERSONAL_FILTERS = frozenset({"user"})


class AccessDenied(UserError):
    """The asker may not see this; the message says who can allow it."""


def is_personal(panel: str, filters: Mapping[str, str]) -> bool:
    """Whether answering ``panel`` with ``filters`` shows figures of individual people."""
    return find_panel(panel).personal or bool(PERSONAL_FILTERS & filters.keys())


def _channels(values: Iterable[str]) -> frozenset[str]:
    return frozenset(v.strip().lstrip("#").lower() for v in values if v.strip())


@dataclass(frozen=True)
class AccessPolicy:
    personal_data_channels: frozenset[str] = frozenset()  # ids or names, lower-case, no "#"
    personal_data_users: frozenset[str] = frozenset()
    admin_users: frozenset[str] = frozenset()

    @classmethod
    def from_settings(cls, settings: Settings) -> AccessPolicy:
        return cls(
            _channels(settings.personal_data_channels),
            frozenset(settings.personal_data_users),
            frozenset(settings.admin_users),
        )

    def _channel_allowed(self, channel_id: str, channel_name: str | None) -> bool:
        return bool({channel_id.lower(), (channel_name or "").lower()} & self.personal_data_channels)

    def channel_allowed(self, channel: str) -> bool:
        """Whether the channel (an id, or a name with or without ``#``) may show per-user figures."""
        return self._channel_allowed(channel.strip().lstrip("#"), None)

    def may_see_personal(self, user_id: str, channel_id: str, channel_name: str | None, public: bool) -> bool:
        """Whether ``user_id`` may see per-user figures here (publicly if asked)."""
        in_channel = self._channel_allowed(channel_id, channel_name)
        return in_channel or (not public and user_id in self.personal_data_users)

    def check_personal(self, user_id: str, channel_id: str, channel_name: str | None, public: bool) -> None:
        """Raise :class:`AccessDenied` unless ``user_id`` may see per-user figures here (publicly if asked)."""
        if self.may_see_personal(user_id, channel_id, channel_name, public):
            return
        if public and user_id in self.personal_data_users:
            raise AccessDenied(
                "Per-user figures can't be posted publicly in this channel. Leave out `public` to see them privately."
            )
        raise AccessDenied(
            "Per-user figures are personal data, and you can't see them here. An admin can allow this "
            "channel (CODEX_BOT_PERSONAL_DATA_CHANNELS) or you (CODEX_BOT_PERSONAL_DATA_USERS)."
        )

    def require_admin(self, user_id: str, action: str) -> None:
        """Raise :class:`AccessDenied` unless ``user_id`` is in ``CODEX_BOT_ADMIN_USERS``."""
        if user_id not in self.admin_users:
            raise AccessDenied(f"Only codex-bot admins can {action} (CODEX_BOT_ADMIN_USERS).")
