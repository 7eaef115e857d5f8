"""Helpers for the fault-injection and scale-out tests (``test_faults_*``, ``test_scaleout_*``).

Misbehaving servers (one that accepts and never answers, one with a canned answer), a Slack that
fails a share of calls at random, a reverse proxy in front of Prometheus (tenant-checking or slow),
a Prometheus scraping several targets, a reader of the label matchers in PromQL text, and the bot
that the ``kill -9`` and two-replica tests run as separate processes
(``python fault_helpers.py cycles|scheduler …``).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import socket
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self

import requests
from loopback import InThread
from prometheus_fleet import PrometheusServer, require_binaries
from slack_emulator import SlackEmulator, blocks_of

from codex_bot.metrics.increase import EDGE_MARK

LOOPBACK = "127.0.0.1"


# --- servers that misbehave ---


class SilentServer:
    """Accepts TCP connections on 127.0.0.1 and never reads or answers (a hung Prometheus)."""

    def __init__(self) -> None:
        self._listener = socket.create_server((LOOPBACK, 0))
        self.url = f"http://{LOOPBACK}:{self._listener.getsockname()[1]}"
        self._held: list[socket.socket] = []
        self._closed = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return
            self._held.append(connection)

    def close(self) -> None:
        self._closed.set()
        self._listener.close()
        for connection in self._held:
            connection.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Served:
    """A ThreadingHTTPServer on a free loopback port in a daemon thread."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self.server = ThreadingHTTPServer((LOOPBACK, 0), handler)
        self.server.daemon_threads = True
        self.url = f"http://{LOOPBACK}:{self.server.server_address[1]}"
        self._running = InThread(self.server).start()

    def close(self) -> None:
        self._running.stop()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _reply(
    handler: BaseHTTPRequestHandler, status: int, content_type: str, body: bytes, headers: dict[str, str] | None = None
) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(body)))
    for key, value in (headers or {}).items():
        handler.send_header(key, value)
    handler.end_headers()
    handler.wfile.write(body)


class CannedServer(_Served):
    """Answers every request with the same status, content type and body (e.g. a 503 HTML error page)."""

    def __init__(self, status: int, content_type: str, body: bytes) -> None:
        self.hits = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                outer.hits += 1
                _reply(self, status, content_type, body)

            do_POST = do_GET

        super().__init__(Handler)


class ForwardingProxy(_Served):
    """A reverse proxy in front of a Prometheus: forwards every request, after ``delay`` seconds.

    With ``require=(header, value)`` it forwards only requests carrying that header, like a
    multi-tenant backend (Mimir, Cortex) reading ``X-Scope-OrgID``; others get 401.  ``seen``
    counts the requests forwarded, ``refused`` those without the header.
    """

    def __init__(self, upstream: str, *, require: tuple[str, str] | None = None, delay: float = 0.0) -> None:
        self.seen = 0
        self.refused = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                if require and self.headers.get(require[0]) != require[1]:
                    outer.refused += 1
                    body = json.dumps({"status": "error", "error": "no org id"}).encode()
                    return _reply(self, 401, "application/json", body)
                outer.seen += 1
                time.sleep(delay)
                data = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                kept = {k: v for k, v in self.headers.items() if k.lower() in ("content-type", "accept")}
                answer = requests.request(
                    self.command, upstream + self.path, data=data or None, headers=kept, timeout=30
                )
                _reply(self, answer.status_code, answer.headers.get("Content-Type", "application/json"), answer.content)

            do_POST = do_GET

        super().__init__(Handler)


# --- a Slack that fails a share of calls ---


class FlakySlack(SlackEmulator):
    """The Slack emulator failing ``share`` of the calls to ``methods`` at random (seeded).

    A failed call answers HTTP 429 with ``Retry-After`` (0 or 1 s) or a 5xx, half each, and
    posts nothing.  ``injected`` counts the failures by status.
    """

    def __init__(self, share: float, methods: Sequence[str], seed: int, channels: Sequence[str] = ("alerts",)) -> None:
        super().__init__(channels=channels)
        self.share, self.methods = share, frozenset(methods)
        self._rng = random.Random(seed)
        self.injected: Counter[int] = Counter()

    def answer(self, method: str, body: dict[str, Any], auth: str) -> tuple[int, dict[str, Any], dict[str, str]]:
        with self._lock:
            fail = method in self.methods and self._rng.random() < self.share
            status = self._rng.choice([429, 429, 429, 500, 502, 503]) if fail else 200
            retry_after = self._rng.choice(["0", "1"])
            if fail:
                self.injected[status] += 1
        if status == 429:
            return 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": retry_after}
        if status != 200:
            return status, {"ok": False, "error": "internal_error"}, {}
        return super().answer(method, body, auth)


