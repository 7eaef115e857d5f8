"""Digest scheduling: one post per slot across DST changes, restarts, missed slots and two replicas.

The slot logic runs on a controllable clock (no real waiting); the APScheduler wiring is checked
with its real job store in the state database.  Every test runs on SQLite and on PostgreSQL (``state_target``).  Posts go through the real outbox into the console transport, and
every test counts the messages that transport printed.
"""

from __future__ import annotations

import io
import logging
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from clocks import ManualClock

from codex_bot.delivery.console import ConsoleTransport
from codex_bot.delivery.message import Message
from codex_bot.delivery.outbox import Outbox
from codex_bot.digests.definitions import DigestDefinition
from codex_bot.digests.layout import DigestMessages
from codex_bot.digests.schedule import DigestScheduler, slot_key
from codex_bot.digests.slots import next_slot
from codex_bot.store import Store

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def local(year: int, month: int, day: int, hour: int, minute: int = 0, tz: ZoneInfo = BERLIN) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=tz).astimezone(UTC)


def compose(digest: DigestDefinition, slot: datetime) -> DigestMessages:
    """Stands in for the real composer (tested against Prometheus elsewhere): names the slot it was asked for."""
    return DigestMessages(Message(f"{digest.name} @ {slot.isoformat()}"), [Message(f"details {digest.name}")])


class Bot:
    """One bot process: its own Store connection on the shared state file, outbox, console transport."""

    def __init__(self, state: str, digests: list[DigestDefinition], clock: ManualClock, composer=compose) -> None:
        self.out = io.StringIO()
        self.store = Store.open(state)
        self.transport = ConsoleTransport(Path(tempfile.gettempdir()) / "charts", out=self.out)  # no charts here
        self.digests = DigestScheduler(digests, composer, self.store, Outbox(self.store), self.transport, clock=clock)

    def posts(self) -> list[str]:
        """The main messages this process printed (thread replies excluded)."""
        lines = self.out.getvalue().splitlines()
        return [lines[i + 1] for i, line in enumerate(lines) if line.startswith("── message") and "thread" not in line]


def daily(
    name: str = "daily",
    schedule: str = "0 9 * * *",
    tz: str = "Europe/Berlin",
    grace: str = "3h",
    channel: str = "#eng",
) -> DigestDefinition:
    return DigestDefinition(name=name, channel=channel, schedule=schedule, timezone=tz, grace=grace)


def run_every(bot: Bot, clock: ManualClock, until: datetime, minutes: int = 10) -> None:
    while clock.now < until:
        clock.advance(minutes=minutes)
        bot.digests.run_due()


def posted_slots(bot: Bot, name: str = "daily") -> list[datetime]:
    return [slot for slot, status in bot.digests.ledger.history(name) if status == "queued"]


@pytest.mark.parametrize(
    ("start", "days", "expected_utc_hours"),
    [
        (local(2027, 3, 25, 12), 6, [8, 8, 7, 7, 7, 7]),  # spring forward on Sunday 2027-03-28
        (local(2026, 10, 22, 12), 6, [7, 7, 8, 8, 8, 8]),  # fall back on Sunday 2026-10-25
    ],
)
def test_daily_digest_stays_at_nine_local_across_dst(state_target, start, days, expected_utc_hours):
    clock = ManualClock(start)
    bot = Bot(state_target, [daily()], clock)
    bot.digests.run_due()  # first start: the digest becomes known, nothing is "missed"
    run_every(bot, clock, start + timedelta(days=days))
    slots = posted_slots(bot)
    assert [s.astimezone(BERLIN).strftime("%H:%M") for s in slots] == ["09:00"] * days
    assert [s.hour for s in slots] == expected_utc_hours
    assert len({s.astimezone(BERLIN).date() for s in slots}) == days
    assert bot.posts() == [f"daily @ {s.isoformat()}" for s in slots]


@pytest.mark.parametrize("start", [local(2026, 10, 24, 12), local(2027, 3, 27, 12)])
def test_a_slot_in_the_dst_hour_is_posted_once(state_target, start):
    """02:30 happens twice at fall-back (APScheduler fires at both) and never at spring-forward."""
    clock = ManualClock(start)
    bot = Bot(state_target, [daily(schedule="30 2 * * *")], clock)
    bot.digests.run_due()
    run_every(bot, clock, start + timedelta(days=2), minutes=5)
    slots = posted_slots(bot)
    assert len(slots) == 2 and len(bot.posts()) == 2
    assert slots[1] - slots[0] in (timedelta(hours=23), timedelta(hours=24), timedelta(hours=25))


