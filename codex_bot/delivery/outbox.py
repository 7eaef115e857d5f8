"""Durable pending deliveries: render → outbox → send with retry/backoff → record.

A caller enqueues a rendered :class:`~codex_bot.delivery.message.Message` under an idempotency
key, in the same SQLite transaction as the state change that caused it, so a crash either
loses both or keeps both.  :meth:`Outbox.flush` sends what is due:

* a key is enqueued at most once (a second enqueue with the same key is ignored), and a sent
  delivery is recorded with its message reference (``message_refs``) in one transaction, so a
  restart never posts it again;
* a transient failure (HTTP 429 or 5xx, Slack's ``ratelimited``/``internal_error``/…,
  network errors) is retried with exponential backoff (at least ``Retry-After``) until it
  succeeds; any other error marks the delivery ``failed`` and is logged;
* a reply (``thread_of``) or an edit (``edit_of``) waits for the message it refers to; if that
  message could never be posted, the reply or edit is posted as a new message instead, so a
  resolution is never lost;
* deliveries of one chain (a message, its edits and its thread) go out in the order they were
  enqueued, each chain independently;
* a delivery is claimed with a short lease before sending, so two bot processes sharing the
  database never send the same delivery twice.

The one window that remains at-least-once is a crash between Slack's answer and the commit
that records it (milliseconds); Slack's API has no idempotency key to close it.
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import re
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.models.blocks import Block

from codex_bot.delivery.message import ChartImage, Delivery, Destination, Message
from codex_bot.delivery.transport import Transport
from codex_bot.store import MessageRef, Store, add_migration

log = logging.getLogger(__name__)

add_migration(
    "outbox/001-deliveries",
    """CREATE TABLE deliveries (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        key TEXT NOT NULL UNIQUE,
        chain TEXT NOT NULL,           -- key of the root message; a chain is sent in order
        channel TEXT NOT NULL,
        thread_of TEXT,                -- post as a reply in the thread of that delivery's message
        edit_of TEXT,                  -- edit that delivery's message instead of posting
        text TEXT NOT NULL,
        blocks TEXT NOT NULL,          -- JSON list of Block Kit blocks
        status TEXT NOT NULL,          -- pending | sent | failed
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at REAL NOT NULL,
        last_error TEXT,
        claimed_by TEXT,
        claimed_until REAL,
        created_at REAL NOT NULL,
        sent_at REAL
    )""",
    "CREATE INDEX deliveries_pending ON deliveries (status, seq)",
    """CREATE TABLE delivery_charts (
        key TEXT NOT NULL,
        position INTEGER NOT NULL,
        filename TEXT NOT NULL,
        title TEXT NOT NULL,
        alt_text TEXT NOT NULL,
        png BLOB NOT NULL,
        PRIMARY KEY (key, position)
    )""",
)

_TRANSIENT_CODES = frozenset({
    "ratelimited", "rate_limited", "internal_error", "service_unavailable", "fatal_error", "request_timeout",
    "unreachable",
})


@dataclass(frozen=True)
class Outgoing:
    """One delivery to enqueue; ``key`` must be unique per intended Slack action."""

    key: str
    channel: str
    message: Message
    thread_of: str | None = None
    edit_of: str | None = None


@dataclass
class FlushReport:
    sent: list[str] = field(default_factory=list)
    retrying: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    waiting: int = 0  # pending but not yet due, or behind an earlier delivery of their chain


@dataclass(frozen=True)
class Backoff:
    """Retry delays: ``first`` × 2^(attempt−1), capped at ``cap`` seconds (never below Retry-After)."""

    first: float = 2.0
    cap: float = 300.0

    def delay(self, attempts: int, retry_after: float | None) -> float:
        delay = min(self.cap, self.first * 2 ** max(0, attempts - 1))
        return max(delay, retry_after or 0.0)


def _causes(exc: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def transient(exc: BaseException) -> tuple[bool, float | None]:
    """(retry?, Retry-After seconds): HTTP 429/5xx, Slack's transient error codes and network errors retry."""
    for cause in _causes(exc):
        if isinstance(cause, SlackApiError):
            response = cause.response
            status = int(getattr(response, "status_code", 200) or 200)
            headers = {k.lower(): v for k, v in (getattr(response, "headers", None) or {}).items()}
            after = headers.get("retry-after")
            after = after[0] if isinstance(after, list) else after
            error = response.get("error") if hasattr(response, "get") else None
            retry = status == 429 or status >= 500 or error in _TRANSIENT_CODES
            return retry, float(after) if after else None
        if isinstance(cause, (OSError, http.client.HTTPException, SlackClientError)):
            return True, None
        code = getattr(cause, "code", None)
        if isinstance(code, str) and (code in _TRANSIENT_CODES or re.fullmatch(r"http_(429|5\d\d)", code)):
            return True, None
    return False, None


