"""``codex-bot state migrate``: a SQLite state file with every kind of state copied into an empty database
(the real PostgreSQL server, and another SQLite file), rows equal after; refusals that lose nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from clocks import ManualClock
from sqlalchemy import MetaData

from codex_bot.alerts.evaluate import Transition
from codex_bot.alerts.loader import load_rules
from codex_bot.alerts.records import AlertRecords
from codex_bot.alerts.silences import Silences
from codex_bot.alerts.state import AlertState
from codex_bot.cli import main
from codex_bot.delivery.message import ChartImage, Message
from codex_bot.delivery.outbox import Outbox, Outgoing
from codex_bot.digests.definitions import DigestDefinition
from codex_bot.digests.layout import DigestMessages
from codex_bot.digests.schedule import DigestScheduler
from codex_bot.store import MessageRef, Store

AT = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
PNG = b"\x89PNG\r\n\x1a\n\x00\xff" + b"chart" * 50
RULES = """routing: {default: C0ALERTS}
rules:
  - {name: busy, figure: usage.total, group_by: [user], window: 1h, condition: above 0.5, for: 0, repeat: 0}
"""


def sqlite_state(tmp_path: Path) -> Path:
    """A state file as a running bot leaves it: alerts fired and resolved, a silence, a lease, deliveries
    sent and pending (with a chart), digest slots and the digest scheduler's stored jobs."""
    path = tmp_path / "old" / "state.sqlite"
    store = Store.open(path)
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "busy.yaml").write_text(RULES)
    rules = {rule.name: rule for rule in load_rules(folder).rules}
    firing = [
        AlertState("busy", {"user": u}, "firing", AT, 3.5 + i, 0.5, AT - timedelta(minutes=5), AT)
        for i, u in enumerate(["ana@example.com", "bo@example.com", "cy@example.com"])
    ]
    resolved = AlertState("busy", {"user": "bo@example.com"}, "inactive", AT + timedelta(hours=1), 0.0, 0.5)
    records = AlertRecords(store)
    with store.transaction() as tx:
        records.save(tx, firing, [Transition(None, s) for s in firing], rules)
    with store.transaction() as tx:
        records.save(tx, [resolved], [Transition(firing[1], resolved)], rules)
        store.put_message_ref(tx, "alert:1:firing", MessageRef("C0ALERTS", "1700000000.000100"))
        store.put_value(tx, "alerts/failing-since", AT.isoformat())
    store.lease("alerts/cycle", "bot-1", 180, now=AT.timestamp())
    Silences(store).add("busy", AT, AT + timedelta(hours=4), "U0ADMIN", {"user": "cy@example.com"}, "on leave")
    outbox = Outbox(store, clock=ManualClock(AT.timestamp()))
    outbox.put(Outgoing("alert:1:firing", "C0ALERTS", Message("firing", charts=[ChartImage(PNG, "c.png", "C", "a")])))
    outbox.put(Outgoing("alert:1:resolved", "C0ALERTS", Message("resolved"), thread_of="alert:1:firing"))
    with store.transaction() as tx:
        tx.execute(
            "UPDATE deliveries SET status = 'sent', sent_at = :at WHERE key = 'alert:1:firing'",
            {"at": AT.timestamp() + 0.25},
        )
    daily = DigestDefinition(name="daily", channel="#eng", schedule="0 9 * * *")
    compose = lambda digest, slot: DigestMessages(Message(f"{digest.name} {slot:%F}"), [Message("details")])
    clock = ManualClock(AT - timedelta(days=2))
    digests = DigestScheduler([daily], compose, store, outbox, clock=clock)
    digests.run_due()
    clock.now = AT + timedelta(minutes=1)
    digests.run_due()
    digests.ledger.skip("daily", AT - timedelta(days=5), AT, "superseded")
    digests.start()
    digests.shutdown()
    store.close()
    return path


def every_row(target: str) -> dict[str, list[tuple]]:
    """Every table's rows (bytes as bytes), sorted, without the per-database migration log."""
    store = Store.open(target)
    try:
        metadata = MetaData()
        metadata.reflect(bind=store.engine)
        found = {}
        for name in metadata.tables:
            if name in ("schema_migrations", "sqlite_sequence"):
                continue
            rows = store.fetchall(f"SELECT * FROM {name}")
            found[name] = sorted(
                (
                    tuple(sorted((k, bytes(v) if isinstance(v, memoryview) else v) for k, v in row.items()))
                    for row in rows
                ),
                key=repr,
            )
        return found
    finally:
        store.close()


def test_every_row_of_a_sqlite_state_file_arrives_and_numbering_carries_on(tmp_path, state_target, capsys):
    source = sqlite_state(tmp_path)
    before = every_row(str(source))
    assert all(
        before[name]
        for name in (
            "alert_states",
            "alert_episodes",
            "silences",
            "message_refs",
            "kv",
            "deliveries",
            "delivery_charts",
            "digest_slots",
            "digest_schedules",
            "apscheduler_jobs",
        )
    ), {k: len(v) for k, v in before.items()}

    assert main(["state", "migrate", "--from", str(source), "--to", state_target]) == 0
    out = capsys.readouterr().out
    assert "alert_episodes: 3 rows" in out and "delivery_charts: 1 rows" in out
    assert f"copied {sum(len(rows) for rows in before.values())} rows" in out

    assert every_row(state_target) == before
    assert every_row(str(source)) == before  # the source is only read
    moved = Store.open(state_target)
    try:  # new rows are numbered after the copied ones
        silence = Silences(moved).add("busy", AT, AT + timedelta(hours=1), "U0ADMIN")
        assert silence.id == 2
        assert bytes(moved.fetchone("SELECT png FROM delivery_charts")["png"]) == PNG
        assert moved.value("lease/alerts/cycle") == f"bot-1@{AT.timestamp() + 180}"
    finally:
        moved.close()


def test_a_target_that_already_holds_state_is_refused_and_left_alone(tmp_path, state_target, capsys):
    source = sqlite_state(tmp_path)
    assert main(["state", "migrate", "--from", str(source), "--to", state_target]) == 0
    copied = every_row(state_target)
    capsys.readouterr()
    assert main(["state", "migrate", "--from", str(source), "--to", state_target]) == 2
    error = capsys.readouterr().err
    assert "already holds state" in error and "3 rows in alert_episodes" in error and "empty database" in error
    assert every_row(state_target) == copied


def test_a_missing_source_file_or_target_says_what_to_give(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("CODEX_BOT_DATABASE_URL", raising=False)
    assert (
        main(["state", "migrate", "--from", str(tmp_path / "nope.sqlite"), "--to", "postgresql://x@127.0.0.1:1/x"]) == 2
    )
    assert "no SQLite state file at" in capsys.readouterr().err
    assert main(["state", "migrate", "--from", str(sqlite_state(tmp_path))]) == 2
    assert "--to postgresql+psycopg://" in capsys.readouterr().err
