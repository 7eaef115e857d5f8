"""Run a live ``codex-bot ingest`` as a subprocess on a free loopback port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from codex_bot.processes import stop_process

REPO_ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def scrape(base_url: str) -> str:
    with urllib.request.urlopen(f"{base_url}/metrics", timeout=10) as answer:
        return answer.read().decode()


def _wait_ready(base_url: str, process: subprocess.Popen, log: Path, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"codex-bot ingest exited {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            scrape(base_url)
            return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.1)
    tail = log.read_text()[-3000:]
    raise RuntimeError(f"codex-bot ingest not answering {base_url}/metrics after {timeout}s:\n{tail}")


@contextmanager
def running_ingest(workdir: Path, port: int | None = None) -> Iterator[str]:
    """Yield the base URL of a fresh ingest; its cwd is ``workdir`` (no stray ``.env``), defaults settings.
    ``port``: listen there (a restarted ingest keeps its scrape target); default a free one."""
    workdir.mkdir(parents=True, exist_ok=True)
    env = {name: value for name, value in os.environ.items() if not name.startswith("CODEX_BOT_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    port = port or free_port()
    base_url = f"http://127.0.0.1:{port}"
    log = workdir / "ingest.log"
    with log.open("ab") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "codex_bot", "ingest", "--listen", f"127.0.0.1:{port}"],
            cwd=workdir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_ready(base_url, process, log)
        yield base_url
    finally:
        stop_process(process, grace_seconds=10)
