"""``codex-bot state migrate --from state.sqlite --to postgresql+psycopg://…``: move the state to another database.

Every table the bot keeps (alert states and episodes, silences, message references, the outbox,
the digest slot ledger, leases and other values, APScheduler's digest jobs) is copied row for row
into an empty target in one transaction, then counted on both sides.  The source is only read (a
file from an older version keeps its schema; columns it lacks take their defaults), under SQLite's
write lock, so a bot still running waits rather than writes rows the copy would miss; stop it first.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, Engine, Integer, MetaData, Table, func, select, text

# The modules that register the state's migrations, so the target gets every table.
import codex_bot.alerts.records
import codex_bot.budgets.watch
import codex_bot.delivery.outbox
import codex_bot.digests.ledger
import codex_bot.digests.schedule  # noqa: F401
from codex_bot.errors import UserError
from codex_bot.settings import load_settings
from codex_bot.store import Store, create_state_engine

SKIPPED_TABLES = frozenset({"schema_migrations", "sqlite_sequence"})  # each database keeps its own
BATCH = 1000


@dataclass(frozen=True)
class Copied:
    table: str
    rows: int


def register(subparsers: argparse._SubParsersAction) -> None:
    state = subparsers.add_parser("state", help="manage the state database (alerts, digests, outbox)")
    commands = state.add_subparsers(dest="state_command", metavar="COMMAND", required=True)
    migrate = commands.add_parser(
        "migrate",
        help="copy a SQLite state file into PostgreSQL (or another empty database)",
        description="Copy every row of the state kept in a SQLite file (--from) into an empty database (--to), "
        "e.g. before setting CODEX_BOT_DATABASE_URL. Stop the bot first.",
    )
    migrate.add_argument(
        "--from", dest="source", type=Path, metavar="FILE", help="the SQLite state file (default: CODEX_BOT_STATE_DB)"
    )
    migrate.add_argument(
        "--to",
        dest="target",
        metavar="URL",
        help="the target database, e.g. postgresql+psycopg://codex@db:5432/codex_bot (default: CODEX_BOT_DATABASE_URL)",
    )
    migrate.set_defaults(handler=handle_migrate)


def handle_migrate(args: argparse.Namespace) -> int:
    settings = load_settings()
    source = args.source or settings.state_db
    target = args.target or (settings.database_url.get_secret_value() if settings.database_url else None)
    if target is None:
        raise UserError(
            "say where to copy the state: --to postgresql+psycopg://user@host:port/db (or set CODEX_BOT_DATABASE_URL)"
        )
    copied, url = copy_state(source, target)
    for item in copied:
        print(f"{item.table}: {item.rows} rows")
    print(f"copied {sum(c.rows for c in copied)} rows from {source} to {url}")
    return 0


def copy_state(source: Path, target: str) -> tuple[list[Copied], str]:
    """Copy every state table of the SQLite file ``source`` into the empty database ``target``."""
    if not source.is_file():
        raise UserError(f"no SQLite state file at {source}")
    reader = create_state_engine(source)
    store = Store.open(target)
    try:
        tables = _tables(store)
        _refuse_unless_empty(store, tables)
        found = MetaData()
        found.reflect(bind=reader)
        copied = []
        with reader.connect() as src, store.transaction() as tx:
            for name, table in tables.items():
                if name in found.tables:
                    copied.append(Copied(name, _copy_table(src, tx.connection, found.tables[name], table)))
            if tx.dialect == "postgresql":
                _continue_numbering(tx.connection, tables.values())
        _check_counts(reader, store, copied)
        return copied, store.url
    finally:
        store.close()
        reader.dispose()


def _tables(store: Store) -> dict[str, Table]:
    metadata = MetaData()
    metadata.reflect(bind=store.engine)
    return {name: table for name, table in sorted(metadata.tables.items()) if name not in SKIPPED_TABLES}


def _refuse_unless_empty(store: Store, tables: dict[str, Table]) -> None:
    with store.engine.connect() as connection:
        held = {
            name: connection.execute(select(func.count()).select_from(t)).scalar_one() for name, t in tables.items()
        }
    busy = {name: n for name, n in held.items() if n}
    if busy:
        listed = ", ".join(f"{n} rows in {name}" for name, n in busy.items())
        raise UserError(f"{store.url} already holds state ({listed}); migrate into an empty database")


def _copy_table(src: Connection, dst: Connection, source: Table, target: Table) -> int:
    columns = [c.name for c in source.columns if c.name in target.columns]
    rows = 0
    result = src.execute(select(*(source.c[name] for name in columns)))
    while batch := result.fetchmany(BATCH):
        dst.execute(target.insert(), [dict(zip(columns, row, strict=True)) for row in batch])
        rows += len(batch)
    return rows


def _continue_numbering(connection: Connection, tables: Iterable[Table]) -> None:
    """PostgreSQL: move each identity column's sequence past the copied numbers (SQLite keeps none to copy)."""
    for table in tables:
        numbered = list(table.primary_key.columns)
        if len(numbered) == 1 and isinstance(numbered[0].type, Integer):
            column = numbered[0]
            connection.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence(:table, :column), "
                    f"(SELECT COALESCE(MAX({column.name}), 0) + 1 FROM {table.name}), false)"
                ),
                {"table": table.name, "column": column.name},
            )


def _check_counts(reader: Engine, store: Store, copied: list[Copied]) -> None:
    with reader.connect() as src, store.engine.connect() as dst:
        for item in copied:
            query = text(f"SELECT COUNT(*) FROM {item.table}")
            there, here = src.execute(query).scalar_one(), dst.execute(query).scalar_one()
            if there != here:
                raise UserError(f"{item.table}: {there} rows in the source but {here} copied")
