"""The real ``prometheus`` binary over a local TSDB folder, on a free loopback port (demo and tests).

    prometheus = LocalPrometheus(tsdb, workdir)
    url = prometheus.start()   # http://127.0.0.1:PORT once /-/ready answers
    ...
    prometheus.stop()

Retention is ten years, so backfilled history is never deleted at start-up (Prometheus applies its
default 15 days to whole blocks, measured from the newest block).  Nothing is scraped.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

import requests

from codex_bot.processes import stop_process

RETENTION = "3650d"
CONFIG = "global:\n  scrape_interval: 1m\nscrape_configs: []\n"


class PrometheusStartError(RuntimeError):
    """Prometheus is missing or did not become ready; the message says why (with its log's tail)."""


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now (another process may still take it before it is used)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class LocalPrometheus:
    """Prometheus as a child process; its config and log live in ``workdir``.

    Subclasses run another Prometheus-compatible server by overriding the class attributes and
    :meth:`command` (see :class:`~codex_bot.demo.victoriametrics.LocalVictoriaMetrics`).
    """

    NAME = "Prometheus"
    BINARY = "prometheus"
    PACKAGE = "prometheus"  # the Debian package that has BINARY
    READY_PATH = "/-/ready"

    def __init__(self, tsdb: Path, workdir: Path, binary: str | None = None, startup_timeout: float = 30.0) -> None:
        self.tsdb, self.workdir = Path(tsdb), Path(workdir)
        self.binary = binary
        self.startup_timeout = startup_timeout
        self.process: subprocess.Popen[bytes] | None = None
        self.url = ""

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    @property
    def config_file(self) -> Path:
        return self.workdir / "prometheus.yml"

    @property
    def log_file(self) -> Path:
        return self.workdir / "prometheus.log"

    def start(self, attempts: int = 3) -> str:
        """Start on a free port and wait until ready; returns the base URL."""
        binary = self.binary or shutil.which(self.BINARY)
        if not binary:
            raise PrometheusStartError(
                f"{self.BINARY} is not installed: run `make setup` or "
                f"`apt-get install --no-install-recommends {self.PACKAGE}`"
            )
        self.workdir.mkdir(parents=True, exist_ok=True)
        for _ in range(attempts):  # another process may take the free port between probe and bind
            port = free_port()
            with self.log_file.open("wb") as log:
                self.process = subprocess.Popen(
                    self.command(binary, port), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
                )
            self.url = f"http://127.0.0.1:{port}"
            if self._ready():
                return self.url
            self.stop()
        raise PrometheusStartError(f"{self.NAME} did not become ready:\n{self.log_tail()}")

    def command(self, binary: str, port: int) -> list[str]:
        """The server's command line, listening on 127.0.0.1:``port`` (writes the config file it names)."""
        self.config_file.write_text(CONFIG)
        return [
            binary,
            f"--config.file={self.config_file}",
            f"--storage.tsdb.path={self.tsdb}",
            f"--storage.tsdb.retention.time={RETENTION}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--log.level=warn",
        ]

    def _ready(self) -> bool:
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                return False
            try:
                if requests.get(f"{self.url}{self.READY_PATH}", timeout=1).status_code == 200:
                    return True
            except requests.RequestException:
                pass
            time.sleep(0.1)
        return False

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 15 s; safe to call more than once."""
        process, self.process = self.process, None
        if process is not None:
            stop_process(process, grace_seconds=15)

    def log_tail(self, chars: int = 3000) -> str:
        return self.log_file.read_text(errors="replace")[-chars:] if self.log_file.exists() else "(no log)"

    def __enter__(self) -> LocalPrometheus:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