def test_restart_does_not_post_a_slot_again(state_target):
    state = state_target
    clock = ManualClock(local(2026, 11, 24, 8, 50))
    first = Bot(state, [daily()], clock)
    first.digests.run_due()
    clock.advance(minutes=11)
    assert [o.status for o in first.digests.run_due()] == ["queued"]
    first.store.close()

    second = Bot(state, [daily()], clock)  # restarted a minute later, same slot still latest
    clock.advance(minutes=1)
    assert [o.status for o in second.digests.run_due()] == ["taken"]
    run_every(second, clock, local(2026, 11, 25, 9, 30))
    assert len(first.posts()) == 1
    assert second.posts() == [f"daily @ {local(2026, 11, 25, 9).isoformat()}"]


def test_a_slot_missed_while_down_is_posted_once_on_start_within_grace(state_target):
    state = state_target
    clock = ManualClock(local(2026, 11, 24, 8))
    Bot(state, [daily()], clock).digests.run_due()  # ran before, then went down before 09:00
    clock.now = local(2026, 11, 24, 10, 30)  # back 1.5 h after the slot (grace 3 h)
    bot = Bot(state, [daily()], clock)
    assert [o.status for o in bot.digests.run_due()] == ["queued"]
    clock.advance(minutes=5)
    assert [o.status for o in bot.digests.run_due()] == ["taken"]
    assert bot.posts() == [f"daily @ {local(2026, 11, 24, 9).isoformat()}"]


def test_a_slot_missed_beyond_grace_is_skipped_and_logged(state_target, caplog):
    state = state_target
    clock = ManualClock(local(2026, 11, 24, 8))
    Bot(state, [daily()], clock).digests.run_due()
    clock.now = local(2026, 11, 24, 12, 30)  # 3.5 h late
    bot = Bot(state, [daily()], clock)
    with caplog.at_level(logging.WARNING, logger="codex_bot.digests.schedule"):
        (outcome,) = bot.digests.run_due()
    assert outcome.status == "skipped" and "grace" in outcome.detail
    assert any("skipped" in r.message and "daily" in r.message for r in caplog.records)
    assert bot.posts() == []
    run_every(bot, clock, local(2026, 11, 25, 9, 5))  # the next slot goes out as usual
    assert bot.posts() == [f"daily @ {local(2026, 11, 25, 9).isoformat()}"]


def test_after_days_down_only_the_latest_slot_is_posted(state_target):
    state = state_target
    clock = ManualClock(local(2026, 11, 20, 8))
    Bot(state, [daily()], clock).digests.run_due()
    clock.now = local(2026, 11, 24, 9, 20)
    bot = Bot(state, [daily()], clock)
    bot.digests.run_due()
    history = bot.digests.ledger.history("daily")
    assert [status for _, status in history] == ["skipped"] * 4 + ["queued"]
    assert len(bot.posts()) == 1


def test_a_new_digest_does_not_post_the_slot_before_it_existed(state_target):
    clock = ManualClock(local(2026, 11, 24, 9, 30))
    bot = Bot(state_target, [daily()], clock)
    assert [o.status for o in bot.digests.run_due()] == ["none"]
    assert bot.posts() == []


def test_a_crash_while_composing_is_retaken_after_the_lease_only(state_target):
    state = state_target
    clock = ManualClock(local(2026, 11, 24, 8))
    crashed = Bot(state, [daily()], clock)
    crashed.digests.run_due()
    clock.now = local(2026, 11, 24, 9, 1)
    assert crashed.digests.ledger.claim("daily", local(2026, 11, 24, 9), clock.now)  # then the process died
    restarted = Bot(state, [daily()], clock)
    clock.advance(minutes=2)
    assert [o.status for o in restarted.digests.run_due()] == ["taken"]  # the lease (10 min) still holds
    clock.advance(minutes=10)
    assert [o.status for o in restarted.digests.run_due()] == ["queued"]
    assert len(restarted.posts()) == 1 and crashed.posts() == []


def test_a_failed_compose_is_retried_by_the_next_tick(state_target):
    calls = []

    def flaky(digest, slot):
        calls.append(slot)
        if len(calls) == 1:
            raise ConnectionError("Prometheus is down")
        return compose(digest, slot)

    clock = ManualClock(local(2026, 11, 24, 8))
    bot = Bot(state_target, [daily()], clock, composer=flaky)
    bot.digests.run_due()
    clock.now = local(2026, 11, 24, 9)
    assert [o.status for o in bot.digests.run_due()] == ["failed"]
    clock.advance(minutes=5)
    assert [o.status for o in bot.digests.run_due()] == ["queued"]
    assert len(bot.posts()) == 1 and calls == [local(2026, 11, 24, 9)] * 2


