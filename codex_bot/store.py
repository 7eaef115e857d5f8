"""SQLite state shared by alerts, digests and the outbox.

One database file (``settings.state_db``) in WAL mode, so several processes (the bot,
``codex-bot rules eval``, a second replica) can read while one writes.  Writes go through
:meth:`Store.transaction` (``BEGIN IMMEDIATE``, kept short: never call the network inside one).

Each package adds its tables with :func:`add_migration` at import time; :meth:`Store.migrate`
applies, in registration order, every migration not yet recorded in ``schema_migrations``.
Migrations are named (``"alerts/001-states"``), never renumbered, never edited once shipped.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Migration:
    name: str
    statements: tuple[str, ...]


MIGRATIONS: list[Migration] = []


def add_migration(name: str, *statements: str) -> None:
    """Register a migration (idempotent by name, so re-imports are harmless)."""
    if any(m.name == name for m in MIGRATIONS):
        return
    MIGRATIONS.append(Migration(name, statements))


add_migration(
    "store/001-core",
    """CREATE TABLE message_refs (
        key TEXT PRIMARY KEY,          -- idempotency key of the delivery that created the message
        channel TEXT NOT NULL,
        ts TEXT NOT NULL,
        created_at REAL NOT NULL
    )""",
    """CREATE TABLE kv (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL,
        updated_at REAL NOT NULL
    )""",
    """CREATE TABLE alert_states (
        rule TEXT NOT NULL,
        group_key TEXT NOT NULL,       -- canonical JSON of the group labels, "{}" without group_by
        labels TEXT NOT NULL,
        state TEXT NOT NULL,           -- inactive | pending | firing | nodata | error
        value REAL,
        threshold REAL,
        active_since REAL,             -- start of the current pending/firing run (unix seconds)
        evaluated_at REAL NOT NULL,
        episode_id INTEGER,            -- the open firing episode, if any
        PRIMARY KEY (rule, group_key)
    )""",
    """CREATE TABLE alert_episodes (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        rule TEXT NOT NULL,
        group_key TEXT NOT NULL,
        labels TEXT NOT NULL,
        severity TEXT NOT NULL,
        started_at REAL NOT NULL,      -- when the condition started to hold
        fired_at REAL NOT NULL,        -- when `for` was satisfied
        value REAL,
        threshold REAL,
        resolved_at REAL,
        resolved_value REAL,
        resolve_reason TEXT,
        posted_key TEXT,               -- outbox key of the firing message, once enqueued
        resolution_key TEXT,           -- outbox key of the resolution, once enqueued
        last_notified_at REAL,
        acknowledged_by TEXT,
        acknowledged_at REAL
    )""",
    "CREATE INDEX alert_episodes_open ON alert_episodes (rule, group_key, resolved_at)",
    "CREATE INDEX alert_episodes_fired ON alert_episodes (fired_at)",
    """CREATE TABLE silences (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        rule TEXT NOT NULL,
        matchers TEXT NOT NULL,        -- JSON object of labels that must match; {} = every group
        starts_at REAL NOT NULL,
        ends_at REAL NOT NULL,
        created_by TEXT NOT NULL,
        comment TEXT NOT NULL DEFAULT ''
    )""",
    "CREATE INDEX silences_active ON silences (rule, ends_at)",
)


@dataclass(frozen=True)
class MessageRef:
    """Where a posted Slack message lives (what chat.update and thread replies need)."""

    channel: str
    ts: str


class Store:
    """A thread-safe handle on the state database; open with :meth:`open`."""

    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        self._db = connection
        self._lock = threading.RLock()
        self._depth = 0
        self.path = path

    @classmethod
    def open(cls, path: Path | str, *, busy_timeout_ms: int = 10_000) -> Store:
        """Open (creating if needed) the database at ``path`` and apply pending migrations."""
        path = Path(path)
        if str(path) != ":memory:":
            path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False,
                             timeout=busy_timeout_ms / 1000)
        db.row_factory = sqlite3.Row
        db.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = NORMAL")
        db.execute("PRAGMA foreign_keys = ON")
        store = cls(db, path)
        store.migrate()
        return store

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def migrate(self) -> list[str]:
        """Apply registered migrations not yet applied; returns their names."""
        applied: list[str] = []
        with self.transaction() as tx:
            tx.execute("CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at REAL)")
            done = {row["name"] for row in tx.execute("SELECT name FROM schema_migrations")}
            for migration in MIGRATIONS:
                if migration.name in done:
                    continue
                for statement in migration.statements:
                    tx.execute(statement)
                tx.execute("INSERT INTO schema_migrations VALUES (?, ?)", (migration.name, time.time()))
                applied.append(migration.name)
        return applied

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction (re-entrant within a thread); commits on success, rolls back on error."""
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self._db
                finally:
                    self._depth -= 1
                return
            self._db.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            else:
                self._db.execute("COMMIT")
            finally:
                self._depth = 0

    def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    def fetchone(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
        with self._lock:
            return self._db.execute(sql, params).fetchone()

    # --- message references (shared by alerts and digests) ---

    def put_message_ref(self, tx: sqlite3.Connection, key: str, ref: MessageRef) -> None:
        tx.execute(
            "INSERT INTO message_refs VALUES (?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET channel=excluded.channel,"
            " ts=excluded.ts",
            (key, ref.channel, ref.ts, time.time()),
        )

    def message_ref(self, key: str) -> MessageRef | None:
        row = self.fetchone("SELECT channel, ts FROM message_refs WHERE key = ?", (key,))
        return MessageRef(row["channel"], row["ts"]) if row else None

    # --- small key/value facts (e.g. "evaluation is failing since ...") ---

    def put_value(self, tx: sqlite3.Connection, key: str, value: str | None) -> None:
        if value is None:
            tx.execute("DELETE FROM kv WHERE key = ?", (key,))
        else:
            tx.execute(
                "INSERT INTO kv VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value,"
                " updated_at=excluded.updated_at",
                (key, value, time.time()),
            )

    def value(self, key: str) -> str | None:
        row = self.fetchone("SELECT value FROM kv WHERE key = ?", (key,))
        return row["value"] if row else None

    def lease(self, name: str, owner: str, seconds: float, now: float | None = None) -> bool:
        """Take or renew the lease ``name`` for ``owner``; False while another owner holds it.

        With several bot processes on one database, only the holder runs the leased work.
        """
        now = time.time() if now is None else now
        with self.transaction() as tx:
            row = tx.execute("SELECT value FROM kv WHERE key = ?", ("lease/" + name,)).fetchone()
            if row is not None:
                holder, _, until = row["value"].rpartition("@")
                if holder != owner and float(until) > now:
                    return False
            self.put_value(tx, "lease/" + name, f"{owner}@{now + seconds}")
            return True

    def release(self, name: str, owner: str) -> None:
        """Give up the lease ``name`` if ``owner`` holds it, so another process may take it at once."""
        with self.transaction() as tx:
            row = tx.execute("SELECT value FROM kv WHERE key = ?", ("lease/" + name,)).fetchone()
            if row is not None and row["value"].rpartition("@")[0] == owner:
                self.put_value(tx, "lease/" + name, None)
