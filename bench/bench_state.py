"""Outbox throughput on the two state databases: PostgreSQL next to SQLite, claim + deliver.

Setup: a SQLite state file (WAL, as the bot opens it) in a temporary folder, and a real PostgreSQL
server started for the bench (Debian's ``postgresql``, fresh ``initdb``, default durability: fsync
and synchronous commit on; tests/postgres_server.py), both through codex-bot's own ``Store``.

For each database: --deliveries messages are enqueued (one transaction each, as alerts and digests
enqueue), then flushed by one bot process, and again by --replicas processes at once sharing the
database (each claims a delivery before sending it: SQLite's write lock, PostgreSQL's ``FOR UPDATE
SKIP LOCKED``).  The transport takes each message at once (no Slack), so the figures are the state
database's cost per delivery: claim, mark sent, record the message reference, read what is due.
Every delivery is checked sent exactly once.  Best of --repeat runs.

    python bench/bench_state.py [--deliveries 1000] [--replicas 2] [--repeat 3]
"""

from __future__ import annotations

import multiprocessing
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import TextIO

from common import REPO, Figure, run_alone, say

from codex_bot.delivery.message import Delivery, Destination, Message
from codex_bot.delivery.outbox import Outbox, Outgoing
from codex_bot.store import MessageRef, Store

sys.path.insert(0, str(REPO / "tests"))
from postgres_server import PostgresServer


class TakesAll:
    """A transport that takes every message at once and counts them."""

    def __init__(self) -> None:
        self.sent = 0

    def send(self, message: Message, destination: Destination) -> Delivery:
        self.sent += 1
        return Delivery(destination.channel, f"1800000000.{self.sent:06d}")

    def update(self, ref: MessageRef, message: Message) -> Delivery:
        return Delivery(ref.channel, ref.ts)


def enqueue(target: str, count: int, run: int) -> float:
    """Enqueue ``count`` deliveries, one transaction each; the seconds it took."""
    outbox = Outbox(Store.open(target))
    started = time.perf_counter()
    for i in range(count):
        outbox.put(Outgoing(f"bench:{run}:{i}", "C0BENCH", Message(f"alert {i} of run {run}")))
    seconds = time.perf_counter() - started
    outbox.store.close()
    return seconds


def drain(target: str, sent: multiprocessing.Queue | None = None) -> int:
    """Flush until nothing is pending (one bot process); how many this process sent."""
    outbox, transport = Outbox(Store.open(target)), TakesAll()
    while outbox.flush(transport).sent or outbox.pending_count():
        pass
    outbox.store.close()
    if sent is not None:
        sent.put(transport.sent)
    return transport.sent


def deliver(target: str, processes: int) -> tuple[float, int]:
    """Seconds for ``processes`` bot processes to send everything pending, and how many they sent."""
    if processes == 1:
        started = time.perf_counter()
        sent = drain(target)
        return time.perf_counter() - started, sent
    ctx = multiprocessing.get_context("fork")
    counts: multiprocessing.Queue = ctx.Queue()
    workers = [ctx.Process(target=drain, args=(target, counts)) for _ in range(processes)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    seconds = time.perf_counter() - started
    return seconds, sum(counts.get() for _ in workers)


def rates(target: str, deliveries: int, replicas: int, repeat: int) -> dict[str, list[float]]:
    """deliveries/s per phase over ``repeat`` runs, each on the same database (grown by the earlier runs)."""
    found: dict[str, list[float]] = {"enqueue": [], "deliver, 1 process": [], f"deliver, {replicas} processes": []}
    run = 0
    for _ in range(repeat):
        for processes in (1, replicas):
            run += 1
            found["enqueue"].append(deliveries / enqueue(target, deliveries, run))
            seconds, sent = deliver(target, processes)
            if sent != deliveries:
                raise AssertionError(f"{sent} sent of {deliveries}: a delivery was sent twice or lost")
            found[f"deliver, {processes} process{'es' if processes > 1 else ''}"].append(deliveries / seconds)
    store = Store.open(target)
    total = store.fetchone("SELECT COUNT(*) AS n, COUNT(DISTINCT key) AS keys FROM deliveries WHERE status = 'sent'")
    store.close()
    assert total is not None and total["n"] == total["keys"] == run * deliveries
    return found


def measure(deliveries: int = 1000, replicas: int = 2, repeat: int = 3, out: TextIO | None = None) -> list[Figure]:
    with tempfile.TemporaryDirectory(prefix="codex-bot-bench-state-") as folder:
        say(out, f"SQLite: {folder}/state.sqlite; {deliveries} deliveries per run, best of {repeat}")
        sqlite = rates(str(Path(folder) / "state.sqlite"), deliveries, replicas, repeat)
    server = PostgresServer(durable=True)
    try:
        server.start()
        say(out, f"PostgreSQL: {server.url} (fsync on)")
        postgres = rates(server.new_database("bench"), deliveries, replicas, repeat)
    finally:
        server.stop()
    figures = []
    for phase in sqlite:
        best_sqlite, best_pg = max(sqlite[phase]), max(postgres[phase])
        say(
            out,
            f"{phase:24s} SQLite {best_sqlite:8,.0f}/s   PostgreSQL {best_pg:8,.0f}/s   "
            f"ratio {best_pg / best_sqlite:.2f}  (medians {statistics.median(sqlite[phase]):,.0f} / "
            f"{statistics.median(postgres[phase]):,.0f})",
        )
        figures += [
            Figure(f"outbox {phase}, SQLite", best_sqlite, "deliveries/s", None, f"best of {len(sqlite[phase])} runs"),
            Figure(
                f"outbox {phase}, PostgreSQL",
                best_pg,
                "deliveries/s",
                None,
                f"best of {len(postgres[phase])} runs; fsync on",
            ),
            Figure(
                f"outbox {phase}, PostgreSQL ÷ SQLite", best_pg / best_sqlite, "×", None, "above 1: PostgreSQL faster"
            ),
        ]
    return figures


if __name__ == "__main__":
    run_alone(__doc__, measure, shared=False, deliveries=1000, replicas=2, repeat=3)
