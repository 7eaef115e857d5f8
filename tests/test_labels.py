"""Label-value rules: cleaning, fallbacks, success, and the four user-label modes."""

from __future__ import annotations

from hashlib import sha256

import pytest

from codex_bot.telemetry import labels
from codex_bot.telemetry.labels import UserLabelRule, user_label


def test_clean_truncates_and_replaces_control_characters() -> None:
    assert labels.clean("gpt-5.1-codex") == "gpt-5.1-codex"
    assert labels.clean("a\nb\tc\x00d\x7fe\x85") == "a?b?c?d?e?"
    assert labels.clean("x" * 300) == "x" * 128
    assert labels.clean("é" * 129 + "\n") == "é" * 128
    assert labels.clean("non\u00a0breaking") == "non\u00a0breaking"  # not a control character


def test_fallbacks_to_slug_and_unknown() -> None:
    assert labels.model_label({"model": "m", "slug": "s"}) == "m"
    assert labels.model_label({"model": "", "slug": "s"}) == "s"
    assert labels.model_label({}) == "unknown"
    assert labels.terminal_label({"terminal.type": "xterm-256color"}) == "xterm-256color"
    assert labels.terminal_label({}) == labels.tool_label({}) == "unknown"
    assert labels.tool_label({"tool_name": 7}) == "7"


def test_decision_and_source_are_lower_cased() -> None:
    assert labels.decision_label({"decision": "Approved_For_Session"}) == "approved_for_session"
    assert labels.source_label({"source": "Config"}) == "config"
    assert labels.source_label({}) == labels.decision_label({}) == "unknown"


@pytest.mark.parametrize(
    ("attributes", "expected"),
    [
        ({"success": True}, "true"),
        ({"success": False, "http.response.status_code": 200}, "false"),
        ({"success": "TRUE"}, "true"),
        ({"success": "false"}, "false"),
        ({"success": "maybe", "http.response.status_code": 204}, "true"),
        ({"http.response.status_code": 200}, "true"),
        ({"http.response.status_code": "201"}, "true"),
        ({"http.response.status_code": 429}, "false"),
        ({"http.response.status_code": "none"}, "false"),
        ({}, "false"),
    ],
)
def test_success(attributes: dict, expected: str) -> None:
    assert labels.success_label(attributes) == expected


def test_transport() -> None:
    assert labels.transport_label("codex.websocket_request") == "websocket"
    assert labels.transport_label("codex.api_request") == "http"


EVENT = {"user.email": "alice@corp.example", "user.account_id": "acct-1"}
RESOURCE = {"user.email": "from-resource@corp.example"}


def test_email_mode_lookup_order() -> None:
    rule = UserLabelRule("email")
    assert user_label(EVENT, RESOURCE, rule) == "alice@corp.example"
    assert user_label({"user.account_id": "acct-1"}, RESOURCE, rule) == "from-resource@corp.example"
    assert user_label({"user.account_id": "acct-1"}, {}, rule) == "acct-1"
    assert user_label({}, {}, rule) == "unknown"


def test_account_id_mode() -> None:
    rule = UserLabelRule("account_id")
    assert user_label(EVENT, RESOURCE, rule) == "acct-1"
    assert user_label({"user.email": "a@b"}, RESOURCE, rule) == "unknown"


def test_hash_mode_is_salted_sha256_of_the_email_mode_identity() -> None:
    rule = UserLabelRule("hash", salt="pepper")
    expected = sha256(b"pepperalice@corp.example").hexdigest()[:16]
    assert user_label(EVENT, RESOURCE, rule) == expected
    assert user_label({}, RESOURCE, rule) == sha256(b"pepperfrom-resource@corp.example").hexdigest()[:16]
    assert user_label({}, {}, rule) == "unknown"
    assert user_label(EVENT, {}, UserLabelRule("hash", salt="salt")) != expected


def test_none_mode_is_all() -> None:
    assert user_label(EVENT, RESOURCE, UserLabelRule("none")) == "all"
    assert user_label({}, {}, UserLabelRule("none")) == "all"


def test_user_label_is_cleaned() -> None:
    assert user_label({"user.email": "eve\n@x" + "y" * 200}, {}, UserLabelRule()) == "eve?@x" + "y" * 122
