"""Two bot replicas over one SQLite file never post an alert twice.

Two real processes run the alert scheduler (APScheduler, the cycle lease) at the same time against
the fleet's Prometheus; the first to hold the lease stops half-way and the other takes over.  And a replica whose cycle
outlives its lease (a slow Prometheus) while the other takes the lease and evaluates too.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fault_helpers import ForwardingProxy
from prometheus_fleet import Fleet
from slack_emulator import BOT_TOKEN, SlackEmulator, blocks_of
from slack_sdk import WebClient

from codex_bot.alerts.engine import AlertEngine
from codex_bot.alerts.loader import load_rules
from codex_bot.alerts.scheduler import AlertScheduler
from codex_bot.delivery.outbox import Backoff, Outbox
from codex_bot.metrics.client import PrometheusClient
from codex_bot.panels.cost import load_prices
from codex_bot.slack.slack_transport import SlackTransport
from codex_bot.store import Store

pytestmark = pytest.mark.prometheus

WORKER = Path(__file__).with_name("fault_helpers.py")
RULES = """routing: {default: C0ALERTS}
rules:
  - {name: active-user, figure: usage.total, group_by: [user], window: 7d, condition: above 0.5, for: 0, repeat: 0}
  - {name: active-model, figure: tokens.total, group_by: [model], window: 7d, condition: above 0.5, for: 0, repeat: 0}
"""


@pytest.fixture
def slack() -> Iterator[SlackEmulator]:
    with SlackEmulator() as emulator:
        yield emulator


def rules_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "replicas.yaml").write_text(RULES)
    return folder


def firing_posts(slack: SlackEmulator) -> Counter[str]:
    """Firing messages Slack accepted, by their header (rule and group), with how often each came."""
    return Counter(blocks_of(c.body)[0]["text"]["text"] for c in slack.calls_to("chat.postMessage")
                   if c.answer.get("ok") and "FIRING" in c.body["text"])


def open_episodes(db: Path) -> Counter[tuple[str, str]]:
    store = Store.open(db)
    try:
        return Counter((r["rule"], r["group_key"]) for r in store.fetchall("SELECT rule, group_key FROM alert_episodes"))
    finally:
        store.close()


def test_two_scheduler_processes_post_each_alert_once_and_take_over(fleet: Fleet, slack, tmp_path):
    db, rules = tmp_path / "state.sqlite", rules_dir(tmp_path)

    def replica(seconds: float) -> subprocess.Popen[str]:
        process = subprocess.Popen([sys.executable, str(WORKER), "scheduler", str(db), str(rules),
                                    fleet.prometheus_url, slack.base_url, "--step", "0.5", "--seconds", str(seconds)],
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert process.stdout is not None and process.stdout.readline() == "ready\n"
        return process

    # The first takes the lease at once and stops after 1 s, handing the lease over; the second, running
    # meanwhile, takes over at its next cycle (a holder that dies instead leaves it to lapse: 3 intervals).
    first = replica(1)
    second = replica(3)
    outputs = [p.communicate(timeout=60)[0] for p in (first, second)]
    assert all(p.returncode == 0 and out.rstrip().endswith("done") and "Traceback" not in out
               for p, out in zip((first, second), outputs, strict=True)), outputs
    cycles = [int(out.split("cycles ")[1].split()[0]) for out in outputs]
    assert all(n >= 1 for n in cycles), cycles  # both evaluated: one before, one after the take-over

    episodes = open_episodes(db)
    posts = firing_posts(slack)
    print(f"\n2 replicas ({cycles} cycles each): {len(episodes)} alerts fired, {sum(posts.values())} firing posts")
    assert len(episodes) >= 5 and set(episodes.values()) == {1}  # one episode per rule and group
    assert len(posts) == len(episodes) and set(posts.values()) == {1}  # each posted exactly once


def test_a_cycle_that_outlives_its_lease_does_not_post_twice(fleet: Fleet, slack, tmp_path):
    """Replica A's Prometheus is slow, so its cycle outlasts the lease; B takes the lease and posts meanwhile."""
    db, rules = tmp_path / "state.sqlite", load_rules(rules_dir(tmp_path))
    interval = timedelta(seconds=0.4)  # the lease lasts 3 intervals: 1.2 s

    def replica(url: str) -> AlertScheduler:
        store = Store.open(db)
        outbox = Outbox(store, backoff=Backoff(first=0, cap=0))
        transport = SlackTransport(WebClient(token=BOT_TOKEN, base_url=slack.base_url, retry_handlers=[]))
        engine = AlertEngine(rules, PrometheusClient(url, timeout=10), load_prices(), store, outbox, ZoneInfo("UTC"),
                             interval=interval, transport=transport)
        return AlertScheduler(engine, outbox, transport, interval)

    with ForwardingProxy(fleet.prometheus_url, delay=1.5) as slow:
        a, b = replica(slow.url), replica(fleet.prometheus_url)
        slow_cycle = threading.Thread(target=a.cycle)
        slow_cycle.start()
        threading.Event().wait(1.3)  # A holds the lease but is still waiting for Prometheus
        b.cycle()
        slow_cycle.join(30)
    for replica_ in (a, b):
        replica_.outbox.flush(replica_.transport)

    episodes = open_episodes(db)
    posts = firing_posts(slack)
    assert len(episodes) >= 5 and set(episodes.values()) == {1}
    assert len(posts) == len(episodes) and set(posts.values()) == {1}