class Outbox:
    def __init__(self, store: Store, *, backoff: Backoff = Backoff(), lease_seconds: float = 120.0,
                 clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.backoff = backoff
        self.lease_seconds = lease_seconds
        self.clock = clock
        self.owner = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._flushing = threading.Lock()
        store.migrate()

    # --- enqueue ---

    def enqueue(self, tx: sqlite3.Connection, item: Outgoing) -> bool:
        """Add ``item`` inside the caller's transaction; False if its key was already enqueued."""
        parent = item.edit_of or item.thread_of
        chain = self._chain(tx, parent) if parent else item.key
        cursor = tx.execute(
            "INSERT OR IGNORE INTO deliveries (key, chain, channel, thread_of, edit_of, text, blocks, status,"
            " next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)",
            (item.key, chain, item.channel, item.thread_of, item.edit_of, item.message.text,
             json.dumps(item.message.blocks_json()), self.clock(), self.clock()),
        )
        if cursor.rowcount == 0:
            return False
        tx.executemany(
            "INSERT INTO delivery_charts VALUES (?, ?, ?, ?, ?, ?)",
            [(item.key, i, c.filename, c.title, c.alt_text, c.png) for i, c in enumerate(item.message.charts)],
        )
        return True

    def put(self, item: Outgoing) -> bool:
        """Enqueue in a transaction of its own."""
        with self.store.transaction() as tx:
            return self.enqueue(tx, item)

    @staticmethod
    def _chain(tx: sqlite3.Connection, parent: str) -> str:
        row = tx.execute("SELECT chain FROM deliveries WHERE key = ?", (parent,)).fetchone()
        return row["chain"] if row else parent

    # --- inspect ---

    def status(self, key: str) -> str | None:
        row = self.store.fetchone("SELECT status FROM deliveries WHERE key = ?", (key,))
        return row["status"] if row else None

    def channel_of(self, key: str) -> str | None:
        """The channel the delivery ``key`` went (or goes) to."""
        row = self.store.fetchone("SELECT channel FROM deliveries WHERE key = ?", (key,))
        return row["channel"] if row else None

    def pending_count(self) -> int:
        row = self.store.fetchone("SELECT COUNT(*) AS n FROM deliveries WHERE status = 'pending'")
        return int(row["n"]) if row else 0

    # --- send ---

    def flush(self, transport: Transport, *, limit: int = 200) -> FlushReport:
        """Send every due delivery (in order within each chain); never raises for delivery errors.

        One flush at a time per outbox: a bot shares one outbox between its threads (commands, buttons,
        the schedulers), and a claim is this outbox's, so two of its flushes could otherwise send one
        delivery twice."""
        with self._flushing:
            return self._flush(transport, limit)

    def _flush(self, transport: Transport, limit: int) -> FlushReport:
        report = FlushReport()
        now = self.clock()
        blocked: set[str] = set()
        rows = self.store.fetchall(
            "SELECT * FROM deliveries WHERE status = 'pending' ORDER BY seq LIMIT ?", (limit,)
        )
        for row in rows:
            if row["chain"] in blocked or row["next_attempt_at"] > now or not self._ready(row):
                blocked.add(row["chain"])
                report.waiting += 1
                continue
            if not self._claim(row["key"], now):
                blocked.add(row["chain"])
                continue
            outcome = self._send_one(transport, row)
            getattr(report, outcome).append(row["key"])
            if outcome == "retrying":
                blocked.add(row["chain"])
        return report

    def _ready(self, row: sqlite3.Row) -> bool:
        """A reply or edit is ready once its parent was sent or has definitely failed."""
        parent = row["edit_of"] or row["thread_of"]
        return parent is None or self.status(parent) in ("sent", "failed", None)

    def _claim(self, key: str, now: float) -> bool:
        with self.store.transaction() as tx:
            cursor = tx.execute(
                "UPDATE deliveries SET claimed_by = ?, claimed_until = ? WHERE key = ? AND status = 'pending'"
                " AND (claimed_until IS NULL OR claimed_until < ? OR claimed_by = ?)",
                (self.owner, now + self.lease_seconds, key, now, self.owner),
            )
            return cursor.rowcount == 1

    def _send_one(self, transport: Transport, row: sqlite3.Row) -> str:
        message = self._message(row)
        try:
            delivery = self._deliver(transport, row, message)
        except Exception as exc:  # noqa: BLE001 - every failure is classified and recorded
            return self._failed(row, exc)
        with self.store.transaction() as tx:
            tx.execute(
                "UPDATE deliveries SET status = 'sent', sent_at = ?, attempts = attempts + 1, last_error = ?,"
                " claimed_until = NULL WHERE key = ?",
                (self.clock(), "; ".join(delivery.problems) or None, row["key"]),
            )
            if delivery.ts:
                self.store.put_message_ref(tx, row["key"], MessageRef(delivery.channel, delivery.ts))
        return "sent"

    def _deliver(self, transport: Transport, row: sqlite3.Row, message: Message) -> Delivery:
        if row["edit_of"]:
            target = self.store.message_ref(row["edit_of"])
            if target is not None:
                return transport.update(target, message)
        thread = self.store.message_ref(row["thread_of"]) if row["thread_of"] else None
        return transport.send(message, Destination(row["channel"], thread_ts=thread.ts if thread else None))

    def _failed(self, row: sqlite3.Row, exc: Exception) -> str:
        retry, retry_after = transient(exc)
        attempts = row["attempts"] + 1
        error = f"{type(exc).__name__}: {exc}"[:500]
        with self.store.transaction() as tx:
            if retry:
                tx.execute(
                    "UPDATE deliveries SET attempts = ?, last_error = ?, next_attempt_at = ?, claimed_until = NULL"
                    " WHERE key = ?",
                    (attempts, error, self.clock() + self.backoff.delay(attempts, retry_after), row["key"]),
                )
            else:
                tx.execute(
                    "UPDATE deliveries SET status = 'failed', attempts = ?, last_error = ?, claimed_until = NULL"
                    " WHERE key = ?",
                    (attempts, error, row["key"]),
                )
        if retry:
            log.warning("delivery %s failed (attempt %d), will retry: %s", row["key"], attempts, error)
            return "retrying"
        log.error("delivery %s failed for good: %s", row["key"], error)
        return "failed"

    def _message(self, row: sqlite3.Row) -> Message:
        charts = [
            ChartImage(c["png"], c["filename"], c["title"], c["alt_text"])
            for c in self.store.fetchall(
                "SELECT * FROM delivery_charts WHERE key = ? ORDER BY position", (row["key"],)
            )
        ]
        blocks = [Block.parse(b) for b in json.loads(row["blocks"])]
        return Message(row["text"], [b for b in blocks if b is not None], charts)
