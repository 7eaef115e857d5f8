"""The local services the demo starts: Prometheus over the backfilled TSDB and the bundled chart renderer."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from codex_bot.charts.local_renderer import LocalRenderer
from codex_bot.demo.prometheus import LocalPrometheus


@dataclass(frozen=True)
class Services:
    prometheus_url: str
    renderer_url: str
    pids: tuple[int, ...]  # the processes started (all stopped when the context ends)


@contextmanager
def local_services(tsdb: Path, workdir: Path) -> Iterator[Services]:
    """Start both services; stop whatever was started on exit, however the block ends."""
    with ExitStack() as stack:
        prometheus = LocalPrometheus(tsdb, workdir)
        stack.callback(prometheus.stop)
        prometheus_url = prometheus.start()
        renderer = LocalRenderer()
        stack.callback(renderer.stop)
        renderer_url = renderer.start()
        pids = tuple(pid for pid in (prometheus.pid, renderer.pid) if pid is not None)
        yield Services(prometheus_url, renderer_url, pids)
