"""Start and stop the bundled chart renderer (deploy/chart-renderer) for tests and the demo.

    with LocalRenderer() as renderer:
        ChartRenderer(renderer.url).png(config)

It runs ``node server.mjs`` on a free local port (installing its npm packages with ``npm ci``
first when they are missing) and waits for ``/healthcheck``.
"""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import requests

from codex_bot.processes import stop_process

DEFAULT_DIR = Path(__file__).resolve().parents[2] / "deploy" / "chart-renderer"


class RendererStartError(RuntimeError):
    """The local renderer could not be installed or started; the message says why."""


def _need(program: str) -> str:
    path = shutil.which(program)
    if path is None:
        raise RendererStartError(f"{program} is not installed; the bundled chart renderer needs Node.js 18+ and npm")
    return path


def install(directory: Path = DEFAULT_DIR) -> None:
    """``npm ci`` in ``directory`` unless its packages are already there."""
    if (directory / "node_modules" / "chart.js").is_dir() and (directory / "node_modules" / "@napi-rs").is_dir():
        return
    done = subprocess.run(
        [_need("npm"), "ci", "--no-audit", "--no-fund"], cwd=directory, capture_output=True, text=True, timeout=300
    )
    if done.returncode != 0:
        raise RendererStartError(f"npm ci failed in {directory}: {done.stderr.strip()[-500:]}")


class LocalRenderer:
    """The bundled renderer as a child process; ``url`` is its base URL once started."""

    def __init__(self, directory: Path = DEFAULT_DIR, startup_timeout: float = 20.0) -> None:
        self.directory = directory
        self.startup_timeout = startup_timeout
        self.url = ""
        self._process: subprocess.Popen[str] | None = None
        self._log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - the child's stderr, read on a failed start

    @property
    def pid(self) -> int | None:
        """The server's process id while it runs."""
        return self._process.pid if self._process else None

    def start(self) -> str:
        """Install if needed, start on a free port, wait until healthy; returns the base URL."""
        install(self.directory)
        env = os.environ | {"PORT": "0", "HOST": "127.0.0.1"}
        self._process = subprocess.Popen(
            [_need("node"), "server.mjs"],
            cwd=self.directory,
            env=env,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
        )
        deadline = time.monotonic() + self.startup_timeout
        self.url = self._announced_url(deadline)
        self._wait_healthy(deadline)
        return self.url

    def _announced_url(self, deadline: float) -> str:
        """The URL from the server's first line: ``chart renderer listening on http://127.0.0.1:PORT (…)``."""
        assert self._process is not None and self._process.stdout is not None
        ready, _, _ = select.select([self._process.stdout], [], [], max(deadline - time.monotonic(), 0))
        line = self._process.stdout.readline() if ready else ""
        words = [w for w in line.split() if w.startswith("http://")]
        if not words:
            self._fail(f"it did not announce its port within {self.startup_timeout:g} s")
        return words[0]

    def _wait_healthy(self, deadline: float) -> None:
        while time.monotonic() < deadline:
            try:
                if requests.get(self.url + "/healthcheck", timeout=1).ok:
                    return
            except requests.RequestException:
                time.sleep(0.05)
        self._fail("/healthcheck did not answer")

    def _fail(self, why: str) -> None:
        self.stop()
        self._log.seek(0)
        raise RendererStartError(f"the chart renderer did not start: {why}. {self._log.read()[-500:]}".strip())

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 5 s)."""
        if self._process is None:
            return
        stop_process(self._process, grace_seconds=5)
        if self._process.stdout is not None:
            self._process.stdout.close()
        self._process = None

    def __enter__(self) -> LocalRenderer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
