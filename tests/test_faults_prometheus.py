"""Prometheus that hangs (accepts the connection, never answers) or answers an HTML error page.

``codex-bot query`` (a real process), ``/codex`` through the served Slack app and the alert engine
must each say so in one clear sentence: no traceback, a non-zero exit for the CLI, alerts in
``error`` with one notice and no firing while it lasts.  (Connection refused and the client's own
error wording are covered in test_prometheus_client.py, test_query_cli.py and test_alert_lifecycle.py.)
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from itertools import pairwise
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fault_helpers import CannedServer, SilentServer
from prometheus_fleet import Fleet
from slack_emulator import BOT_TOKEN, ServedApp, SlackEmulator, blocks_of, build_bot
from slack_sdk import WebClient

from codex_bot.alerts.engine import AlertEngine
from codex_bot.alerts.loader import RuleSet
from codex_bot.alerts.routing import Routing
from codex_bot.alerts.rules import Rule
from codex_bot.delivery.console import blocks_to_text
from codex_bot.delivery.outbox import Backoff, Outbox
from codex_bot.metrics.client import PrometheusClient
from codex_bot.panels.cost import load_prices
from codex_bot.slack.slack_transport import SlackTransport
from codex_bot.store import Store

REPO = Path(__file__).resolve().parents[1]
TIMEOUT = 0.5
ERROR_PAGE = b"<html><body><h1>503 Service Unavailable</h1>No server is available to handle this request.</body></html>"


def hung() -> SilentServer:
    return SilentServer()


def html_503() -> CannedServer:
    return CannedServer(503, "text/html", ERROR_PAGE)


def html_200() -> CannedServer:
    return CannedServer(200, "text/html", b"<html><body>Sign in to continue</body></html>")


# how each broken Prometheus must be described
FAULTS: dict[str, tuple[Callable[[], SilentServer | CannedServer], str]] = {
    "hangs": (hung, f"did not answer .* within {TIMEOUT:g} s"),
    "503-html": (html_503, "answered HTTP 503 to .*503 Service Unavailable"),
    "200-html": (html_200, "did not answer .* like a Prometheus API"),
}


@pytest.fixture(params=list(FAULTS))
def broken(request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    """(URL of a broken Prometheus, regex of what must be said about it)."""
    make, said = FAULTS[request.param]
    with make() as server:
        yield server.url, said


def test_query_command_says_what_is_wrong_and_exits_1(broken, tmp_path):
    url, said = broken
    env = {k: v for k, v in os.environ.items() if not k.startswith("CODEX_BOT_")}
    env["CODEX_BOT_PROMETHEUS_TIMEOUT"] = str(TIMEOUT)
    done = subprocess.run(
        [sys.executable, "-m", "codex_bot", "query", "tokens", "7d", "--prometheus", url],
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1 and done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert lines[0].startswith("codex-bot: ") and url in lines[0] and re.search(said, lines[0]), lines[0]


def test_slash_command_answers_privately_what_is_wrong(broken):
    url, said = broken
    with SlackEmulator(channels=["alerts"]) as slack:
        app, _ = build_bot(slack, panels_only=True, prometheus_url=url, prometheus_timeout=TIMEOUT)
        served = ServedApp(app)
        try:
            assert served.command("tokens 7d", slack.response_url()).status_code == 200
            (answer,) = slack.wait_calls("response_url")
        finally:
            served.stop()
    text = blocks_to_text(blocks_of(answer.body)) + answer.body["text"]
    assert answer.body["response_type"] == "ephemeral"
    assert re.search(said, text), text
    assert "Something went wrong" not in text and "Traceback" not in text
    assert not slack.calls_to("chat.postMessage") and not slack.calls_to("files.getUploadURLExternal")


CHANNEL = "C0ALERTS"
RULE = Rule.model_validate(
    {
        "name": "someone-started",
        "figure": "conversations.conversations",
        "window": "1h",
        "condition": "above 0.5",
        "for": "4m",
        "repeat": "0",
    }
)


def first_grid_time_holding(fleet: Fleet) -> datetime:
    """The grid time at which RULE's condition starts to hold: right after a conversation start that came
    after more than an hour (and a step) without any."""
    quiet = timedelta(hours=1, seconds=2 * fleet.step_seconds)
    starts = sorted(e.time for e in fleet.events if e.name == "codex.conversation_starts")
    after = next(t for earlier, t in pairwise(starts) if t - earlier > quiet and t > fleet.start + quiet)
    return fleet.align(after) + timedelta(seconds=fleet.step_seconds)


@pytest.mark.prometheus
def test_alerts_go_to_error_with_one_notice_and_never_fire_while_prometheus_is_broken(broken, fleet: Fleet, tmp_path):
    """The rule is pending when Prometheus breaks; its ``for`` elapses during the outage, yet nothing fires."""
    url, said = broken
    with SlackEmulator(channels=["alerts"]) as slack:
        store = Store.open(tmp_path / "state.sqlite")
        outbox = Outbox(store, backoff=Backoff(first=0, cap=0))
        transport = SlackTransport(WebClient(token=BOT_TOKEN, base_url=slack.base_url, retry_handlers=[]))
        working = PrometheusClient(fleet.prometheus_url, timeout=10)
        step = timedelta(seconds=fleet.step_seconds)
        engine = AlertEngine(
            RuleSet(rules=[RULE], routing=Routing(default=CHANNEL)),
            working,
            load_prices(),
            store,
            outbox,
            ZoneInfo("UTC"),
            interval=step,
            transport=transport,
        )
        start = first_grid_time_holding(fleet)
        assert engine.run_cycle(start).evaluation.states[0].state == "pending"

        engine.client = PrometheusClient(url, timeout=TIMEOUT)
        outage = [engine.run_cycle(start + n * step) for n in range(1, 4)]  # 6 minutes > for: 4m
        engine.client.close()
        during = posted(slack)
        engine.client = working
        recovered = engine.run_cycle(start + 4 * step)
        after = posted(slack)[len(during) :]
        working.close()
        store.close()

    assert all([s.state for s in r.evaluation.states] == ["error"] for r in outage)
    (notice,) = during  # one notice for the whole outage, and no firing
    assert "Alert evaluation is failing" in notice.body["text"] and re.search(said, notice.body["text"])
    # once Prometheus answers: the alert fires (its condition really held all along) and the notice's thread says so
    assert recovered.evaluation.states[0].state == "firing"
    assert sorted(p.body["text"].split(" ")[1] for p in after) == ["Alert", "FIRING"]
    assert [p.body.get("thread_ts") for p in after if "works again" in p.body["text"]] == [notice.answer["ts"]]


def posted(slack: SlackEmulator) -> list:
    return [c for c in slack.calls_to("chat.postMessage") if c.answer.get("ok")]
