"""/codex over real HTTP: signed slash commands to the served app, answers through the Slack emulator.

These tests need no Prometheus data: help, request errors, refusals, outages and Slack failures.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from loopback import InThread
from prometheus_fleet import free_port
from slack_emulator import SIGNING_SECRET, ServedApp, SlackEmulator, build_bot

from codex_bot.commands.deps import CommandDeps
from codex_bot.commands.invocation import Invocation
from codex_bot.commands.subcommand import Subcommand
from codex_bot.panels.catalog import PANELS
from codex_bot.slack.replies import notice


@pytest.fixture
def slack() -> Iterator[SlackEmulator]:
    with SlackEmulator() as emulator:
        yield emulator


@pytest.fixture
def bot(slack: SlackEmulator) -> Iterator[ServedApp]:
    """The bot with Prometheus and the chart renderer down (closed ports)."""
    app, _ = build_bot(
        slack,
        prometheus_url=f"http://127.0.0.1:{free_port()}",
        quickchart_url=f"http://127.0.0.1:{free_port()}",
        personal_data_users=["U0LEAD"],
    )
    served = ServedApp(app)
    yield served
    served.stop()


def answer_text(slack: SlackEmulator, name: str = "1") -> str:
    """The text and blocks of the private answer posted to ``slack.response_url(name)``, as one string."""
    path = slack.response_url(name).split(slack.root, 1)[1]
    calls = slack.wait_for(lambda: [c for c in slack.calls_to("response_url") if c.path == path])
    assert calls, f"no answer at {path}"
    call = calls[0]
    assert call.body["response_type"] == "ephemeral"
    return call.body["text"] + json.dumps(call.body["blocks"], ensure_ascii=False)


def test_help_lists_every_panel_from_the_catalog(slack: SlackEmulator, bot: ServedApp):
    response = bot.command("help", slack.response_url())
    assert response.status_code == 200 and response.text == ""
    text = answer_text(slack)
    assert all(f"`{panel.name}`" in text for panel in PANELS)
    assert "last week" in text and "model=" in text


def test_codex_alone_answers_with_help(slack: SlackEmulator, bot: ServedApp):
    bot.command("", slack.response_url())
    assert "Panels" in answer_text(slack)


@pytest.mark.parametrize("secret, age", [("forged-secret", 0), (SIGNING_SECRET, 6 * 60)])
def test_forged_or_stale_requests_get_401_and_no_answer(slack: SlackEmulator, bot: ServedApp, secret: str, age: int):
    response = bot.command("help", slack.response_url(), secret=secret, timestamp=int(time.time()) - age)
    assert response.status_code == 401
    time.sleep(0.3)
    assert not slack.calls_to("response_url")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("tokns 7d", "Did you mean tokens"),
        ("tokens 900d", "out of bounds"),
        ("tokens 7x", "I don't understand '7x'"),
        ("tokens fortnight", "I don't understand 'fortnight'"),
        ("tokens 7d colour=red", "its filters: model=, user="),
        ("tokens 7d 24h", "Two ranges given"),
    ],
)
def test_request_errors_are_answered_privately(slack: SlackEmulator, bot: ServedApp, text: str, expected: str):
    bot.command(text, slack.response_url())
    answer = answer_text(slack)
    assert expected in answer and "Traceback" not in answer
    assert not slack.calls_to("chat.postMessage")


def test_typed_text_cannot_mention_or_link(slack: SlackEmulator, bot: ServedApp):
    bot.command("<!channel> 7d", slack.response_url())
    answer = answer_text(slack)
    assert "&lt;!channel&gt;" in answer and "<!channel>" not in answer


def test_prometheus_down_is_said_plainly(slack: SlackEmulator, bot: ServedApp):
    bot.command("tokens 7d public", slack.response_url())
    answer = answer_text(slack)
    assert "Prometheus" in answer and "Traceback" not in answer and 'File "' not in answer
    assert not slack.calls_to("chat.postMessage"), "errors are answered privately, never posted"


class _SlowPrometheus(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        time.sleep(1.5)  # far beyond the bot's Prometheus timeout; the bot has hung up by then
        self.close_connection = True

    do_POST = do_GET

    def log_message(self, *args: object) -> None:
        pass


def test_slow_prometheus_is_said_plainly(slack: SlackEmulator):
    slow = ThreadingHTTPServer(("127.0.0.1", 0), _SlowPrometheus)
    slow.daemon_threads = True
    with InThread(slow, "slow-prometheus"):
        app, _ = build_bot(slack, prometheus_url=f"http://127.0.0.1:{slow.server_port}", prometheus_timeout=0.3)
        served = ServedApp(app)
        try:
            served.command("tokens 24h", slack.response_url())
            answer = answer_text(slack)
        finally:
            served.stop()
    assert "did not answer" in answer and "0.3 s" in answer, answer


def test_per_user_figures_are_refused_to_others(slack: SlackEmulator, bot: ServedApp):
    bot.command("users 7d", slack.response_url(), user_id="U0ALICE")
    bot.command("tokens 7d user=alice@example.com", slack.response_url("2"), user_id="U0ALICE")
    bot.command("users 7d public", slack.response_url("3"), user_id="U0LEAD")
    assert "personal data" in answer_text(slack, "1")
    assert "personal data" in answer_text(slack, "2")
    assert "can't be posted publicly" in answer_text(slack, "3")


def test_allowed_user_passes_the_access_check(slack: SlackEmulator, bot: ServedApp):
    bot.command("users 7d", slack.response_url(), user_id="U0LEAD")
    answer = answer_text(slack)
    assert "personal data" not in answer and "Prometheus" in answer  # got as far as querying


def echo(words: list[str], invocation: Invocation):
    return notice(f"{invocation.user_id} said {' '.join(words)}", ":speech_balloon:"), invocation.private()


def test_other_features_add_subcommands_listed_in_help_and_admin_checked(slack: SlackEmulator):
    app, deps = build_bot(slack, prometheus_url=f"http://127.0.0.1:{free_port()}", admin_users=["U0ADMIN"])
    deps.add(
        Subcommand("echo", "echo <words>", "says it back", echo),
        Subcommand("wipe", "wipe", "admins only", echo, admin_only=True),
    )
    served = ServedApp(app)
    try:
        served.command("help", slack.response_url("1"))
        served.command("echo hello there", slack.response_url("2"), user_id="U0ALICE")
        served.command("wipe now", slack.response_url("3"), user_id="U0ALICE")
        served.command("wipe now", slack.response_url("4"), user_id="U0ADMIN")
        answers = [answer_text(slack, str(n)) for n in range(1, 5)]
    finally:
        served.stop()
    assert "`/codex echo &lt;words&gt;`: says it back" in answers[0] and "admins only (admins)" in answers[0]
    assert "U0ALICE said hello there" in answers[1]
    assert "Only codex-bot admins can run `/codex wipe`" in answers[2]
    assert "U0ADMIN said now" in answers[3]


def test_a_subcommand_cannot_shadow_a_panel(slack: SlackEmulator):
    deps = CommandDeps(None, None, None, None)  # type: ignore[arg-type] - only the names matter here
    with pytest.raises(ValueError, match="already a panel"):
        deps.add(Subcommand(PANELS[0].aliases[0], "x", "x", echo))
