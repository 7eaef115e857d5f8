"""Stopping processes: the helpers codex-bot starts (Prometheus, the chart renderer, ingest in tests),
and codex-bot itself when it is told to stop."""

from __future__ import annotations

import signal
import subprocess
from types import FrameType


def stop_process(process: subprocess.Popen, grace_seconds: float) -> None:
    """SIGTERM, then SIGKILL if it is still running after ``grace_seconds``; always reaped."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=grace_seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def exit_on_sigterm() -> None:
    """Make SIGTERM (``docker stop``, systemd, ``kill``) unwind like Ctrl-C: ``finally`` blocks and
    context managers run, so schedulers stop and started processes are stopped too.  Exit status 143."""
    signal.signal(signal.SIGTERM, _exit)


def _exit(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)
