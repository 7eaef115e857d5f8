"""Durable pending deliveries: render → outbox → send with retry/backoff → record.

A caller enqueues a rendered :class:`~codex_bot.delivery.message.Message` under an idempotency
key, in the same state-database transaction as the state change that caused it, so a crash either
loses both or keeps both.  :meth:`Outbox.flush` sends what is due:

* a key is enqueued at most once (a second enqueue with the same key is ignored), and a sent
  delivery is recorded with its message reference (``message_refs``) in one transaction, so a
  restart never posts it again;
* a transient failure (HTTP 429 or 5xx, Slack's ``ratelimited``/``internal_error``/…,
  network errors) is retried with exponential backoff (at least ``Retry-After``) until it
  succeeds; any other error marks the delivery ``failed`` (kept, with Slack's error code), logs it
  and, for deliveries enqueued with ``report=True``, tells the admins and/or the fallback channel
  (:mod:`codex_bot.slack.delivery_failures`); :meth:`Outbox.retry_failed` sends them once the
  cause is fixed;
* a reply (``thread_of``) or an edit (``edit_of``) waits for the message it refers to and goes to
  the channel that message is in (its stored reference), even if routing changed since; if that
  message could never be posted, the reply or edit is posted as a new message instead, so a
  resolution is never lost;
* deliveries of one chain (a message, its edits and its thread) go out in the order they were
  enqueued, each chain independently;
* a delivery is claimed with a short lease before sending, so two bot processes sharing the
  database never send the same delivery twice: the claim is one conditional ``UPDATE`` of the row
  (on PostgreSQL through ``SELECT … FOR UPDATE SKIP LOCKED``: a row another process is claiming is
  passed over, not waited for).

The one window that remains at-least-once is a crash between Slack's answer and the commit
that records it (milliseconds); Slack's API has no idempotency key to close it.
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.models.blocks import Block
from sqlalchemy import RowMapping

from codex_bot.delivery.message import ChartImage, Delivery, Destination, Message
from codex_bot.delivery.transport import Transport
from codex_bot.slack.delivery_failures import QUIET_SECONDS, FailedDelivery, FailureNotices
from codex_bot.slack.slack_errors import error_code
from codex_bot.store import MessageRef, Store, Tx, add_migration

log = logging.getLogger(__name__)

add_migration(
    "outbox/001-deliveries",
    """CREATE TABLE deliveries (
        seq {id},
        key TEXT NOT NULL UNIQUE,
        chain TEXT NOT NULL,           -- key of the root message; a chain is sent in order
        channel TEXT NOT NULL,
        thread_of TEXT,                -- post as a reply in the thread of that delivery's message
        edit_of TEXT,                  -- edit that delivery's message instead of posting
        text TEXT NOT NULL,
        blocks TEXT NOT NULL,          -- JSON list of Block Kit blocks
        status TEXT NOT NULL,          -- pending | sent | failed
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at {real} NOT NULL,
        last_error TEXT,
        claimed_by TEXT,
        claimed_until {real},
        created_at {real} NOT NULL,
        sent_at {real}
    )""",
    "CREATE INDEX deliveries_pending ON deliveries (status, seq)",
    """CREATE TABLE delivery_charts (
        key TEXT NOT NULL,
        position INTEGER NOT NULL,
        filename TEXT NOT NULL,
        title TEXT NOT NULL,
        alt_text TEXT NOT NULL,
        png {blob} NOT NULL,
        PRIMARY KEY (key, position)
    )""",
)

add_migration(
    "outbox/002-failure-reports",
    "ALTER TABLE deliveries ADD COLUMN error_code TEXT",  # Slack's error code of the last failure
    "ALTER TABLE deliveries ADD COLUMN report INTEGER NOT NULL DEFAULT 1",  # tell people if it fails for good
    "ALTER TABLE deliveries ADD COLUMN reported_at {real}",  # status may now also be 'superseded' (retry_failed)
)
NOTICE_PREFIX = "delivery-failed:"
QUIET_KEY = "outbox/failure-notice/"

_TRANSIENT_CODES = frozenset(
    {
        "ratelimited",
        "rate_limited",
        "internal_error",
        "service_unavailable",
        "fatal_error",
        "request_timeout",
        "unreachable",
    }
)


@dataclass(frozen=True)
class Outgoing:
    """One delivery to enqueue; ``key`` must be unique per intended Slack action."""

    key: str
    channel: str
    message: Message
    thread_of: str | None = None
    edit_of: str | None = None
    report: bool = True  # tell admins / the fallback channel if Slack refuses it for good (False: the asker is told)


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


@dataclass
class RetryReport:
    queued: list[str] = field(default_factory=list)  # failed deliveries put back in the queue
    superseded: list[str] = field(default_factory=list)  # dropped: a later message of their chain went out


class Outbox:
    def __init__(
        self,
        store: Store,
        *,
        backoff: Backoff = Backoff(),
        lease_seconds: float = 120.0,
        clock: Callable[[], float] = time.time,
        notices: FailureNotices | None = None,
    ) -> None:
        self.store = store
        self.notices = notices
        self.backoff = backoff
        self.lease_seconds = lease_seconds
        self.clock = clock
        self.owner = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._flushing = threading.Lock()
        store.migrate()

    # --- enqueue ---

    def enqueue(self, tx: Tx, item: Outgoing) -> bool:
        """Add ``item`` inside the caller's transaction; False if its key was already enqueued."""
        parent = item.edit_of or item.thread_of
        chain = self._chain(tx, parent) if parent else item.key
        cursor = tx.execute(
            "INSERT INTO deliveries (key, chain, channel, thread_of, edit_of, text, blocks, status,"
            " next_attempt_at, created_at, report) VALUES (:key, :chain, :channel, :thread_of, :edit_of, :text,"
            " :blocks, 'pending', :now, :now, :report) ON CONFLICT (key) DO NOTHING",
            {
                "key": item.key,
                "chain": chain,
                "channel": item.channel,
                "thread_of": item.thread_of,
                "edit_of": item.edit_of,
                "text": item.message.text,
                "blocks": json.dumps(item.message.blocks_json()),
                "now": self.clock(),
                "report": int(item.report),
            },
        )
        if cursor.rowcount == 0:
            return False
        charts = [
            {
                "key": item.key,
                "position": i,
                "filename": c.filename,
                "title": c.title,
                "alt_text": c.alt_text,
                "png": c.png,
            }
            for i, c in enumerate(item.message.charts)
        ]
        if charts:
            tx.execute(
                "INSERT INTO delivery_charts (key, position, filename, title, alt_text, png)"
                " VALUES (:key, :position, :filename, :title, :alt_text, :png)",
                charts,
            )
        return True

    def put(self, item: Outgoing) -> bool:
        """Enqueue in a transaction of its own."""
        with self.store.transaction() as tx:
            return self.enqueue(tx, item)

    @staticmethod
    def _chain(tx: Tx, parent: str) -> str:
        row = tx.one("SELECT chain FROM deliveries WHERE key = :key", {"key": parent})
        return row["chain"] if row else parent

    # --- inspect ---

    def status(self, key: str) -> str | None:
        row = self.store.fetchone("SELECT status FROM deliveries WHERE key = :key", {"key": key})
        return row["status"] if row else None

    def channel_of(self, key: str) -> str | None:
        """The channel the delivery ``key`` went (or goes) to."""
        row = self.store.fetchone("SELECT channel FROM deliveries WHERE key = :key", {"key": key})
        return row["channel"] if row else None

    def failure(self, key: str) -> FailedDelivery | None:
        """The delivery ``key`` if Slack refused it for good."""
        row = self.store.fetchone("SELECT * FROM deliveries WHERE key = :key AND status = 'failed'", {"key": key})
        return _failed_delivery(row) if row else None

    def failed(self) -> list[FailedDelivery]:
        """Every delivery kept as failed that :meth:`retry_failed` would consider, oldest first."""
        rows = self.store.fetchall("SELECT * FROM deliveries WHERE status = 'failed' AND report = 1 ORDER BY seq")
        return [_failed_delivery(row) for row in rows]

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
            report = self._flush(transport, limit)
            if report.failed and self._report_failures():
                self._flush(transport, limit)  # send the notices now (they are never reported themselves)
            return report

    def _flush(self, transport: Transport, limit: int) -> FlushReport:
        report = FlushReport()
        now = self.clock()
        blocked: set[str] = set()
        rows = self.store.fetchall(
            "SELECT * FROM deliveries WHERE status = 'pending' ORDER BY seq LIMIT :limit", {"limit": limit}
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

    # --- permanent failures: tell people, keep the deliveries for a retry ---

    def _report_failures(self) -> bool:
        """Enqueue a notice per channel and error for failures not yet reported; True if any was enqueued."""
        rows = self.store.fetchall(
            "SELECT * FROM deliveries WHERE status = 'failed' AND report = 1 AND reported_at IS NULL ORDER BY seq"
        )
        groups: dict[tuple[str, str | None], list[FailedDelivery]] = {}
        for row in rows:
            failed = _failed_delivery(row)
            groups.setdefault((failed.channel, failed.code), []).append(failed)
        enqueued = False
        now = self.clock()
        with self.store.transaction() as tx:
            for (channel, code), group in groups.items():
                enqueued |= self._notice(tx, channel, code, group, now)
                tx.execute(
                    "UPDATE deliveries SET reported_at = :now WHERE key = :key",
                    [{"now": now, "key": f.key} for f in group],
                )
        return enqueued

    def _notice(self, tx: Tx, channel: str, code: str | None, failed: list[FailedDelivery], now: float) -> bool:
        recipients = self.notices.recipients(channel) if self.notices else []
        if not recipients:
            log.error(
                "%d deliveries to %s failed for good (%s) and nobody was told: set CODEX_BOT_ADMIN_USERS or "
                "CODEX_BOT_FALLBACK_CHANNEL; `codex-bot deliveries retry` sends them once fixed",
                len(failed),
                channel,
                code,
            )
            return False
        quiet = f"{QUIET_KEY}{channel}/{code}"
        last = tx.one("SELECT value FROM kv WHERE key = :key", {"key": quiet})
        if last is not None and now - float(last["value"]) < QUIET_SECONDS:
            return False
        self.store.put_value(tx, quiet, str(now))
        message = FailureNotices.message(channel, code, failed)
        for recipient in recipients:
            key = f"{NOTICE_PREFIX}{channel}:{code}:{failed[0].key}:{recipient}"
            self.enqueue(tx, Outgoing(key, recipient, message, report=False))
        return True

    def retry_failed(self) -> RetryReport:
        """Put every reported failed delivery back in the queue (send with :meth:`flush`), unless a later
        message of its chain went out meanwhile: then it is marked ``superseded`` (a stale FIRING after
        its RESOLVED would mislead)."""
        result = RetryReport()
        with self.store.transaction() as tx:
            rows = tx.all(
                "SELECT key, chain, seq FROM deliveries WHERE status = 'failed' AND report = 1"
                f" ORDER BY seq{tx.for_update()}"
            )
            for row in rows:
                later = tx.one(
                    "SELECT 1 FROM deliveries WHERE chain = :chain AND seq > :seq AND status = 'sent'",
                    {"chain": row["chain"], "seq": row["seq"]},
                )
                (result.superseded if later else result.queued).append(row["key"])
            if result.queued:
                tx.execute(
                    "UPDATE deliveries SET status = 'pending', attempts = 0, next_attempt_at = :now, error_code = NULL,"
                    " reported_at = NULL, claimed_until = NULL WHERE key = :key",
                    [{"now": self.clock(), "key": key} for key in result.queued],
                )
            if result.superseded:
                tx.execute(
                    "UPDATE deliveries SET status = 'superseded' WHERE key = :key",
                    [{"key": key} for key in result.superseded],
                )
            tx.execute("DELETE FROM kv WHERE key LIKE :prefix", {"prefix": QUIET_KEY + "%"})
        return result

    def _ready(self, row: RowMapping) -> bool:
        """A reply or edit is ready once its parent was sent or has definitely failed."""
        parent = row["edit_of"] or row["thread_of"]
        return parent is None or self.status(parent) in ("sent", "failed", "superseded", None)

    def _claim(self, key: str, now: float) -> bool:
        """Take the delivery unless a live claim holds it (another process's, or another thread's of this one:
        the alert cycle, the delivery job and the digest tick flush side by side) or it is no longer pending."""
        with self.store.transaction() as tx:
            cursor = tx.execute(
                "UPDATE deliveries SET claimed_by = :owner, claimed_until = :until WHERE seq IN (SELECT seq FROM"
                " deliveries WHERE key = :key AND status = 'pending' AND (claimed_until IS NULL OR claimed_until < :now)"
                f"{tx.for_update(skip_locked=True)})",
                {"owner": self.owner, "until": now + self.lease_seconds, "key": key, "now": now},
            )
            return cursor.rowcount == 1

    def _send_one(self, transport: Transport, row: RowMapping) -> str:
        message = self._message(row)
        try:
            delivery = self._deliver(transport, row, message)
        except Exception as exc:  # noqa: BLE001 - every failure is classified and recorded
            return self._failed(row, exc)
        with self.store.transaction() as tx:
            tx.execute(
                "UPDATE deliveries SET status = 'sent', sent_at = :at, attempts = attempts + 1, last_error = :error,"
                " claimed_until = NULL WHERE key = :key",
                {"at": self.clock(), "error": "; ".join(delivery.problems) or None, "key": row["key"]},
            )
            if delivery.ts:
                self.store.put_message_ref(tx, row["key"], MessageRef(delivery.channel, delivery.ts))
        return "sent"

    def _deliver(self, transport: Transport, row: RowMapping, message: Message) -> Delivery:
        if row["edit_of"]:
            target = self.store.message_ref(row["edit_of"])
            if target is not None:
                return transport.update(target, message)
        thread = self.store.message_ref(row["thread_of"]) if row["thread_of"] else None
        if thread is not None:  # the thread lives where its message went, whatever the routing says now
            return transport.send(message, Destination(thread.channel, thread_ts=thread.ts))
        return transport.send(message, Destination(row["channel"], charts_in_thread=True))

    def _failed(self, row: RowMapping, exc: Exception) -> str:
        retry, retry_after = transient(exc)
        attempts = row["attempts"] + 1
        error = f"{type(exc).__name__}: {exc}"[:500]
        with self.store.transaction() as tx:
            if retry:
                tx.execute(
                    "UPDATE deliveries SET attempts = :attempts, last_error = :error, next_attempt_at = :due,"
                    " claimed_until = NULL WHERE key = :key",
                    {
                        "attempts": attempts,
                        "error": error,
                        "due": self.clock() + self.backoff.delay(attempts, retry_after),
                        "key": row["key"],
                    },
                )
            else:
                tx.execute(
                    "UPDATE deliveries SET status = 'failed', attempts = :attempts, last_error = :error,"
                    " error_code = :code, claimed_until = NULL WHERE key = :key",
                    {
                        "attempts": attempts,
                        "error": error,
                        "code": next(filter(None, map(error_code, _causes(exc))), None),
                        "key": row["key"],
                    },
                )
        if retry:
            log.warning("delivery %s failed (attempt %d), will retry: %s", row["key"], attempts, error)
            return "retrying"
        log.error("delivery %s failed for good: %s", row["key"], error)
        return "failed"

    def _message(self, row: RowMapping) -> Message:
        charts = [
            ChartImage(bytes(c["png"]), c["filename"], c["title"], c["alt_text"])
            for c in self.store.fetchall(
                "SELECT * FROM delivery_charts WHERE key = :key ORDER BY position", {"key": row["key"]}
            )
        ]
        blocks = [Block.parse(b) for b in json.loads(row["blocks"])]
        return Message(row["text"], [b for b in blocks if b is not None], charts)


def _failed_delivery(row: RowMapping) -> FailedDelivery:
    return FailedDelivery(row["key"], row["channel"], row["error_code"], row["last_error"] or "", row["text"])
