"""Two bot replicas over one state database (a SQLite file, or PostgreSQL as on two hosts) never post an
alert or a digest slot twice.

Two real processes run the alert scheduler (APScheduler, the cycle lease) at the same time against
the fleet's Prometheus; the first to hold the lease stops half-way and the other takes over.  The same
with the digest scheduler too, the first killed with SIGKILL in the middle of a cycle.  And a replica
whose cycle outlives its lease (a slow Prometheus) while the other takes the lease and evaluates too.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fault_helpers import DIGEST_CHANNEL, ForwardingProxy
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
    with SlackEmulator(channels=["alerts", "digests"]) as emulator:  # DIGEST_CHANNEL is #digests
        yield emulator


def rules_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "replicas.yaml").write_text(RULES)
    return folder


def firing_posts(slack: SlackEmulator) -> Counter[str]:
    """Firing messages Slack accepted, by their header (rule and group), with how often each came."""
    return Counter(
        blocks_of(c.body)[0]["text"]["text"]
        for c in slack.calls_to("chat.postMessage")
        if c.answer.get("ok") and "FIRING" in c.body["text"]
    )


def digest_posts(slack: SlackEmulator) -> Counter[str]:
    """Digest messages Slack accepted (their text names the slot), with how often each came."""
    return Counter(
        c.body["text"]
        for c in slack.calls_to("chat.postMessage")
        if c.answer.get("ok") and c.body["channel"] == DIGEST_CHANNEL
    )


def open_episodes(db: str) -> Counter[tuple[str, str]]:
    store = Store.open(db)
    try:
        return Counter(
            (r["rule"], r["group_key"]) for r in store.fetchall("SELECT rule, group_key FROM alert_episodes")
        )
    finally:
        store.close()


def replica(
    fleet: Fleet, slack: SlackEmulator, db: str, rules: Path, seconds: float, *extra: str
) -> subprocess.Popen[str]:
    """A bot process (``fault_helpers.py scheduler``) running the alert scheduler every 0.5 s for ``seconds``."""
    process = subprocess.Popen(
        [
            sys.executable,
            str(WORKER),
            "scheduler",
            db,
            str(rules),
            fleet.prometheus_url,
            slack.base_url,
            "--step",
            "0.5",
            "--seconds",
            str(seconds),
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None and process.stdout.readline() == "ready\n"
    return process


def test_two_scheduler_processes_post_each_alert_once_and_take_over(fleet: Fleet, slack, tmp_path, state_target):
    db, rules = state_target, rules_dir(tmp_path)

    # The first takes the lease at once and stops after 1 s, handing the lease over; the second, running
    # meanwhile, takes over at its next cycle (a holder that dies instead leaves it to lapse: 3 intervals).
    first = replica(fleet, slack, db, rules, 1)
    second = replica(fleet, slack, db, rules, 3)
    outputs = [p.communicate(timeout=60)[0] for p in (first, second)]
    assert all(
        p.returncode == 0 and out.rstrip().endswith("done") and "Traceback" not in out
        for p, out in zip((first, second), outputs, strict=True)
    ), outputs
    cycles = [int(out.split("cycles ")[1].split()[0]) for out in outputs]
    assert all(n >= 1 for n in cycles), cycles  # both evaluated: one before, one after the take-over

    episodes = open_episodes(db)
    posts = firing_posts(slack)
    print(f"\n2 replicas ({cycles} cycles each): {len(episodes)} alerts fired, {sum(posts.values())} firing posts")
    assert len(episodes) >= 5 and set(episodes.values()) == {1}  # one episode per rule and group
    assert len(posts) == len(episodes) and set(posts.values()) == {1}  # each posted exactly once


def test_a_replica_killed_mid_cycle_loses_and_repeats_no_alert_and_no_digest_slot(
    fleet: Fleet, slack, tmp_path, state_target
):
    """A holds the alert lease and is SIGKILLed in its third cycle, after recording states and before notifying;
    both run the digest scheduler on a clock where an hour passes every 3 s.  B takes the lease once it lapses."""
    db, rules = state_target, rules_dir(tmp_path)
    digests = ["--digests", str(time.time()), "1200"]
    killed = replica(fleet, slack, db, rules, 30, "--die-in-cycle", "3", *digests)
    survivor = replica(fleet, slack, db, rules, 10, *digests)
    killed_out = killed.communicate(timeout=60)[0]
    survivor_out = survivor.communicate(timeout=60)[0]
    assert killed.returncode == -signal.SIGKILL, killed_out
    assert survivor.returncode == 0 and survivor_out.rstrip().endswith("done") and "Traceback" not in survivor_out, (
        survivor_out
    )
    assert int(survivor_out.split("cycles ")[1].split()[0]) >= 1  # it took over the alert cycles

    episodes, posts = open_episodes(db), firing_posts(slack)
    assert len(episodes) >= 5 and set(episodes.values()) == {1}
    assert len(posts) == len(episodes) and set(posts.values()) == {1}  # incl. those the killed cycle recorded

    store = Store.open(db)
    try:
        ledger = store.fetchall("SELECT slot, status FROM digest_slots WHERE digest = 'hourly' ORDER BY slot")
    finally:
        store.close()
    queued = [row["slot"] for row in ledger if row["status"] == "queued"]
    posted = digest_posts(slack)
    print(
        f"\nkilled mid-cycle: {len(episodes)} alerts, {sum(posts.values())} firing posts; digest slots "
        f"{[row['status'] for row in ledger]}, {sum(posted.values())} digest posts"
    )
    assert len(queued) >= 2 and {row["status"] for row in ledger} == {"queued"}  # every slot posted, none skipped
    assert set(posted.values()) == {1} and len(posted) == len(queued)  # each exactly once


def test_a_cycle_that_outlives_its_lease_does_not_post_twice(fleet: Fleet, slack, tmp_path, state_target):
    """Replica A's Prometheus is slow, so its cycle outlasts the lease; B takes the lease and posts meanwhile."""
    db, rules = state_target, load_rules(rules_dir(tmp_path))
    interval = timedelta(seconds=0.4)  # the lease lasts 3 intervals: 1.2 s

    def replica(url: str) -> AlertScheduler:
        store = Store.open(db)
        outbox = Outbox(store, backoff=Backoff(first=0, cap=0))
        transport = SlackTransport(WebClient(token=BOT_TOKEN, base_url=slack.base_url, retry_handlers=[]))
        engine = AlertEngine(
            rules,
            PrometheusClient(url, timeout=10),
            load_prices(),
            store,
            outbox,
            ZoneInfo("UTC"),
            interval=interval,
            transport=transport,
        )
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