def _episode_buttons(blocks: Any, episodes: dict[str, Any]) -> Any:
    """``blocks`` with each alert button's value (an episode number) replaced by that episode's identity."""
    if isinstance(blocks, list):
        return [_episode_buttons(block, episodes) for block in blocks]
    if not isinstance(blocks, dict):
        return blocks
    found = {k: _episode_buttons(v, episodes) for k, v in blocks.items()}
    if found.get("type") == "button" and str(found.get("value")) in episodes:
        found["value"] = episodes[str(found["value"])]
    return found


def slack_actions(slack: SlackEmulator, episodes: dict[str, Any] | None = None) -> Counter[tuple[Any, ...]]:
    """Every message Slack accepted (posts and edits), as comparable signatures, with their counts.

    A signature is (method, text, blocks, signature of the parent message): thread replies and edits
    are tied to what they reply to or edit by content, since ``ts`` values differ between runs.  With
    ``episodes`` (episode number → identity, e.g. rule, group and firing time), buttons name the episode
    by identity: PostgreSQL never reuses a number drawn by a transaction that a kill rolled back, so the
    numbers of two runs may differ while they denote the same episodes.
    """
    by_ts: dict[str, tuple[Any, ...]] = {}
    actions: Counter[tuple[Any, ...]] = Counter()
    for call in slack.calls:
        if call.status != 200 or not isinstance(call.answer, dict) or not call.answer.get("ok"):
            continue
        body = call.body
        content = (body.get("text"), json.dumps(_episode_buttons(blocks_of(body), episodes or {}), sort_keys=True))
        if call.method == "chat.postMessage":
            parent = by_ts.get(body.get("thread_ts") or "")
            signature = ("post", *content, parent)
            if not body.get("thread_ts"):
                by_ts[call.answer["ts"]] = signature
            actions[signature] += 1
        elif call.method == "chat.update":
            actions[("update", *content, by_ts.get(body["ts"]))] += 1
    return actions


# --- Prometheus scraping several targets ---


@contextmanager
def prometheus_scraping(targets: Sequence[str], work: Path) -> Iterator[str]:
    """A real Prometheus (empty TSDB) scraping every ``host:port`` in ``targets`` each second."""
    binary, _ = require_binaries()
    server = PrometheusServer(binary, work / "tsdb", work)
    url = server.start()
    try:
        listed = ", ".join(f"'{target}'" for target in targets)
        (work / "prometheus.yml").write_text(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
            f"scrape_configs:\n  - job_name: ingest\n    static_configs:\n      - targets: [{listed}]\n"
        )
        assert server.process is not None
        server.process.send_signal(signal.SIGHUP)
        _wait_targets_up(url, set(targets), server)
        yield url
    finally:
        server.stop()


