"""The state store on SQLite and on PostgreSQL: migrations, transactions, message references, leases,
several processes; and SQLite's own file, WAL mode and waiting writer."""

from __future__ import annotations

import multiprocessing
import re
import sqlite3
import threading
import time

import pytest
from postgres_server import PostgresServer
from sqlalchemy import inspect

import codex_bot.alerts.records
import codex_bot.alerts.silences  # noqa: F401 - the alerts feature registers its tables' migrations
from codex_bot import store as store_module
from codex_bot.cli import main
from codex_bot.demo.prometheus import free_port
from codex_bot.settings import SettingsError, load_settings
from codex_bot.store import MessageRef, StateDatabaseError, Store, add_migration


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "state" / "codex-bot.sqlite"


def tables(store: Store) -> set[str]:
    return set(inspect(store.engine).get_table_names())


def test_open_creates_the_file_in_wal_mode_with_core_tables(db_path):
    store = Store.open(db_path)
    assert db_path.exists()
    assert store.fetchone("PRAGMA journal_mode")["journal_mode"] == "wal"
    assert {"message_refs", "kv", "alert_states", "alert_episodes", "silences", "schema_migrations"} <= tables(store)


def test_open_creates_the_core_tables_on_either_database(state_target):
    store = Store.open(state_target)
    assert {"message_refs", "kv", "alert_states", "alert_episodes", "silences", "schema_migrations"} <= tables(store)


def test_an_unsupported_database_url_is_refused_with_what_to_give_instead():
    with pytest.raises(StateDatabaseError, match="postgresql\\+psycopg://"):
        Store.open("mysql://root@127.0.0.1/state")


def test_migrations_apply_once_and_packages_can_extend_the_list(state_target, monkeypatch):
    monkeypatch.setattr(store_module, "MIGRATIONS", list(store_module.MIGRATIONS))
    first = Store.open(state_target)
    assert first.migrate() == []
    add_migration("test/001-widgets", "CREATE TABLE widgets (id {id}, name TEXT, weight {real}, png {blob})")
    add_migration("test/001-widgets", "CREATE TABLE never_created (x TEXT)")  # same name: ignored
    assert first.migrate() == ["test/001-widgets"]
    assert Store.open(state_target).migrate() == []
    names = [r["name"] for r in first.fetchall("SELECT name FROM schema_migrations")]
    assert names.count("test/001-widgets") == 1
    assert "widgets" in tables(first) and "never_created" not in tables(first)
    with first.transaction() as tx:  # {id} numbers rows, {real} keeps a double's precision, {blob} bytes
        tx.execute(
            "INSERT INTO widgets (name, weight, png) VALUES ('a', 1800000000.123456, :png)", {"png": b"\x89PNG\x00"}
        )
        tx.execute("INSERT INTO widgets (name, weight, png) VALUES ('b', 0.5, :png)", {"png": b""})
    rows = first.fetchall("SELECT id, name, weight, png FROM widgets ORDER BY id")
    assert [(r["id"], r["name"], r["weight"], bytes(r["png"])) for r in rows] == [
        (1, "a", 1800000000.123456, b"\x89PNG\x00"),
        (2, "b", 0.5, b""),
    ]


