"""Label values from Codex event attributes: one function per label (the rules of the metric contract).

Every value is cleaned the same way: at most 128 characters, control characters replaced by "?".
Attributes absent or empty give ``"unknown"``.  Simulators computing ground truth call these too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from hashlib import sha256

from codex_bot.settings import Settings, UserLabelMode
from codex_bot.telemetry.contract import UNKNOWN
from codex_bot.telemetry.events import AttrValue

MAX_LABEL_CHARS = 128
ALL_USERS = "all"  # the user label in "none" mode (an empty label value would vanish in PromQL)
_CONTROL = {code: "?" for code in [*range(0x20), *range(0x7F, 0xA0)]}

Attributes = Mapping[str, AttrValue]


@dataclass(frozen=True)
class UserLabelRule:
    """How the personal ``user`` label is derived (settings ``CODEX_BOT_USER_LABEL`` / ``_USER_HASH_SALT``)."""

    mode: UserLabelMode = "email"
    salt: str = ""


def clean(value: str) -> str:
    """A label value: truncated to 128 characters, control characters replaced by "?"."""
    if len(value) <= MAX_LABEL_CHARS and value.isprintable():
        return value
    return value[:MAX_LABEL_CHARS].translate(_CONTROL)


def text(value: AttrValue) -> str:
    """An attribute as text: booleans as true/false, the rest as ``str``."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _first(attributes: Attributes, *keys: str) -> str | None:
    for key in keys:
        value = attributes.get(key)
        if value is not None and value != "":
            return text(value)
    return None


def _label(attributes: Attributes, *keys: str) -> str:
    value = _first(attributes, *keys)
    return UNKNOWN if value is None else clean(value)


def model_label(attributes: Attributes) -> str:
    """``model``, else ``slug``, else "unknown"."""
    return _label(attributes, "model", "slug")


def terminal_label(attributes: Attributes) -> str:
    return _label(attributes, "terminal.type")


def tool_label(attributes: Attributes) -> str:
    return _label(attributes, "tool_name")


def decision_label(attributes: Attributes) -> str:
    """``decision`` lower-cased (Codex 0.169 sends e.g. "approved")."""
    return _label(attributes, "decision").lower()


def source_label(attributes: Attributes) -> str:
    """``source`` lower-cased (Codex 0.169 sends "Config"; others send "config", "user", ...)."""
    return _label(attributes, "source").lower()


def success_label(attributes: Attributes) -> str:
    """ "true"/"false": the ``success`` attribute (bool or string, any case), else a 2xx status, else "false"."""
    success = attributes.get("success")
    if isinstance(success, bool):
        return "true" if success else "false"
    if isinstance(success, str) and success.lower() in ("true", "false"):
        return success.lower()
    status = attributes.get("http.response.status_code")
    if isinstance(status, str) and status.isdigit():
        status = int(status)
    return "true" if isinstance(status, int) and not isinstance(status, bool) and 200 <= status < 300 else "false"


def transport_label(event_name: str) -> str:
    """ "websocket" for ``codex.websocket_request``, "http" for ``codex.api_request``."""
    return "websocket" if event_name == "codex.websocket_request" else "http"


def user_identity(attributes: Attributes, resource: Attributes) -> str | None:
    """Event ``user.email``, else resource ``user.email``, else event ``user.account_id``; None if none."""
    found = _first(attributes, "user.email")
    if found is None:
        found = _first(resource, "user.email")
    return found if found is not None else _first(attributes, "user.account_id")


def user_label(attributes: Attributes, resource: Attributes, rule: UserLabelRule) -> str:
    """The ``user`` label under the configured mode (email, account_id, hash or none)."""
    if rule.mode == "none":
        return ALL_USERS
    if rule.mode == "account_id":
        return _label(attributes, "user.account_id")
    identity = user_identity(attributes, resource)
    if identity is None:
        return UNKNOWN
    return _salted_hash(rule.salt, identity) if rule.mode == "hash" else clean(identity)


@lru_cache(maxsize=65_536)
def _salted_hash(salt: str, identity: str) -> str:
    """sha256(salt + identity), first 16 hex digits: stable per person, not reversible without the salt."""
    return sha256((salt + identity).encode()).hexdigest()[:16]


def person_label(email: str | None, account_id: str | None, rule: UserLabelRule) -> str | None:
    """The ``user`` label ingest gives the events of the person with ``email`` / ``account_id`` (as a chat
    directory or an account mapping knows them), by the same rule as :func:`user_label`; None when the
    mode keeps no per-person label ("none") or the person's identity for the mode is unknown."""
    if rule.mode == "none":
        return None
    if rule.mode == "account_id":
        return clean(account_id) if account_id else None
    identity = email or account_id
    if not identity:
        return None
    return _salted_hash(rule.salt, identity) if rule.mode == "hash" else clean(identity)


def label_rule(settings: Settings) -> UserLabelRule:
    """How ingest labels users, and how the bot finds the asker's label (CODEX_BOT_USER_LABEL, the salt)."""
    return UserLabelRule(settings.user_label, settings.user_hash_salt.get_secret_value())
