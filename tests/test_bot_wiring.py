"""`codex-bot serve` assembles one bot: /codex answers panels, alerts, silences and digests over signed HTTP."""

from __future__ import annotations

from pathlib import Path

import pytest
from slack_emulator import BOT_TOKEN, SIGNING_SECRET, ServedApp, SlackEmulator, build_bot

from codex_bot.bot import assemble
from codex_bot.demo.prometheus import free_port
from codex_bot.settings import load_settings

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


def test_serve_shares_one_prometheus_client_store_outbox_and_scheduler(tmp_path):
    """The composition root builds each collaborator once: the alert loop, the budgets, the digest schedules,
    /codex and the App Home all use the same Prometheus client, store and outbox, on one APScheduler."""
    with SlackEmulator(channels=["eng-codex", "eng-leads", "codex-alerts"]) as slack:
        settings = load_settings(
            slack_bot_token=BOT_TOKEN,
            slack_signing_secret=SIGNING_SECRET,
            slack_api_url=slack.base_url,
            state_db=tmp_path / "state.sqlite",
            rules_dir=REPO / "rules",
            digests_file=REPO / "rules" / "digests.yaml",
            prometheus_url=f"http://127.0.0.1:{free_port()}",  # nothing answers: no cycle needs Prometheus here
            alert_interval_seconds=3600,
        )
        bot = assemble(settings, signing_secret=SIGNING_SECRET)
        bot.start_schedulers()
        try:
            alerts, digests = bot._alerts, bot._digests
            assert alerts is not None and digests is not None
            assert alerts.scheduler is digests.scheduler is bot._scheduler
            assert alerts.engine.client is bot.parts.client is bot.deps.panels.client
            assert alerts.outbox is bot.parts.outbox and digests.outbox is bot.parts.outbox
            assert alerts.engine.store is bot.parts.store is digests.store
            jobs = {job.id for job in bot._scheduler.get_jobs()}
            assert {"alerts-cycle", "alerts-deliver", "digest:daily-eng", "digest:weekly-leads"} <= jobs
        finally:
            bot.stop()
        assert bot._scheduler is None and not alerts.scheduler.running
