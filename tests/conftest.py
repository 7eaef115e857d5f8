"""Shared fixtures: ``fleet``, a synthetic Codex fleet backfilled into a real Prometheus, with its ground truth;
``backend_fleet``, the same fleet on each metrics backend (Prometheus, VictoriaMetrics) in turn; ``postgres``, a real
PostgreSQL server; ``state_target``, a fresh state database on SQLite and on PostgreSQL."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from postgres_server import PostgresServer
from prometheus_fleet import (
    BACKENDS,
    Fleet,
    PrometheusServer,
    SimulatedFleet,
    VictoriaMetricsServer,
    require_binaries,
    require_victoriametrics,
    simulate_fleet,
)


@pytest.fixture(scope="session")
def simulated_fleet(tmp_path_factory: pytest.TempPathFactory) -> SimulatedFleet:
    """~12 developers × 8 days ending at the next full hour, four planted incidents, users joining mid-range,
    as OTLP/JSON lines with their ground truth."""
    return simulate_fleet(tmp_path_factory.mktemp("fleet"))


@pytest.fixture(scope="session")
def prometheus_fleet(simulated_fleet: SimulatedFleet, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    """The simulated fleet backfilled with ``codex-bot backfill --tsdb`` (step :data:`STEP_SECONDS`) and
    served by the real ``/usr/bin/prometheus`` on a free loopback port; stopped at the end of the session."""
    prometheus, _ = require_binaries()
    work = tmp_path_factory.mktemp("prometheus")
    simulated_fleet.backfill("--tsdb", str(work / "tsdb"))
    server = PrometheusServer(prometheus, work / "tsdb", work)
    url = server.start()
    try:
        yield simulated_fleet.served_by(url, "prometheus")
    finally:
        server.stop()


@pytest.fixture(scope="session")
def fleet(prometheus_fleet: Fleet) -> Fleet:
    """The fleet on Prometheus (tests not about figures need one backend only)."""
    return prometheus_fleet


@pytest.fixture(scope="session")
def victoriametrics_fleet(simulated_fleet: SimulatedFleet, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    """The same fleet sent with ``codex-bot backfill --to-url`` to the real ``/usr/bin/victoria-metrics``
    (single node, free loopback port, default query settings); stopped at the end of the session."""
    work = tmp_path_factory.mktemp("victoriametrics")
    server = VictoriaMetricsServer(work / "data", work, require_victoriametrics())
    url = server.start()
    try:
        simulated_fleet.backfill("--to-url", url)
        yield simulated_fleet.served_by(url, "victoriametrics")
    finally:
        server.stop()


@pytest.fixture(scope="session", params=BACKENDS)
def backend_fleet(request: pytest.FixtureRequest) -> Fleet:
    """The fleet on each metrics backend in turn.  A figure test module runs on all of them by overriding
    ``fleet`` with a fixture that returns ``backend_fleet``."""
    return request.getfixturevalue(f"{request.param}_fleet")


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
