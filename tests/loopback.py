"""Test servers answering on 127.0.0.1 from a background thread: every stand-in (Slack, Prometheus,
the chart renderer, the Responses API, OTLP taps) and the real ingest and Bolt servers run this way."""

from __future__ import annotations

import threading
from typing import Protocol, Self


class Server(Protocol):
    """What ``socketserver`` servers (http.server, wsgiref, codex-bot's ingest) offer."""

    def serve_forever(self, poll_interval: float = 0.5) -> None: ...
    def shutdown(self) -> None: ...
    def server_close(self) -> None: ...


class InThread:
    """``server`` answering in a daemon thread from :meth:`start` (or the start of a ``with`` block) until
    :meth:`stop`: shut down, its socket closed, its thread joined."""

    def __init__(self, server: Server, name: str = "test-server") -> None:
        self.server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=name, daemon=True
        )

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread.is_alive():
            self.server.shutdown()  # waits for serve_forever to return: only once it runs
            self._thread.join(timeout=5)
        self.server.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
