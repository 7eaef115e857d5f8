"""The slot ledger: which digest slots were claimed, queued for posting, or skipped (in the state database).

A slot is claimed (``INSERT``, or taking over a claim whose lease ran out) before anything is
composed, and marked ``queued`` in the same transaction that puts its messages in the outbox,
so a restart or a second bot process never posts a slot twice: the claim is an
``INSERT … ON CONFLICT DO NOTHING`` (of two processes inserting the same slot, one row wins) or an
``UPDATE`` that re-checks the expired lease on the row it locks (of two takers, the second finds it
renewed).  A claim left by a crash expires after its lease and the slot can be taken again (within
the digest's grace period).
"""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime

from codex_bot.store import Store, Tx, add_migration

add_migration(
    "digests/001-slots",
    """CREATE TABLE digest_slots (
        digest TEXT NOT NULL,
        slot {real} NOT NULL,           -- the slot instant (unix seconds, UTC)
        status TEXT NOT NULL,          -- claimed | queued | skipped
        claimed_by TEXT,
        claimed_until {real},
        detail TEXT,                   -- why a slot was skipped
        updated_at {real} NOT NULL,
        PRIMARY KEY (digest, slot)
    )""",
    """CREATE TABLE digest_schedules (
        digest TEXT PRIMARY KEY,
        known_since {real} NOT NULL     -- first time a scheduler saw this digest: earlier slots are not "missed"
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
            tx.execute(
                "INSERT INTO digest_schedules (digest, known_since) VALUES (:digest, :now)"
                " ON CONFLICT (digest) DO NOTHING",
                {"digest": digest, "now": _ts(now)},
            )
            row = tx.one("SELECT known_since FROM digest_schedules WHERE digest = :digest", {"digest": digest})
        assert row is not None
        return datetime.fromtimestamp(row["known_since"], UTC)

    def claim(self, digest: str, slot: datetime, now: datetime) -> bool:
        """Take the slot for this process; False when it is queued, skipped, or claimed by a live lease."""
        values = {
            "digest": digest,
            "slot": _ts(slot),
            "status": CLAIMED,
            "owner": self.owner,
            "until": _ts(now) + self.lease_seconds,
            "now": _ts(now),
        }
        with self.store.transaction() as tx:
            inserted = tx.execute(
                "INSERT INTO digest_slots (digest, slot, status, claimed_by, claimed_until, updated_at) VALUES"
                " (:digest, :slot, :status, :owner, :until, :now) ON CONFLICT (digest, slot) DO NOTHING",
                values,
            ).rowcount
            if inserted:
                return True
            return (
                tx.execute(
                    "UPDATE digest_slots SET claimed_by = :owner, claimed_until = :until, updated_at = :now"
                    " WHERE digest = :digest AND slot = :slot AND status = :status AND claimed_until < :now",
                    values,
                ).rowcount
                == 1
            )

    def mark_queued(self, tx: Tx, digest: str, slot: datetime, now: datetime) -> None:
        """Record, in the caller's transaction (the one that fills the outbox), that the slot is posted."""
        tx.execute(
            "UPDATE digest_slots SET status = :status, claimed_until = NULL, updated_at = :now"
            " WHERE digest = :digest AND slot = :slot",
            {"status": QUEUED, "now": _ts(now), "digest": digest, "slot": _ts(slot)},
        )

    def release(self, digest: str, slot: datetime) -> None:
        """Give a claim back (composing failed), so a later attempt within the grace period may retry."""
        with self.store.transaction() as tx:
            tx.execute(
                "DELETE FROM digest_slots WHERE digest = :digest AND slot = :slot AND status = :status"
                " AND claimed_by = :owner",
                {"digest": digest, "slot": _ts(slot), "status": CLAIMED, "owner": self.owner},
            )

    def skip(self, digest: str, slot: datetime, now: datetime, reason: str) -> bool:
        """Record a slot that will not be posted; False when the slot was already handled."""
        with self.store.transaction() as tx:
            return (
                tx.execute(
                    "INSERT INTO digest_slots (digest, slot, status, detail, updated_at) VALUES"
                    " (:digest, :slot, :status, :reason, :now) ON CONFLICT (digest, slot) DO NOTHING",
                    {"digest": digest, "slot": _ts(slot), "status": SKIPPED, "reason": reason, "now": _ts(now)},
                ).rowcount
                == 1
            )

    def status(self, digest: str, slot: datetime) -> str | None:
        row = self.store.fetchone(
            "SELECT status FROM digest_slots WHERE digest = :digest AND slot = :slot",
            {"digest": digest, "slot": _ts(slot)},
        )
        return row["status"] if row else None

    def history(self, digest: str) -> list[tuple[datetime, str]]:
        """Every recorded slot of ``digest``, oldest first: (slot, status)."""
        rows = self.store.fetchall(
            "SELECT slot, status FROM digest_slots WHERE digest = :digest ORDER BY slot", {"digest": digest}
        )
        return [(datetime.fromtimestamp(r["slot"], UTC), r["status"]) for r in rows]