def test_two_replicas_post_each_slot_once(state_target):
    state = state_target
    clock = ManualClock(local(2026, 11, 24, 8))
    replicas = [Bot(state, [daily()], clock) for _ in range(2)]
    replicas[0].digests.run_due()
    clock.now = local(2026, 11, 24, 9)
    barrier = threading.Barrier(2)

    def run(bot: Bot) -> None:
        barrier.wait()
        bot.digests.run_due()

    threads = [threading.Thread(target=run, args=(bot,)) for bot in replicas]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(len(bot.posts()) for bot in replicas) == 1


def test_several_digests_channels_and_timezones(state_target):
    digests = [
        daily("berlin", tz="Europe/Berlin", channel="#de"),
        daily("new-york", tz="America/New_York", channel="#us"),
        DigestDefinition(name="weekly", channel="#leads", schedule="0 8 * * MON", timezone="Asia/Tokyo"),
    ]
    clock = ManualClock(local(2026, 11, 22, 0))
    bot = Bot(state_target, digests, clock)
    bot.digests.run_due()
    run_every(bot, clock, local(2026, 11, 24, 0))
    assert [s.astimezone(NEW_YORK).strftime("%a %H:%M") for s in posted_slots(bot, "new-york")] == [
        "Sun 09:00",
        "Mon 09:00",
    ]
    assert [s.astimezone(BERLIN).strftime("%a %H:%M") for s in posted_slots(bot, "berlin")] == [
        "Sun 09:00",
        "Mon 09:00",
    ]
    assert [s.astimezone(ZoneInfo("Asia/Tokyo")).strftime("%a %H:%M") for s in posted_slots(bot, "weekly")] == [
        "Mon 08:00"
    ]
    out = bot.out.getvalue()
    assert out.count("→ #de ──") == 2 and out.count("→ #us ──") == 2 and out.count("→ #leads ──") == 1
    assert out.count("→ #de thread") == 2 and out.count("→ #us thread") == 2 and out.count("→ #leads thread") == 1


# --- APScheduler with its SQLite job store ----------------------------------------------------------------


def wait_for(predicate, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_jobs_persist_and_are_replaced_at_start(state_target):
    state = state_target
    clock = ManualClock(datetime.now(UTC))
    first = Bot(state, [daily(), daily("gone", schedule="0 7 * * *")], clock)
    scheduler = first.digests.start()  # jobs in the state database
    jobs = {job.id: job for job in scheduler.get_jobs("digests")}
    assert set(jobs) == {"digest:daily", "digest:gone", "digests-tick"}
    assert jobs["digest:daily"].next_run_time == next_slot(daily().trigger, datetime.now(UTC))
    assert str(jobs["digest:daily"].trigger.timezone) == "Europe/Berlin"
    first.digests.shutdown()

    moved = daily(schedule="30 10 * * *", tz="America/New_York", grace="1h")
    second = Bot(state, [moved], clock)
    scheduler = second.digests.start()
    jobs = {job.id: job for job in scheduler.get_jobs("digests")}
    try:
        assert set(jobs) == {"digest:daily", "digests-tick"}  # "gone" was removed from the store
        assert jobs["digest:daily"].next_run_time == next_slot(moved.trigger, datetime.now(UTC))
        assert jobs["digest:daily"].misfire_grace_time == 3600  # new settings reach the stored job
    finally:
        second.digests.shutdown()


def test_a_cron_job_fire_posts_through_the_ledger(state_target):
    """The stored job calls the textual reference codex_bot.digests.schedule:fire, which runs the slot."""
    state = state_target
    clock = ManualClock(local(2026, 11, 24, 8))
    bot = Bot(state, [daily()], clock)
    bot.digests.run_due()
    clock.now = local(2026, 11, 24, 8, 59)
    started = datetime.now(UTC)
    scheduler = bot.digests.start()
    try:
        # the catch-up tick runs at start (nothing due at 08:59) and is then rescheduled
        assert wait_for(
            lambda: scheduler.get_job("digests-tick", "digests").next_run_time > started + timedelta(seconds=60)
        )
        assert bot.posts() == []
        clock.now = local(2026, 11, 24, 9) + timedelta(seconds=30)
        scheduler.modify_job("digest:daily", "digests", next_run_time=datetime.now(UTC))
        assert wait_for(lambda: bot.digests.ledger.status("daily", local(2026, 11, 24, 9)) == "queued")
        assert wait_for(lambda: len(bot.posts()) == 1)
        assert bot.digests.outbox.status(slot_key("daily", local(2026, 11, 24, 9))) == "sent"
    finally:
        bot.digests.shutdown()
    assert len(bot.posts()) == 1
