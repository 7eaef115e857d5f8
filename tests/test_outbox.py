"""The outbox against the Slack emulator: idempotent keys, retries until Slack takes it, order, edits, leases;
every test on SQLite and on PostgreSQL (``state_target``)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from clocks import ManualClock
from slack_emulator import BOT_TOKEN, SlackEmulator
from slack_sdk import WebClient

from codex_bot.delivery.message import ChartImage, Message
from codex_bot.delivery.outbox import Backoff, Outbox, Outgoing
from codex_bot.slack.slack_transport import SlackTransport
from codex_bot.store import Store

PNG = b"\x89PNG\r\n\x1a\n" + b"chart" * 40


@pytest.fixture
def slack() -> Iterator[SlackEmulator]:
    with SlackEmulator(channels=["alerts", "other", "gone"]) as emulator:
        yield emulator


def transport_to(url: str) -> SlackTransport:
    """No client-side retries: the outbox's own retries are under test."""
    return SlackTransport(WebClient(token=BOT_TOKEN, base_url=url, retry_handlers=[], timeout=3))


@pytest.fixture
def transport(slack: SlackEmulator) -> SlackTransport:
    return transport_to(slack.base_url)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(1_800_000_000.0)


@pytest.fixture
def outbox(state_target, clock) -> Outbox:
    return Outbox(Store.open(state_target), backoff=Backoff(first=2, cap=60), clock=clock)


def posts(slack: SlackEmulator, ok: bool = True) -> list:
    return [c for c in slack.calls_to("chat.postMessage") if (c.status == 200 and c.answer.get("ok")) == ok]


def test_a_key_is_delivered_once_even_when_enqueued_and_flushed_again(slack, transport, outbox):
    message = Message("hello", charts=[ChartImage(PNG, "c.png", "Chart", "a chart")])
    assert outbox.put(Outgoing("k1", "C0ALERTS", message)) is True
    assert outbox.put(Outgoing("k1", "C0ALERTS", Message("hello again"))) is False
    assert outbox.flush(transport).sent == ["k1"]
    assert outbox.flush(transport).sent == [] and outbox.pending_count() == 0
    assert len(posts(slack)) == 1 and list(slack.uploads.values()) == [PNG]
    assert outbox.store.message_ref("k1").ts == posts(slack)[0].answer["ts"]


@pytest.mark.parametrize("failure", ["server_error", "rate_limit", "slack_error"])
def test_transient_failures_are_retried_with_backoff_until_slack_takes_it(slack, transport, outbox, clock, failure):
    if failure == "server_error":
        slack.server_error("chat.postMessage", times=4, status=503)
    elif failure == "rate_limit":
        slack.rate_limit("chat.postMessage", times=4, retry_after=30)
    else:
        slack.fail("chat.postMessage", "internal_error", times=4)
    outbox.put(Outgoing("k", "C0ALERTS", Message("alert")))
    waits = []
    for _ in range(4):
        report = outbox.flush(transport)
        assert report.retrying == ["k"] and outbox.status("k") == "pending"
        row = outbox.store.fetchone("SELECT next_attempt_at FROM deliveries WHERE key = 'k'")
        waits.append(row["next_attempt_at"] - clock.now)
        assert outbox.flush(transport).waiting == 1  # not due yet: nothing is sent early
        clock.now = row["next_attempt_at"]
    assert outbox.flush(transport).sent == ["k"]
    assert len(posts(slack)) == 1 and len(posts(slack, ok=False)) == 4
    expected = [30.0] * 4 if failure == "rate_limit" else [2.0, 4.0, 8.0, 16.0]  # Retry-After wins when longer
    assert waits == expected


def test_network_failure_is_retried_and_a_restarted_process_delivers(state_target, slack, clock):
    path = state_target
    first = Outbox(Store.open(path), clock=clock)
    first.put(Outgoing("k", "C0ALERTS", Message("alert")))
    assert first.flush(transport_to("http://127.0.0.1:9/api/")).retrying == ["k"]  # nothing listens there
    first.store.close()
    clock.now += 3600
    second = Outbox(Store.open(path), clock=clock)  # a new process over the same database
    assert second.flush(transport_to(slack.base_url)).sent == ["k"]
    assert len(posts(slack)) == 1


def test_a_refused_message_fails_for_good_and_its_replies_go_out_on_their_own(slack, transport, outbox):
    slack.fail("chat.postMessage", "channel_not_found", times=1)
    outbox.put(Outgoing("root", "C0GONE", Message("alert")))
    outbox.put(Outgoing("root:edit", "C0GONE", Message("resolved"), edit_of="root"))
    outbox.put(Outgoing("root:reply", "C0ALERTS", Message("resolved reply"), thread_of="root"))
    report = outbox.flush(transport)
    assert report.failed == ["root"] and set(report.sent) == {"root:edit", "root:reply"}
    assert outbox.status("root") == "failed"
    assert slack.calls_to("chat.update") == []  # nothing to edit: the new version was posted instead
    assert [c.body.get("thread_ts") for c in posts(slack)] == [None, None]


def test_edits_and_replies_wait_for_their_message_and_keep_their_order(slack, transport, outbox, clock):
    slack.server_error("chat.postMessage", times=1)
    outbox.put(Outgoing("alert", "C0ALERTS", Message("firing")))
    outbox.put(Outgoing("alert:ack", "C0ALERTS", Message("acknowledged"), edit_of="alert"))
    outbox.put(Outgoing("alert:resolved", "C0ALERTS", Message("resolved"), edit_of="alert"))
    outbox.put(Outgoing("alert:reply", "C0ALERTS", Message("resolved after 1h"), thread_of="alert"))
    outbox.put(Outgoing("other", "C0OTHER", Message("another alert")))
    first = outbox.flush(transport)
    assert first.retrying == ["alert"] and first.sent == ["other"] and first.waiting == 3
    clock.now += 60
    assert outbox.flush(transport).sent == ["alert", "alert:ack", "alert:resolved", "alert:reply"]
    ts = outbox.store.message_ref("alert").ts
    assert [c.body["text"] for c in slack.calls_to("chat.update")] == ["acknowledged", "resolved"]
    assert all(c.body["ts"] == ts for c in slack.calls_to("chat.update"))
    assert posts(slack)[-1].body["thread_ts"] == ts


def test_two_processes_flushing_the_same_database_send_each_delivery_once(state_target, slack):
    path = state_target
    outboxes = [Outbox(Store.open(path)) for _ in range(2)]
    for i in range(40):
        outboxes[0].put(Outgoing(f"k{i}", "C0ALERTS", Message(f"alert {i}")))
    threads = [threading.Thread(target=o.flush, args=(transport_to(slack.base_url),)) for o in outboxes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    texts = [c.body["text"] for c in posts(slack)]
    assert sorted(texts) == sorted(f"alert {i}" for i in range(40))
    assert outboxes[1].pending_count() == 0