def test_replicas_starting_at_once_on_an_empty_database_apply_each_migration_once(state_target):
    ctx = multiprocessing.get_context("spawn")
    together = ctx.Barrier(3)
    workers = [ctx.Process(target=_open_everything, args=(state_target, together)) for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    store = Store.open(state_target)
    assert {"deliveries", "digest_slots", "apscheduler_jobs", "alert_episodes"} <= tables(store)
    assert store.fetchone("SELECT COUNT(*) AS n FROM schema_migrations")["n"] >= 6


def _open_everything(target: str, together: multiprocessing.synchronize.Barrier) -> None:
    import codex_bot.cli.state  # noqa: F401 - registers every package's migrations, as `serve` does

    together.wait(30)
    Store.open(target).close()


def test_a_failing_transaction_rolls_back_everything(state_target):
    store = Store.open(state_target)
    with pytest.raises(RuntimeError), store.transaction() as tx:
        store.put_value(tx, "k", "v")
        store.put_message_ref(tx, "m", MessageRef("C1", "1.1"))
        raise RuntimeError("boom")
    assert store.value("k") is None and store.message_ref("m") is None


def test_nested_transactions_join_the_outer_one(state_target):
    store = Store.open(state_target)
    with pytest.raises(RuntimeError), store.transaction() as outer:
        with store.transaction() as inner:
            store.put_value(inner, "inner", "1")
        store.put_value(outer, "outer", "1")
        assert store.value("inner") == "1"  # a read inside the transaction sees its own writes
        raise RuntimeError("boom")
    assert store.value("inner") is None and store.value("outer") is None


def test_message_refs_and_values_round_trip_and_survive_reopen(state_target):
    store = Store.open(state_target)
    with store.transaction() as tx:
        store.put_message_ref(tx, "alert:1:firing", MessageRef("C0ALERTS", "1700000000.000001"))
        store.put_value(tx, "alerts/health", "error")
    store.close()
    again = Store.open(state_target)
    assert again.message_ref("alert:1:firing") == MessageRef("C0ALERTS", "1700000000.000001")
    assert again.value("alerts/health") == "error"
    with again.transaction() as tx:
        again.put_value(tx, "alerts/health", None)
    assert again.value("alerts/health") is None


def _write_values(target: str, prefix: str, count: int) -> None:
    store = Store.open(target)
    for i in range(count):
        with store.transaction() as tx:
            store.put_value(tx, f"{prefix}{i}", str(i))


def test_several_processes_write_the_same_database(state_target):
    Store.open(state_target)
    ctx = multiprocessing.get_context("spawn")
    workers = [ctx.Process(target=_write_values, args=(state_target, f"p{n}-", 50)) for n in range(2)]
    for worker in workers:
        worker.start()
    _write_values(state_target, "main-", 50)
    for worker in workers:
        worker.join(30)
        assert worker.exitcode == 0
    count = Store.open(state_target).fetchone("SELECT COUNT(*) AS n FROM kv")["n"]
    assert count == 150


def test_a_second_writer_waits_instead_of_failing(db_path):
    store = Store.open(db_path)
    other = sqlite3.connect(db_path, timeout=5, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO kv VALUES ('other', 'x', 0)")

    threading.Timer(0.2, lambda: other.execute("COMMIT")).start()
    with store.transaction() as tx:
        store.put_value(tx, "mine", "y")
    assert store.value("other") == "x" and store.value("mine") == "y"


def test_a_lease_asked_for_while_another_process_is_taking_it_waits_and_is_refused(state_target):
    """B takes the (expired) lease in a transaction that lasts; A asking meanwhile must wait for B's answer
    (PostgreSQL: the lease row is read FOR UPDATE; SQLite: BEGIN IMMEDIATE), not take it too."""
    a, b = Store.open(state_target), Store.open(state_target)
    now = time.time()
    assert a.lease("cycle", "old", 1, now=now - 10)  # a row exists, expired
    taking = threading.Event()

    def b_takes() -> None:
        with b.transaction():
            assert b.lease("cycle", "B", 60, now=now)
            taking.set()
            time.sleep(0.5)

    thread = threading.Thread(target=b_takes)
    thread.start()
    taking.wait(10)
    assert a.lease("cycle", "A", 60, now=now) is False
    thread.join(10)
    assert a.value("lease/cycle").rpartition("@")[0] == "B"


def _race_for_lease(target: str, owner: str, rounds: int, wins: multiprocessing.Queue) -> None:
    store = Store.open(target)
    for round_ in range(rounds):
        if store.lease(f"round-{round_}", owner, 3600):
            wins.put(round_)


def test_of_processes_racing_for_a_lease_exactly_one_wins_each_time(state_target):
    Store.open(state_target).close()
    ctx = multiprocessing.get_context("spawn")
    wins: multiprocessing.Queue = ctx.Queue()
    workers = [ctx.Process(target=_race_for_lease, args=(state_target, f"p{n}", 40, wins)) for n in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    won = sorted(wins.get(timeout=5) for _ in range(40))
    assert won == list(range(40)) and wins.empty()


def test_the_database_url_setting_puts_the_state_in_postgresql(postgres, monkeypatch, tmp_path):
    url = postgres.new_database()
    monkeypatch.setenv("CODEX_BOT_STATE_DB", str(tmp_path / "unused.sqlite"))
    monkeypatch.setenv("CODEX_BOT_DATABASE_URL", url.replace("postgresql+psycopg://", "postgresql://"))
    settings = load_settings()
    store = Store.open(settings.state_target)  # plain postgresql:// means psycopg 3, the driver installed
    try:
        assert store.dialect == "postgresql" and store.engine.url.drivername == "postgresql+psycopg"
        assert "kv" in tables(store) and not (tmp_path / "unused.sqlite").exists()
    finally:
        store.close()
        postgres.drop_database(url)
    monkeypatch.delenv("CODEX_BOT_DATABASE_URL")
    assert load_settings().state_target == tmp_path / "unused.sqlite"  # unset: the SQLite file, as before


def test_a_bad_database_url_setting_names_the_variable(monkeypatch):
    monkeypatch.setenv("CODEX_BOT_DATABASE_URL", "mysql://root:secret@db/state")
    with pytest.raises(SettingsError, match=r"CODEX_BOT_DATABASE_URL: .*postgresql\+psycopg://") as caught:
        load_settings()
    assert "secret" not in str(caught.value)  # the password is not echoed


def test_the_store_names_its_database_without_the_password(postgres):
    store = Store.open(postgres.url.replace("postgres@", "postgres:hunter2@"))  # trust auth ignores it
    try:
        assert "hunter2" not in store.url and store.url.endswith(f":{postgres.port}/postgres")
    finally:
        store.close()


def test_an_unreachable_database_is_a_clear_error_naming_it_without_the_password(tmp_path, capsys):
    url = f"postgresql+psycopg://codex:hunter2@127.0.0.1:{free_port()}/state"
    with pytest.raises(StateDatabaseError, match=r"cannot open the state database .*127\.0\.0\.1.*/state: ") as caught:
        Store.open(url)
    assert "hunter2" not in str(caught.value)
    Store.open(tmp_path / "state.sqlite").close()
    assert main(["state", "migrate", "--from", str(tmp_path / "state.sqlite"), "--to", url]) == 2
    error = capsys.readouterr().err
    assert error.startswith("codex-bot: cannot open the state database") and "Traceback" not in error


def test_the_store_carries_on_once_a_restarted_postgresql_is_back():
    """A bot keeps its Store while PostgreSQL restarts: the first call after the restart works (pooled
    connections are checked before use), no failed cycle."""
    server = PostgresServer()
    try:
        server.start()
        store = Store.open(server.new_database())
        assert store.lease("alerts/cycle", "bot-1", 60)
        server.restart()
        assert store.lease("alerts/cycle", "bot-1", 60)  # the pooled connection died; a new one is used
        assert store.value("lease/alerts/cycle").startswith("bot-1@")
        store.close()
    finally:
        server.stop()


def test_each_feature_owns_the_migrations_of_its_tables():
    owners: dict[str, str] = {}
    for migration in store_module.MIGRATIONS:
        for statement in migration.statements:
            created = re.search(r"CREATE TABLE (?:IF NOT EXISTS )?(\w+)", statement)
            if created:
                owners[created.group(1)] = migration.name.split("/")[0]
    assert owners["message_refs"] == owners["kv"] == "store"
    assert owners["alert_states"] == owners["alert_episodes"] == owners["silences"] == "alerts"
    assert owners["deliveries"] == "outbox" and owners["digest_slots"] == "digests"
    assert owners["budget_notices"] == "budgets"


def test_a_database_whose_alert_tables_came_from_the_core_migration_upgrades_and_keeps_its_rows(state_target):
    """Before the alert tables had their own migrations, store/001-core made them: those databases record
    neither alerts/001 migration, which must then run over the existing tables without touching their rows."""
    store = Store.open(state_target)
    with store.transaction() as tx:
        tx.execute(
            "INSERT INTO silences (rule, matchers, starts_at, ends_at, created_by) VALUES ('r', '{}', 1, 2, 'U1')"
        )
        tx.execute(
            "DELETE FROM schema_migrations WHERE name IN ('alerts/001-states-and-episodes', 'alerts/001-silences')"
        )
    store.close()
    again = Store.open(state_target)
    try:
        assert again.migrate() == []  # Store.open applied both again, over the existing tables
        applied = {row["name"] for row in again.fetchall("SELECT name FROM schema_migrations")}
        assert {"alerts/001-states-and-episodes", "alerts/001-silences"} <= applied
        assert [row["created_by"] for row in again.fetchall("SELECT created_by FROM silences")] == ["U1"]
    finally:
        again.close()
