"""Posting digests on their schedules, exactly once per slot, across restarts and bot replicas.

APScheduler (3.x, jobs persisted in the state database with ``SQLAlchemyJobStore``) fires one cron job per
digest in the digest's timezone, plus a periodic *tick* that catches up.  Both call
:meth:`DigestScheduler.run_due`, which for each digest:

1. finds the latest slot at or before now (``slots.latest_slot``; DST-correct, one slot per wall time);
2. skips it, logged, when it is later than the digest's ``grace`` (a slot missed while the bot was
   down is posted on start only within the grace period); older unposted slots are skipped as
   superseded (never a burst of stale digests);
3. claims it in the :class:`~codex_bot.digests.ledger.SlotLedger` *before* composing, so a second
   trigger, a restart or another replica finds it taken;
4. composes it, then in one transaction puts its messages in the outbox (idempotency key per slot)
   and marks the slot queued; the outbox sends with retry.

Jobs are re-added with ``replace_existing=True`` at every start, so schedule, timezone and grace
changes apply to stored jobs (APScheduler keeps the settings a job was stored with).  The slot
logic never reads the wall clock itself: it takes ``clock``, so tests drive it across DST changes
and restarts without waiting.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from sqlalchemy import Engine

from codex_bot.clock import Clock, utc_now
from codex_bot.delivery.outbox import Outbox, Outgoing, Transport
from codex_bot.digests.definitions import DigestDefinition
from codex_bot.digests.layout import DigestMessages
from codex_bot.digests.ledger import QUEUED, SKIPPED, SlotLedger
from codex_bot.digests.slots import latest_slot, slots_between
from codex_bot.store import Store, Tx, add_migration

log = logging.getLogger(__name__)

# APScheduler's SQLAlchemyJobStore table, made here (its own CREATE at start would race when replicas start
# together on PostgreSQL); IF NOT EXISTS: older SQLite files have it from APScheduler already.
add_migration(
    "digests/002-job-store",
    """CREATE TABLE IF NOT EXISTS apscheduler_jobs (
        id VARCHAR(191) NOT NULL PRIMARY KEY,
        next_run_time {real},
        job_state {blob} NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS ix_apscheduler_jobs_next_run_time ON apscheduler_jobs (next_run_time)",
)

JOB_PREFIX = "digest:"
TICK_JOB = "digests-tick"
MAX_SKIP_SCAN = timedelta(days=31)  # how far back unposted slots are looked for (to log them as skipped)

Composer = Callable[[DigestDefinition, datetime], DigestMessages]  # (digest, slot) → its messages
# (each-user digest, slot) → (user id, their messages) for everyone who gets it
PersonalComposer = Callable[[DigestDefinition, datetime], list[tuple[str, DigestMessages]]]
Status = Literal["queued", "taken", "skipped", "failed", "none"]


@dataclass(frozen=True)
class SlotOutcome:
    digest: str
    slot: datetime | None
    status: Status  # queued: posted now; taken: already handled; skipped: too late; failed: compose failed
    detail: str = ""


def slot_key(digest: str, slot: datetime) -> str:
    """The outbox idempotency key of a slot's main message: ``digest:daily-eng:2026-11-25T08:00:00Z``."""
    return f"{JOB_PREFIX}{digest}:{slot.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}"


def enqueue_digest(
    outbox: Outbox, tx: Tx, channel: str, key: str, messages: DigestMessages, *, report: bool = True
) -> bool:
    """Put the main message and its thread replies in the outbox (caller's transaction); False if known.
    ``report``: tell the admins if Slack refuses it for good (False when an asker is told directly)."""
    fresh = outbox.enqueue(tx, Outgoing(key, channel, messages.main, report=report))
    for index, reply in enumerate(messages.thread, start=1):
        outbox.enqueue(tx, Outgoing(f"{key}:thread:{index}", channel, reply, thread_of=key, report=report))
    return fresh


