"""Setting the Slack app up: the manifest, serve's mode and credentials, and who may see what."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import yaml
from slack_emulator import (
    BOT_TOKEN,
    MANIFEST,
    NEEDED_SCOPES,
    SlackEmulator,
    manifest_scopes,
)
from slack_sdk import WebClient

from codex_bot.access import AccessDenied, AccessPolicy, is_personal
from codex_bot.cli import main
from codex_bot.commands.invocation import COMMAND
from codex_bot.delivery.message import ChartImage, Destination, Message
from codex_bot.settings import load_settings
from codex_bot.slack.client import SlackSetupError, retry_handlers
from codex_bot.slack.serve import choose_mode, mode_credential, parse_listen
from codex_bot.slack.slack_transport import SlackTransport


def test_manifest_declares_the_command_socket_mode_and_every_needed_scope():
    manifest = yaml.safe_load(MANIFEST.read_text())
    assert [c["command"] for c in manifest["features"]["slash_commands"]] == [COMMAND]
    assert manifest["settings"]["socket_mode_enabled"] and manifest["settings"]["interactivity"]["is_enabled"]
    assert {"commands", "chat:write.public", *NEEDED_SCOPES.values()} <= manifest_scopes()


def test_a_missing_scope_keeps_the_answer_and_names_the_permission():
    with SlackEmulator(scopes=manifest_scopes() - {"im:write"}) as slack:
        transport = SlackTransport(WebClient(token=BOT_TOKEN, base_url=slack.base_url, retry_handlers=retry_handlers()))
        chart = ChartImage(b"\x89PNG\r\n\x1a\n", "c.png", "c", "c")
        to = Destination("C0GENERAL", "U0ALICE", ephemeral=True, response_url=slack.response_url())
        delivery = transport.send(Message("figures", charts=[chart]), to)
        reply = slack.calls_to("response_url")[0].body
    assert delivery.problems and "`im:write`" in str(reply["blocks"])


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path) -> Iterator[None]:
    """No Slack settings from the environment or a .env file."""
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "CODEX_BOT_SLACK_MODE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    yield


def test_mode_is_socket_when_an_app_token_is_set(clean_env):
    assert choose_mode(load_settings(slack_app_token="xapp-1")) == "socket"
    assert choose_mode(load_settings()) == "http"
    assert choose_mode(load_settings(slack_app_token="xapp-1", slack_mode="http")) == "http"


def test_each_mode_names_the_credential_it_lacks(clean_env):
    with pytest.raises(SlackSetupError, match="SLACK_APP_TOKEN"):
        mode_credential(load_settings(slack_app_token="xoxb-wrong-kind"), "socket")
    with pytest.raises(SlackSetupError, match="SLACK_SIGNING_SECRET"):
        mode_credential(load_settings(), "http")
    assert mode_credential(load_settings(slack_signing_secret="s3"), "http") == "s3"


@pytest.mark.parametrize("text, expected", [("127.0.0.1:3000", ("127.0.0.1", 3000)), ("[::1]:8080", ("::1", 8080))])
def test_listen_addresses(text: str, expected: tuple[str, int]):
    assert parse_listen(text) == expected


@pytest.mark.parametrize("bad", ["3000", "host:", "host:http", "host:70000"])
def test_bad_listen_addresses_are_refused(bad: str):
    with pytest.raises(SlackSetupError, match="HOST:PORT"):
        parse_listen(bad)


def test_serve_without_tokens_exits_with_a_clear_message(clean_env, capsys: pytest.CaptureFixture[str]):
    assert main(["serve", "--mode", "http"]) == 2
    assert "SLACK_SIGNING_SECRET" in capsys.readouterr().err
    assert main(["serve", "--mode", "socket"]) == 2
    assert "SLACK_APP_TOKEN" in capsys.readouterr().err


def test_serve_without_a_bot_token_names_it(clean_env, monkeypatch: pytest.MonkeyPatch, capsys):
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "s3")
    assert main(["serve"]) == 2
    assert "SLACK_BOT_TOKEN" in capsys.readouterr().err


def test_serve_with_a_rejected_token_says_so(clean_env, monkeypatch: pytest.MonkeyPatch, capsys):
    with SlackEmulator() as slack:
        slack.fail("auth.test", "invalid_auth")
        for name, value in {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": "s3",
            "CODEX_BOT_SLACK_API_URL": slack.base_url,
        }.items():
            monkeypatch.setenv(name, value)
        assert main(["serve"]) == 2
    assert "Slack rejected SLACK_BOT_TOKEN" in capsys.readouterr().err


POLICY = AccessPolicy(frozenset({"c0leads", "eng-leads"}), frozenset({"U0LEAD"}), frozenset({"U0ADMIN"}))


def test_personal_panels_and_filters_are_recognised():
    assert is_personal("users", {}) and is_personal("tokens", {"user": "a"}) and not is_personal("tokens", {})


@pytest.mark.parametrize(
    "user, channel, name, public",
    [
        ("U0LEAD", "C0RANDOM", "random", False),  # an allowed person, privately, anywhere
        ("U0ALICE", "C0LEADS", "leads", True),  # anyone in an allowed channel (by id), even publicly
        ("U0ALICE", "C0XYZ", "eng-leads", True),  # … or by name
    ],
)
def test_personal_data_is_shown_where_allowed(user: str, channel: str, name: str, public: bool):
    POLICY.check_personal(user, channel, name, public)


@pytest.mark.parametrize(
    "user, channel, public, message",
    [
        ("U0ALICE", "C0RANDOM", False, "personal data"),
        ("U0LEAD", "C0RANDOM", True, "can't be posted publicly"),
    ],
)
def test_personal_data_is_refused_elsewhere(user: str, channel: str, public: bool, message: str):
    with pytest.raises(AccessDenied, match=message):
        POLICY.check_personal(user, channel, "random", public)


def test_settings_build_the_policy_and_admins(clean_env):
    policy = AccessPolicy.from_settings(
        load_settings(personal_data_channels="#Eng-Leads, C0LEADS", admin_users="U0ADMIN")
    )
    assert policy.personal_data_channels == {"eng-leads", "c0leads"}
    policy.require_admin("U0ADMIN", "silence alerts")
    with pytest.raises(AccessDenied, match="Only codex-bot admins can silence alerts"):
        policy.require_admin("U0ALICE", "silence alerts")
