"""Socket Mode: the bot connects to a local websocket endpoint (as Slack's), acks envelopes and answers."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from prometheus_fleet import free_port
from slack_emulator import (
    APP_TOKEN,
    SlackEmulator,
    SocketModeEndpoint,
    build_bot,
    slash_command_payload,
)

from codex_bot.panels.catalog import PANELS
from codex_bot.slack.serve import socket_mode_handler


@pytest.fixture
def endpoint() -> Iterator[SocketModeEndpoint]:
    server = SocketModeEndpoint().start()
    yield server
    server.stop()


def test_slash_command_over_socket_mode_is_acked_and_answered(endpoint: SocketModeEndpoint):
    with SlackEmulator(ws_url=endpoint.url) as slack:
        app, _ = build_bot(slack, prometheus_url=f"http://127.0.0.1:{free_port()}")
        handler = socket_mode_handler(app, APP_TOKEN)
        handler.connect()
        try:
            assert slack.wait_for(endpoint.connected), "the bot did not open the websocket"
            for number, text in enumerate(("help", "tokns 7d"), start=1):
                endpoint.send(
                    {
                        "envelope_id": f"env-{number}",
                        "type": "slash_commands",
                        "accepts_response_payload": True,
                        "payload": slash_command_payload(text, slack.response_url(str(number))),
                    }
                )
            answers = slack.wait_calls("response_url", 2)
        finally:
            handler.close()

    opened = slack.calls_to("apps.connections.open")[0]
    assert opened.headers["authorization"] == f"Bearer {APP_TOKEN}"
    acked = {message["envelope_id"] for message in endpoint.received}
    assert {"env-1", "env-2"} <= acked
    by_path = {call.path.split("/")[3]: json.dumps(call.body) for call in answers}
    assert all(f"`{panel.name}`" in by_path["1"] for panel in PANELS)
    assert "Did you mean tokens" in by_path["2"]
