"""A real PostgreSQL server for the tests and the state bench: Debian's ``postgresql`` binaries, a fresh
cluster (``initdb``) in a temporary folder, a free loopback port, stopped (and its folder removed) at the end.

    server = PostgresServer()
    server.start()
    url = server.new_database()   # postgresql+psycopg://postgres@127.0.0.1:PORT/state_1
    ...
    server.stop()

Debian installs the binaries in ``/usr/lib/postgresql/VERSION/bin`` (not on PATH).  ``initdb`` and
``postgres`` refuse to run as root, so as root both run as the ``postgres`` user that the package creates.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg

from codex_bot.demo.prometheus import free_port


class PostgresUnavailable(RuntimeError):
    """PostgreSQL is not installed or did not start; the message says why."""


def binaries() -> Path:
    """The folder with ``initdb`` and ``postgres`` (the newest Debian version, else PATH)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb is None:
        raise PostgresUnavailable(
            "PostgreSQL is not installed: run `make setup` (or `apt-get install --no-install-recommends postgresql`)"
        )
    return Path(initdb).resolve().parent


def _traversable_tmp() -> str:
    """A temporary folder the ``postgres`` user can enter: the usual one unless it is private (0700 pytest
    folders, a private TMPDIR), then /tmp."""
    usual = tempfile.gettempdir()
    return usual if os.stat(usual).st_mode & 0o001 else "/tmp"


class PostgresServer:
    """One PostgreSQL cluster as a child process.  ``durable=False`` (the tests) turns fsync off."""

    def __init__(self, *, durable: bool = False) -> None:
        self.durable = durable
        self.folder = Path(tempfile.mkdtemp(prefix="codex-bot-postgres-", dir=_traversable_tmp()))
        self.data = self.folder / "data"
        self.process: subprocess.Popen[bytes] | None = None
        self.port = 0
        self._names = itertools.count(1)

    @property
    def url(self) -> str:
        """The server's maintenance database (``postgres``), as a SQLAlchemy URL."""
        return self.database_url("postgres")

    def database_url(self, name: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"

    def _as_postgres(self) -> dict[str, Any]:
        """Popen arguments that drop root to the ``postgres`` user (nothing when not root)."""
        if os.geteuid() != 0:
            return {}
        user = pwd.getpwnam("postgres")
        os.chown(self.folder, user.pw_uid, user.pw_gid)
        return {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}

    def start(self, timeout: float = 60.0) -> str:
        """initdb, start on a free port and wait until it accepts connections; returns :attr:`url`."""
        bin_dir, drop = binaries(), self._as_postgres()
        init = subprocess.run(
            [
                str(bin_dir / "initdb"),
                "-D",
                str(self.data),
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--locale=C",
            ],
            capture_output=True,
            text=True,
            **drop,
        )
        if init.returncode != 0:
            raise PostgresUnavailable(f"initdb failed:\n{init.stdout}{init.stderr}")
        speed = (
            [] if self.durable else ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]
        )
        self.port = free_port()
        with (self.folder / "postgres.log").open("wb") as log:
            self.process = subprocess.Popen(
                [
                    str(bin_dir / "postgres"),
                    "-D",
                    str(self.data),
                    "-p",
                    str(self.port),
                    "-k",
                    str(self.folder),
                    "-c",
                    "listen_addresses=127.0.0.1",
                    "-c",
                    "max_connections=300",
                    *speed,
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                **drop,
            )
        self._wait_ready(timeout)
        return self.url

    def restart(self, timeout: float = 60.0) -> None:
        """Stop the server (fast shutdown: clients are disconnected) and start it again on the same port."""
        assert self.process is not None
        command = self.process.args
        self.process.send_signal(signal.SIGINT)
        self.process.wait(timeout=30)
        with (self.folder / "postgres.log").open("ab") as log:
            self.process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, **self._as_postgres()
            )
        self._wait_ready(timeout)

    def _wait_ready(self, timeout: float) -> None:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                psycopg.connect(self._dsn("postgres"), connect_timeout=2).close()
                return
            except psycopg.OperationalError:
                time.sleep(0.1)
        log_tail = (self.folder / "postgres.log").read_text(errors="replace")[-2000:]
        self.stop()
        raise PostgresUnavailable(f"PostgreSQL did not start on port {self.port}:\n{log_tail}")

    def _dsn(self, name: str) -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={name}"

    def new_database(self, prefix: str = "state") -> str:
        """A new, empty database; its SQLAlchemy URL."""
        name = f"{prefix}_{next(self._names)}"
        with psycopg.connect(self._dsn("postgres"), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.database_url(name)

    def drop_database(self, url: str) -> None:
        """Drop a database made by :meth:`new_database`, closing whatever is still connected to it."""
        name = url.rsplit("/", 1)[1]
        with psycopg.connect(self._dsn("postgres"), autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        """Fast shutdown (SIGINT: disconnect clients, stop); the cluster's folder is removed."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)
