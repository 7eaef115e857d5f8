"""The SQLite state store: migrations, WAL, transactions, message references, several processes."""

from __future__ import annotations

import multiprocessing
import sqlite3

import pytest

from codex_bot import store as store_module
from codex_bot.store import MessageRef, Store, add_migration


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "state" / "codex-bot.sqlite"


def test_open_creates_the_file_in_wal_mode_with_core_tables(db_path):
    store = Store.open(db_path)
    assert db_path.exists()
    assert store.fetchone("PRAGMA journal_mode")[0] == "wal"
    tables = {r["name"] for r in store.fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"message_refs", "kv", "alert_states", "alert_episodes", "silences", "schema_migrations"} <= tables


def test_migrations_apply_once_and_packages_can_extend_the_list(db_path, monkeypatch):
    monkeypatch.setattr(store_module, "MIGRATIONS", list(store_module.MIGRATIONS))
    first = Store.open(db_path)
    assert first.migrate() == []
    add_migration("test/001-widgets", "CREATE TABLE widgets (id INTEGER PRIMARY KEY, name TEXT)")
    add_migration("test/001-widgets", "CREATE TABLE never_created (x)")  # same name: ignored
    assert first.migrate() == ["test/001-widgets"]
    assert Store.open(db_path).migrate() == []
    names = [r["name"] for r in first.fetchall("SELECT name FROM schema_migrations")]
    assert names.count("test/001-widgets") == 1
    assert first.fetchone("SELECT name FROM sqlite_master WHERE name = 'never_created'") is None


def test_a_failing_transaction_rolls_back_everything(db_path):
    store = Store.open(db_path)
    with pytest.raises(RuntimeError), store.transaction() as tx:
        store.put_value(tx, "k", "v")
        store.put_message_ref(tx, "m", MessageRef("C1", "1.1"))
        raise RuntimeError("boom")
    assert store.value("k") is None and store.message_ref("m") is None


def test_nested_transactions_join_the_outer_one(db_path):
    store = Store.open(db_path)
    with pytest.raises(RuntimeError), store.transaction() as outer:
        with store.transaction() as inner:
            store.put_value(inner, "inner", "1")
        store.put_value(outer, "outer", "1")
        raise RuntimeError("boom")
    assert store.value("inner") is None and store.value("outer") is None


def test_message_refs_and_values_round_trip_and_survive_reopen(db_path):
    store = Store.open(db_path)
    with store.transaction() as tx:
        store.put_message_ref(tx, "alert:1:firing", MessageRef("C0ALERTS", "1700000000.000001"))
        store.put_value(tx, "alerts/health", "error")
    store.close()
    again = Store.open(db_path)
    assert again.message_ref("alert:1:firing") == MessageRef("C0ALERTS", "1700000000.000001")
    assert again.value("alerts/health") == "error"
    with again.transaction() as tx:
        again.put_value(tx, "alerts/health", None)
    assert again.value("alerts/health") is None


def _write_values(path: str, prefix: str, count: int) -> None:
    store = Store.open(path)
    for i in range(count):
        with store.transaction() as tx:
            store.put_value(tx, f"{prefix}{i}", str(i))


def test_several_processes_write_the_same_database(db_path):
    Store.open(db_path)
    ctx = multiprocessing.get_context("spawn")
    workers = [ctx.Process(target=_write_values, args=(str(db_path), f"p{n}-", 50)) for n in range(2)]
    for worker in workers:
        worker.start()
    _write_values(str(db_path), "main-", 50)
    for worker in workers:
        worker.join(30)
        assert worker.exitcode == 0
    count = Store.open(db_path).fetchone("SELECT COUNT(*) FROM kv")[0]
    assert count == 150


def test_a_second_writer_waits_instead_of_failing(db_path):
    store = Store.open(db_path)
    other = sqlite3.connect(db_path, timeout=5, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO kv VALUES ('other', 'x', 0)")
    import threading

    threading.Timer(0.2, lambda: other.execute("COMMIT")).start()
    with store.transaction() as tx:
        store.put_value(tx, "mine", "y")
    assert store.value("other") == "x" and store.value("mine") == "y"
