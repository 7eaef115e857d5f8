"""Stopping the helper processes codex-bot starts (Prometheus, the chart renderer, ingest in tests)."""

from __future__ import annotations

import subprocess


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