def _wait_targets_up(url: str, targets: set[str], server: PrometheusServer, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        active = requests.get(f"{url}/api/v1/targets", timeout=5).json()["data"]["activeTargets"]
        if {t["labels"]["instance"] for t in active if t["health"] == "up"} >= targets:
            return
        time.sleep(0.2)
    raise AssertionError(f"Prometheus never scraped all of {sorted(targets)}:\n{server.log_tail()}")


# --- reading label matchers back out of PromQL text ---

_GO_ESCAPES = {
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
    "\\": "\\",
    '"': '"',
    "'": "'",
}


def _string_literal(text: str, start: int) -> tuple[str, int]:
    """Decode the double-quoted PromQL (Go) string starting at ``text[start]``; (value, index after it)."""
    out, i = [], start + 1
    while text[i] != '"':
        if text[i] in "\n":
            raise ValueError(f"raw newline inside a string at {i}")
        if text[i] != "\\":
            out.append(text[i])
            i += 1
            continue
        kind = text[i + 1]
        if kind in _GO_ESCAPES:
            out.append(_GO_ESCAPES[kind])
            i += 2
        elif kind in "uUx":
            width = {"u": 4, "U": 8, "x": 2}[kind]
            out.append(chr(int(text[i + 2 : i + 2 + width], 16)))
            i += 2 + width
        elif kind in "01234567":
            out.append(chr(int(text[i + 1 : i + 4], 8)))
            i += 4
        else:
            raise ValueError(f"unknown escape \\{kind} at {i}")
    return "".join(out), i + 1


def label_matchers(promql: str) -> list[dict[str, tuple[str, str]]]:
    """Each selector's matchers ``{label: (operator, value)}``, read by scanning the text.

    Raises ValueError when a string literal appears anywhere but as a matcher's value, or a
    selector holds anything but ``label op "string"`` items: a value that escaped its quotes
    would show up as one of these.  The exact-count template's ``label_replace`` arguments
    (:data:`~codex_bot.metrics.increase.EDGE_MARK`, a constant; a typed value inside a string
    literal has its quotes escaped, so it can never read as this text) are skipped.
    """
    promql = promql.replace(EDGE_MARK, "")
    selectors: list[dict[str, tuple[str, str]]] = []
    i, current = 0, None
    while i < len(promql):
        char = promql[i]
        if char == '"':
            raise ValueError(f"a string outside a matcher at {i}: {promql!r}")
        if char == "{":
            current, i = {}, i + 1
            while True:
                while promql[i] in " ,":
                    i += 1
                if promql[i] == "}":
                    break
                name_end = i
                while promql[name_end].isalnum() or promql[name_end] == "_":
                    name_end += 1
                name = promql[i:name_end]
                op = next((o for o in ("!=", "=~", "!~", "=") if promql.startswith(o, name_end)), None)
                if not name or op is None or promql[name_end + len(op)] != '"':
                    raise ValueError(f"not a matcher at {i}: {promql!r}")
                if name in current:
                    raise ValueError(f"label {name} matched twice: {promql!r}")
                value, i = _string_literal(promql, name_end + len(op))
                current[name] = (op, value)
            selectors.append(current)
        i += 1
    return selectors


# --- bot processes for the kill -9 and two-replica tests ---


def _worker_arguments(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="fault_helpers.py")
    parser.add_argument("mode", choices=("cycles", "scheduler"))
    parser.add_argument("db", help="the state database: a SQLite file or a postgresql+psycopg:// URL")
    parser.add_argument("rules", type=Path)
    parser.add_argument("prometheus")
    parser.add_argument("slack")
    parser.add_argument("--start", type=float, help="cycles: unix time of the first cycle")
    parser.add_argument("--step", type=float, default=60, help="seconds between cycles")
    parser.add_argument("--count", type=int, default=1, help="cycles: number of cycles")
    parser.add_argument("--seconds", type=float, default=5, help="scheduler: how long to run")
    parser.add_argument(
        "--die-after-save",
        type=int,
        metavar="K",
        help="SIGKILL itself when cycle K has recorded its states, before it notifies",
    )
    parser.add_argument(
        "--die-after-send",
        type=int,
        metavar="N",
        help="SIGKILL itself once Slack has accepted the N-th message, before it is recorded",
    )
    parser.add_argument(
        "--die-in-cycle",
        type=int,
        metavar="N",
        help="scheduler: SIGKILL itself in its N-th cycle once the states are recorded, before notifying",
    )
    parser.add_argument(
        "--digests",
        type=float,
        nargs=2,
        metavar=("EPOCH", "SPEED"),
        help="scheduler: also post an hourly digest (slot named in its text) through the real digest"
        " scheduler, on a clock that starts at unix time EPOCH and runs SPEED times the wall clock",
    )
    return parser.parse_args(argv)


def bot_worker(argv: Sequence[str]) -> int:
    """One bot process over a SQLite file, posting to the Slack emulator; prints ``ready`` then ``done``.

    ``cycles``: alert cycles at ``start + k·step`` like a bot whose clock moves forward, printing
    ``cycle K`` after each; a restarted worker resumes after the last cycle recorded in the database.
    ``scheduler``: the real alert scheduler (APScheduler, the cycle lease) at the wall clock for
    ``seconds``, then ``cycles N``: how many cycles this process ran (it held the lease); with ``--digests``
    also the digest scheduler (APScheduler, job store in the state database, slot ledger).  Either way it
    then delivers everything pending.
    """
    from datetime import UTC, datetime, timedelta
    from zoneinfo import ZoneInfo

    from slack_sdk import WebClient

    from codex_bot.alerts.engine import AlertEngine
    from codex_bot.alerts.loader import load_rules
    from codex_bot.alerts.scheduler import AlertScheduler
    from codex_bot.delivery.outbox import Backoff, Outbox
    from codex_bot.metrics.client import PrometheusClient
    from codex_bot.panels.cost import load_prices
    from codex_bot.slack.slack_transport import SlackTransport
    from codex_bot.store import Store

    args = _worker_arguments(argv)
    store = Store.open(args.db)
    # A restarted process is a new lease owner: let the dead one's claims lapse after 1 s, not 120 s.
    outbox = Outbox(store, backoff=Backoff(first=0, cap=0), lease_seconds=1.0)
    transport = SlackTransport(WebClient(token="xoxb-fault-worker", base_url=args.slack, retry_handlers=[], timeout=10))
    step = timedelta(seconds=args.step)
    engine = AlertEngine(
        load_rules(args.rules),
        PrometheusClient(args.prometheus, timeout=10),
        load_prices(),
        store,
        outbox,
        ZoneInfo("UTC"),
        interval=step,
        transport=transport,
    )
    _arm_kills(args, engine, transport)
    print("ready", flush=True)
    if args.mode == "scheduler":
        cycles, run_cycle = [], engine.run_cycle
        engine.run_cycle = lambda at=None: cycles.append(at) or run_cycle(at)
        scheduler = AlertScheduler(engine, outbox, transport, step)
        digests = _digest_scheduler(args, store, outbox, transport)
        scheduler.start()
        time.sleep(args.seconds)
        scheduler.shutdown()
        if digests is not None:
            digests.shutdown()
        print(f"cycles {len(cycles)}", flush=True)
    else:
        row = store.fetchone("SELECT MAX(evaluated_at) AS last FROM alert_states")
        last = row["last"] if row and row["last"] is not None else float("-inf")
        for k in range(args.count):
            at = datetime.fromtimestamp(args.start, UTC) + k * step
            if at.timestamp() > last:
                engine.run_cycle(at)
                print(f"cycle {k}", flush=True)
    deadline = time.monotonic() + 30
    while outbox.pending_count() and time.monotonic() < deadline:
        if not outbox.flush(transport).sent:
            time.sleep(0.05)
    print("done" if not outbox.pending_count() else "undelivered", flush=True)
    return 0


DIGEST_CHANNEL = "C0DIGESTS"


def _digest_scheduler(args: argparse.Namespace, store: Any, outbox: Any, transport: Any) -> Any:
    """With ``--digests``: the real digest scheduler posting an hourly digest on the fast clock; started."""
    if args.digests is None:
        return None
    from datetime import UTC, datetime

    from codex_bot.delivery.message import Message
    from codex_bot.digests.definitions import DigestDefinition
    from codex_bot.digests.layout import DigestMessages
    from codex_bot.digests.schedule import DigestScheduler

    epoch, speed = args.digests  # both replicas are given the same EPOCH: their clocks agree
    clock = lambda: datetime.fromtimestamp(epoch + (time.time() - epoch) * speed, UTC)
    hourly = DigestDefinition(name="hourly", channel=DIGEST_CHANNEL, schedule="0 * * * *", grace="3h")
    compose = lambda digest, slot: DigestMessages(Message(f"digest {digest.name} {slot:%Y-%m-%dT%H:%M}Z"), [])
    digests = DigestScheduler([hourly], compose, store, outbox, transport, clock=clock, tick_seconds=1)
    digests.start()
    return digests


def _arm_kills(args: argparse.Namespace, engine: Any, transport: Any) -> None:
    """Wrap the engine's notifier and the transport so the worker SIGKILLs itself at the asked point."""
    if args.die_after_save is not None or args.die_in_cycle is not None:
        cycle_at = args.start + args.die_after_save * args.step if args.die_after_save is not None else None
        notify, run_cycle, cycles = engine.notifier.notify, engine.run_cycle, [0]

        def counting(at=None):
            cycles[0] += 1
            return run_cycle(at)

        def notify_or_die(rules, routing, at, states=None):
            if at.timestamp() == cycle_at or cycles[0] == args.die_in_cycle:
                os.kill(os.getpid(), signal.SIGKILL)
            return notify(rules, routing, at, states)

        engine.notifier.notify, engine.run_cycle = notify_or_die, counting
    if args.die_after_send is not None:
        accepted = [0]

        def dying(method):
            def call(*a, **k):
                delivery = method(*a, **k)
                accepted[0] += 1
                if accepted[0] == args.die_after_send:
                    os.kill(os.getpid(), signal.SIGKILL)
                return delivery

            return call

        transport.send, transport.update = dying(transport.send), dying(transport.update)


if __name__ == "__main__":
    sys.exit(bot_worker(sys.argv[1:]))