class DigestScheduler:
    """Runs the digests' slots; :meth:`start` wires them into APScheduler."""

    def __init__(
        self,
        digests: Sequence[DigestDefinition],
        compose: Composer,
        store: Store,
        outbox: Outbox,
        transport: Transport | None = None,
        *,
        clock: Clock = utc_now,
        tick_seconds: int = 300,
        personal: PersonalComposer | None = None,
    ) -> None:
        self.digests = {d.name: d for d in digests}
        self.compose = compose
        self.personal = personal
        self.store = store
        self.outbox = outbox
        self.transport = transport
        self.clock = clock
        self.tick_seconds = tick_seconds
        self.ledger = SlotLedger(store)
        self.scheduler: BaseScheduler | None = None
        self._owns_scheduler = True

    # --- the slot logic (no wall clock, no APScheduler) ---

    def run_due(self, names: Sequence[str] | None = None) -> list[SlotOutcome]:
        """Handle the latest slot of each digest (all, or ``names``), then send what the outbox holds."""
        now = self.clock()
        outcomes = [self._run_digest(self.digests[name], now) for name in (names or list(self.digests))]
        if self.transport is not None and any(o.status == "queued" for o in outcomes):
            self.outbox.flush(self.transport)
        return outcomes

    def _run_digest(self, digest: DigestDefinition, now: datetime) -> SlotOutcome:
        known_since = self.ledger.known_since(digest.name, now)
        slot = latest_slot(digest.trigger, now)
        if slot is None or slot <= known_since:
            return SlotOutcome(digest.name, slot, "none", "no slot since the digest was first scheduled")
        self._skip_superseded(digest, known_since, slot, now)
        handled = self.ledger.status(digest.name, slot)
        if handled in (QUEUED, SKIPPED):
            return SlotOutcome(digest.name, slot, "taken", handled)
        late = now - slot
        if late > digest.grace:
            reason = f"missed by {_human(late)}, more than its grace period of {_human(digest.grace)}"
            if self.ledger.skip(digest.name, slot, now, reason):
                log.warning("digest %s: slot %s skipped: %s", digest.name, slot.isoformat(), reason)
            return SlotOutcome(digest.name, slot, "skipped", reason)
        return self._post(digest, slot, now)

    def _skip_superseded(self, digest: DigestDefinition, known_since: datetime, slot: datetime, now: datetime) -> None:
        """Record (and log) unposted slots before ``slot``: only the latest missed slot is ever posted."""
        history = self.ledger.history(digest.name)
        after = max([known_since, now - MAX_SKIP_SCAN, *(s for s, _ in history[-1:])])
        for older in slots_between(digest.trigger, after, slot - timedelta(microseconds=1)):
            reason = f"superseded by the slot of {slot.isoformat()} (the bot was not running)"
            if self.ledger.skip(digest.name, older, now, reason):
                log.warning("digest %s: slot %s skipped: %s", digest.name, older.isoformat(), reason)

    def _post(self, digest: DigestDefinition, slot: datetime, now: datetime) -> SlotOutcome:
        if not self.ledger.claim(digest.name, slot, now):
            return SlotOutcome(digest.name, slot, "taken", self.ledger.status(digest.name, slot) or "")
        try:
            posts = self._compose(digest, slot)
        except Exception as exc:  # noqa: BLE001 - give the slot back; the next tick retries within grace
            self.ledger.release(digest.name, slot)
            log.error("digest %s: slot %s not composed, will retry: %s", digest.name, slot.isoformat(), exc)
            return SlotOutcome(digest.name, slot, "failed", str(exc))
        with self.store.transaction() as tx:
            for channel, key, messages in posts:
                enqueue_digest(self.outbox, tx, channel, key, messages)
            self.ledger.mark_queued(tx, digest.name, slot, self.clock())
        log.info(
            "digest %s: slot %s queued for %s", digest.name, slot.isoformat(), digest.channel or f"{len(posts)} people"
        )
        return SlotOutcome(digest.name, slot, "queued")

    def _compose(self, digest: DigestDefinition, slot: datetime) -> list[tuple[str, str, DigestMessages]]:
        """(channel, outbox key, messages) of each post of the slot: one, or one DM per person."""
        key = slot_key(digest.name, slot)
        if digest.to == "channel":
            return [(digest.channel, key, self.compose(digest, slot))]
        if self.personal is None:
            raise RuntimeError("personal digests need the Slack directory (codex-bot serve)")
        return [(user, f"{key}:{user}", messages) for user, messages in self.personal(digest, slot)]

    # --- APScheduler wiring ---

    def start(self, jobstore: Engine | str | None = None, scheduler: BaseScheduler | None = None) -> BaseScheduler:
        """Persist one cron job per digest (re-added with replace_existing) plus the catch-up tick; start.

        Jobs are kept in ``jobstore`` (an engine or URL; default: the state database's engine).  The tick
        runs at once, so a slot missed while the bot was down is handled at start.  ``scheduler``: the
        process's one APScheduler, already started paused by its owner, who resumes it once every part
        added its jobs (``codex-bot serve``); without it the digests run their own.
        """
        global _active
        _active = self
        self._owns_scheduler = scheduler is None
        if scheduler is None:
            scheduler = BackgroundScheduler(timezone=UTC)
            scheduler.start(paused=True)  # nothing runs until the stored jobs are checked and re-added
        jobstore = self.store.engine if jobstore is None else jobstore
        store = SQLAlchemyJobStore(url=jobstore) if isinstance(jobstore, str) else SQLAlchemyJobStore(engine=jobstore)
        scheduler.add_jobstore(store, "digests")
        for job in scheduler.get_jobs("digests"):
            if job.id.startswith(JOB_PREFIX) and job.id[len(JOB_PREFIX) :] not in self.digests:
                job.remove()
                log.info("digest job %s removed: no longer defined", job.id)
        for digest in self.digests.values():
            scheduler.add_job(
                "codex_bot.digests.schedule:fire",
                digest.trigger,
                args=[digest.name],
                id=JOB_PREFIX + digest.name,
                name=f"digest {digest.name}",
                jobstore="digests",
                replace_existing=True,
                coalesce=True,
                max_instances=1,
                misfire_grace_time=max(1, int(digest.grace.total_seconds())),
            )
        scheduler.add_job(
            "codex_bot.digests.schedule:tick",
            "interval",
            seconds=self.tick_seconds,
            id=TICK_JOB,
            jobstore="digests",
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            next_run_time=utc_now(),
        )
        if self._owns_scheduler:
            scheduler.resume()
        self.scheduler = scheduler
        return scheduler

    def shutdown(self) -> None:
        global _active
        if self._owns_scheduler and self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=True)
        if _active is self:
            _active = None


_active: DigestScheduler | None = None  # the scheduler whose jobs run in this process (jobs store only names)


def fire(name: str) -> None:
    """APScheduler job: the cron slot of digest ``name`` came."""
    if _active is None or name not in _active.digests:
        log.warning("digest job %s fired but no scheduler in this process defines it", name)
        return
    _active.run_due([name])


def tick() -> None:
    """APScheduler job: catch up on every digest and send what the outbox holds."""
    if _active is None:
        return
    _active.run_due()
    if _active.transport is not None:
        _active.outbox.flush(_active.transport)


def _human(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 120:
        return f"{minutes} min"
    return f"{minutes / 60:.1f} h" if minutes < 48 * 60 else f"{minutes / 1440:.1f} d"
