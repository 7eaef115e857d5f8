"""The slot ledger: which digest slots were claimed, queued for posting, or skipped (in the state database).

A slot is claimed (``INSERT``, or taking over a claim whose lease ran out) before anything is
composed, and marked ``queued`` in the same transaction that puts its messages in the outbox,
so a restart or a second bot process never posts a slot twice.  A claim left by a crash
expires after its lease and the slot can be taken again (within the digest's grace period).
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from datetime import UTC, datetime

from codex_bot.store import Store, add_migration

add_migration(
    "digests/001-slots",
    """CREATE TABLE digest_slots (
        digest TEXT NOT NULL,
        slot REAL NOT NULL,            -- the slot instant (unix seconds, UTC)
        status TEXT NOT NULL,          -- claimed | queued | skipped
        claimed_by TEXT,
        claimed_until REAL,
        detail TEXT,                   -- why a slot was skipped
        updated_at REAL NOT NULL,
        PRIMARY KEY (digest, slot)
    )""",
    """CREATE TABLE digest_schedules (
        digest TEXT PRIMARY KEY,
        known_since REAL NOT NULL      -- first time a scheduler saw this digest: earlier slots are not "missed"
    )""",
)

CLAIMED, QUEUED, SKIPPED = "claimed", "queued", "skipped"


def _ts(moment: datetime) -> float:
    return moment.timestamp()


class SlotLedger:
    def __init__(self, store: Store, lease_seconds: float = 600.0) -> None:
        self.store = store
        self.lease_seconds = lease_seconds
        self.owner = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        store.migrate()

    def known_since(self, digest: str, now: datetime) -> datetime:
        """When this digest was first scheduled (recorded as ``now`` the first time it is asked)."""
        with self.store.transaction() as tx:
            tx.execute("INSERT OR IGNORE INTO digest_schedules VALUES (?, ?)", (digest, _ts(now)))
            row = tx.execute("SELECT known_since FROM digest_schedules WHERE digest = ?", (digest,)).fetchone()
        return datetime.fromtimestamp(row["known_since"], UTC)

    def claim(self, digest: str, slot: datetime, now: datetime) -> bool:
        """Take the slot for this process; False when it is queued, skipped, or claimed by a live lease."""
        until = _ts(now) + self.lease_seconds
        with self.store.transaction() as tx:
            inserted = tx.execute(
                "INSERT OR IGNORE INTO digest_slots VALUES (?, ?, ?, ?, ?, NULL, ?)",
                (digest, _ts(slot), CLAIMED, self.owner, until, _ts(now)),
            ).rowcount
            if inserted:
                return True
            return tx.execute(
                "UPDATE digest_slots SET claimed_by = ?, claimed_until = ?, updated_at = ? WHERE digest = ?"
                " AND slot = ? AND status = ? AND claimed_until < ?",
                (self.owner, until, _ts(now), digest, _ts(slot), CLAIMED, _ts(now)),
            ).rowcount == 1

    def mark_queued(self, tx: sqlite3.Connection, digest: str, slot: datetime, now: datetime) -> None:
        """Record, in the caller's transaction (the one that fills the outbox), that the slot is posted."""
        tx.execute(
            "UPDATE digest_slots SET status = ?, claimed_until = NULL, updated_at = ? WHERE digest = ? AND slot = ?",
            (QUEUED, _ts(now), digest, _ts(slot)),
        )

    def release(self, digest: str, slot: datetime) -> None:
        """Give a claim back (composing failed), so a later attempt within the grace period may retry."""
        with self.store.transaction() as tx:
            tx.execute(
                "DELETE FROM digest_slots WHERE digest = ? AND slot = ? AND status = ? AND claimed_by = ?",
                (digest, _ts(slot), CLAIMED, self.owner),
            )

    def skip(self, digest: str, slot: datetime, now: datetime, reason: str) -> bool:
        """Record a slot that will not be posted; False when the slot was already handled."""
        with self.store.transaction() as tx:
            return tx.execute(
                "INSERT OR IGNORE INTO digest_slots VALUES (?, ?, ?, NULL, NULL, ?, ?)",
                (digest, _ts(slot), SKIPPED, reason, _ts(now)),
            ).rowcount == 1

    def status(self, digest: str, slot: datetime) -> str | None:
        row = self.store.fetchone(
            "SELECT status FROM digest_slots WHERE digest = ? AND slot = ?", (digest, _ts(slot))
        )
        return row["status"] if row else None

    def history(self, digest: str) -> list[tuple[datetime, str]]:
        """Every recorded slot of ``digest``, oldest first: (slot, status)."""
        rows = self.store.fetchall(
            "SELECT slot, status FROM digest_slots WHERE digest = ? ORDER BY slot", (digest,)
        )
        return [(datetime.fromtimestamp(r["slot"], UTC), r["status"]) for r in rows]
