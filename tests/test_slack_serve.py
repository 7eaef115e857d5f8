"""``codex-bot serve`` as a process: HTTP mode on --listen and Socket Mode, against the Slack emulator."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests
from prometheus_fleet import free_port
from slack_emulator import (
    APP_TOKEN,
    BOT_TOKEN,
    SIGNING_SECRET,
    SlackEmulator,
    SocketModeEndpoint,
    signed_headers,
    slash_command_form,
    slash_command_payload,
)

from codex_bot.slack.serve import EVENTS_PATH


@contextmanager
def serve(args: list[str], env: dict[str, str], cwd: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``codex-bot serve ARGS`` with only the given Slack settings; stopped (SIGTERM) on exit."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "CODEX_BOT_"))}
    process = subprocess.Popen(
        [sys.executable, "-m", "codex_bot", "serve", *args],
        env={**clean, **env},
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        yield process
    finally:
        process.terminate()
        process.wait(timeout=10)


def wait_listening(port: int, process: subprocess.Popen[bytes], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stdout.read().decode() if process.stdout else "exited"
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError(f"nothing listens on {port}")


def test_http_mode_serves_signed_commands_on_the_given_address(tmp_path: Path):
    port = free_port()
    with SlackEmulator() as slack:
        env = {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "CODEX_BOT_SLACK_API_URL": slack.base_url,
            "CODEX_BOT_PROMETHEUS_URL": f"http://127.0.0.1:{free_port()}",
        }
        with serve(["--listen", f"127.0.0.1:{port}"], env, tmp_path) as process:
            wait_listening(port, process)
            body = slash_command_form("help", slack.response_url())
            url = f"http://127.0.0.1:{port}{EVENTS_PATH}"
            answered = requests.post(url, data=body, headers=signed_headers(SIGNING_SECRET, body), timeout=10)
            forged = requests.post(url, data=body, headers=signed_headers("wrong", body), timeout=10)
            answer = slack.wait_calls("response_url")[0]
        output = process.stdout.read().decode()
    assert answered.status_code == 200 and forged.status_code == 401
    assert process.returncode == 143 and "schedules stopped" in output  # SIGTERM stops it cleanly
    assert "Panels" in str(answer.body["blocks"])
    assert slack.calls_to("auth.test"), "the token is checked at start-up"


def test_socket_mode_is_chosen_when_an_app_token_is_set(tmp_path: Path):
    endpoint = SocketModeEndpoint().start()
    try:
        with SlackEmulator(ws_url=endpoint.url) as slack:
            env = {
                "SLACK_BOT_TOKEN": BOT_TOKEN,
                "SLACK_APP_TOKEN": APP_TOKEN,
                "CODEX_BOT_SLACK_API_URL": slack.base_url,
            }
            with serve([], env, tmp_path) as process:
                assert slack.wait_for(endpoint.connected, timeout=20), process.poll()
                endpoint.send(
                    {
                        "envelope_id": "env-1",
                        "type": "slash_commands",
                        "accepts_response_payload": True,
                        "payload": slash_command_payload("help", slack.response_url()),
                    }
                )
                answer = slack.wait_calls("response_url")[0]
            output = process.stdout.read().decode()  # once serve() has sent SIGTERM and the process ended
    finally:
        endpoint.stop()
    assert "Panels" in str(answer.body["blocks"])
    assert process.returncode == 143 and "schedules stopped" in output
    assert any(message.get("envelope_id") == "env-1" for message in endpoint.received)


def test_a_broken_digests_file_stops_the_digests_not_the_bot(tmp_path: Path):
    """The problem is logged with file:line, /codex still answers (and says why a named digest cannot run)."""
    port = free_port()
    digests = tmp_path / "digests.yaml"
    digests.write_text("digests:\n  - name: daily\n    chanel: '#eng'\n    schedule: '0 9 * * *'\n")
    with SlackEmulator() as slack:
        env = {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "CODEX_BOT_SLACK_API_URL": slack.base_url,
            "CODEX_BOT_PROMETHEUS_URL": f"http://127.0.0.1:{free_port()}",
            "CODEX_BOT_DIGESTS_FILE": str(digests),
            "CODEX_BOT_STATE_DB": str(tmp_path / "state.sqlite"),
        }
        with serve(["--listen", f"127.0.0.1:{port}"], env, tmp_path) as process:
            wait_listening(port, process)
            url = f"http://127.0.0.1:{port}{EVENTS_PATH}"
            for text, name in (("help", "help"), ("digest daily", "daily")):
                body = slash_command_form(text, slack.response_url(name))
                assert requests.post(url, data=body, headers=signed_headers(SIGNING_SECRET, body), timeout=10).ok
            answers = slack.wait_calls("response_url", count=2)
        output = process.stdout.read().decode()
    assert process.returncode is not None
    assert f"{digests}:3:" in output and "not scheduled" in output
    texts = {call.path.split("/")[-2]: str(call.body) for call in answers}
    assert "Panels" in texts["help"]
    assert f"{digests}:3:" in texts["daily"]
