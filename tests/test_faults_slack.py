"""1,000 deliveries through the outbox while Slack answers 429 (Retry-After 0–1 s) or 5xx to 30 % of calls.

Afterwards Slack accepted every delivery exactly once: none lost, none repeated (counted in the
emulator, which deduplicates nothing), threads and edits on the right message, each chain in order.
Backoff waits run on an injected clock, so the test takes seconds.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest
from clocks import ManualClock
from fault_helpers import FlakySlack
from slack_emulator import BOT_TOKEN
from slack_sdk import WebClient

from codex_bot.delivery.message import Message
from codex_bot.delivery.outbox import Backoff, Outbox, Outgoing
from codex_bot.slack.slack_transport import SlackTransport
from codex_bot.store import Store

DELIVERIES = 1_000
CHAIN = ("post", "reply", "edit", "reply")  # one alert's life: message, thread reply, edit, another reply
SHARE = 0.30
CHANNEL = "C0ALERTS"


@pytest.fixture
def slack() -> Iterator[FlakySlack]:
    with FlakySlack(SHARE, ["chat.postMessage", "chat.update"], seed=7) as emulator:
        yield emulator


def enqueue_chains(outbox: Outbox) -> None:
    with outbox.store.transaction() as tx:
        for n in range(DELIVERIES // len(CHAIN)):
            root = f"c{n}:0"
            for i, kind in enumerate(CHAIN):
                message = Message(f"chain {n} step {i} {kind}")
                outbox.enqueue(
                    tx,
                    Outgoing(
                        f"c{n}:{i}",
                        CHANNEL,
                        message,
                        thread_of=root if kind == "reply" else None,
                        edit_of=root if kind == "edit" else None,
                    ),
                )


def drain(outbox: Outbox, transport: SlackTransport, clock: ManualClock) -> int:
    """Flush until nothing is pending, jumping the clock to the next due retry; returns the flushes made."""
    for flushes in range(1, 5_000):
        outbox.flush(transport, limit=DELIVERIES)
        if not outbox.pending_count():
            return flushes
        due = outbox.store.fetchone(
            "SELECT MIN(next_attempt_at) AS t FROM deliveries WHERE status = 'pending' AND next_attempt_at > :now",
            {"now": clock.now},
        )
        clock.now = due["t"] or clock.now
    raise AssertionError(f"{outbox.pending_count()} deliveries still pending")


def test_a_thousand_deliveries_with_30_percent_429_and_5xx_arrive_exactly_once(slack, state_target):
    clock = ManualClock(1_800_000_000.0)
    outbox = Outbox(Store.open(state_target), backoff=Backoff(first=0.5, cap=4), clock=clock)
    transport = SlackTransport(WebClient(token=BOT_TOKEN, base_url=slack.base_url, retry_handlers=[], timeout=10))
    enqueue_chains(outbox)

    drain(outbox, transport, clock)

    calls = [c for c in slack.calls if c.method in ("chat.postMessage", "chat.update")]
    accepted = [c for c in calls if c.status == 200 and c.answer.get("ok")]
    texts = Counter(c.body["text"] for c in accepted)
    expected = {f"chain {n} step {i} {kind}" for n in range(DELIVERIES // len(CHAIN)) for i, kind in enumerate(CHAIN)}
    failed = sum(slack.injected.values())
    print(
        f"\n{DELIVERIES} deliveries, {len(calls)} calls, {failed} answered 429/5xx ({failed / len(calls):.0%}; "
        f"{dict(slack.injected)}): {len(texts)} arrived, {len(expected - set(texts))} lost, "
        f"{sum(texts.values()) - len(texts)} duplicated"
    )
    assert 0.25 <= failed / len(calls) <= 0.35 and slack.injected[429] and slack.injected[503]
    assert set(texts) == expected and len(accepted) == DELIVERIES  # 0 lost, 0 duplicated
    assert_chains_intact(accepted)
    assert outbox.store.fetchone("SELECT COUNT(*) AS n FROM deliveries WHERE status != 'sent'")["n"] == 0


def assert_chains_intact(accepted: list) -> None:
    """Replies sit in their message's thread, edits change that message, each chain arrived in order."""
    ts_of = {
        c.body["text"].split(" step")[0]: c.answer["ts"]
        for c in accepted
        if c.method == "chat.postMessage" and not c.body.get("thread_ts")
    }
    order: dict[str, list[int]] = {}
    for call in accepted:
        chain, _, rest = call.body["text"].partition(" step ")
        step, kind = int(rest.split()[0]), rest.split()[1]
        order.setdefault(chain, []).append(step)
        if kind == "reply":
            assert call.body["thread_ts"] == ts_of[chain]
        if kind == "edit":
            assert call.method == "chat.update" and call.body["ts"] == ts_of[chain]
    assert all(steps == list(range(len(CHAIN))) for steps in order.values())
