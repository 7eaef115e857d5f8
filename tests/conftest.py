"""Shared fixtures: ``fleet``, a synthetic Codex fleet backfilled into a real Prometheus, with its ground truth;
``postgres``, a real PostgreSQL server; ``state_target``, a fresh state database on SQLite and on PostgreSQL."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from postgres_server import PostgresServer
from prometheus_fleet import Fleet, PrometheusServer, build_fleet, require_binaries, STEP_SECONDS


@pytest.fixture(scope="session")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    """~12 developers × 8 days ending at the next full hour, four planted incidents, users joining mid-range.

    Simulated, backfilled with ``codex-bot backfill`` (step :data:`STEP_SECONDS`) and served by the real
    ``/usr/bin/prometheus`` on a free loopback port; stopped at the end of the session.
    """
    prometheus, _ = require_binaries()
    work = tmp_path_factory.mktemp("fleet")
    config, events, truth, tsdb = build_fleet(work)
    server = PrometheusServer(prometheus, tsdb, work)
    url = server.start()
    try:
        yield Fleet(prometheus_url=url, start=config.start, end=config.end, step_seconds=STEP_SECONDS,
                    truth=truth, events=events, incidents=config.incidents, config=config)
    finally:
        server.stop()


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """CLI handlers run in-process call logging.basicConfig(force=True) on the test's captured stderr;
    put the root logger back afterwards so later threads never log into a closed capture stream."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A real PostgreSQL server (Debian's ``postgresql`` package, fresh ``initdb``) for the session."""
    server = PostgresServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def state_target(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """A fresh, empty state database, once as a SQLite file and once in the real PostgreSQL server: the
    path or URL to give ``Store.open`` (and ``fault_helpers.py`` workers)."""
    if request.param == "sqlite":
        yield str(tmp_path / "state" / "state.sqlite")
        return
    server: PostgresServer = request.getfixturevalue("postgres")
    url = server.new_database()
    try:
        yield url
    finally:
        server.drop_database(url)
