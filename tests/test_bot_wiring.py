"""`codex-bot serve` assembles one bot: /codex answers panels, alerts, silences and digests over signed HTTP."""

from __future__ import annotations

from pathlib import Path

import pytest
from slack_emulator import ServedApp, SlackEmulator, build_bot

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def served(tmp_path):
    with SlackEmulator() as slack:
        app, deps = build_bot(
            slack,
            state_db=tmp_path / "state.sqlite",
            rules_dir=REPO / "rules",
            digests_file=REPO / "rules" / "digests.yaml",
            admin_users=["U0ADMIN"],
        )
        server = ServedApp(app)
        yield slack, server, deps
        server.stop()


def _answer(slack: SlackEmulator, server: ServedApp, text: str, name: str, **fields: str) -> str:
    server.command(text, slack.response_url(name), **fields)
    path = slack.response_url(name).split(slack.root, 1)[1]
    calls = slack.wait_for(lambda: [c for c in slack.calls_to("response_url") if c.path == path])
    assert calls, f"no answer to /codex {text}"
    return calls[0].body["text"]


def test_every_subcommand_is_routed(served):
    _, _, deps = served
    assert {"alerts", "silence", "unsilence", "digest"} <= set(deps.subcommands)


def test_alerts_and_silences_answer_through_the_assembled_bot(served):
    slack, server, _ = served
    assert _answer(slack, server, "alerts", "a").startswith("Codex alerts: 0 firing, 0 pending, 0 silenced")
    refused = _answer(slack, server, "silence token-spike 1h", "b", user_id="U0ALICE")
    assert "admin" in refused.lower()
    granted = _answer(slack, server, "silence token-spike 1h", "c", user_id="U0ADMIN")
    assert "token-spike" in granted and "admin" not in granted.lower()
    assert "1 silenced" in _answer(slack, server, "alerts", "d")
