"""A recording pass-through between an OTLP/HTTP exporter and its receiver.

Codex exporting to a receiver that answers an error says nothing (exit code 0, no stderr), so a
test that must prove ``/v1/metrics`` and ``/v1/traces`` were *accepted* puts this tap in front of
``codex-bot ingest``: it forwards each request's body and content headers unchanged and records
the path, content type, size and the receiver's status.
"""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

from loopback import InThread

_FORWARDED_HEADERS = ("Content-Type", "Content-Encoding")


@dataclass(frozen=True)
class Exchange:
    path: str
    content_type: str
    body_bytes: int
    status: int


class OtlpTap:
    """Listens on ``127.0.0.1:<free port>`` and forwards every POST to ``target`` + path."""

    def __init__(self, target: str) -> None:
        self.target = target.rstrip("/")
        self._exchanges: list[Exchange] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._running = InThread(self._server, "otlp-tap")

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def exchanges(self) -> list[Exchange]:
        with self._lock:
            return list(self._exchanges)

    def __enter__(self) -> Self:
        self._running.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._running.stop()

    def forward(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes, str]:
        """POST ``body`` to the target; record and return (status, answer body, answer content type)."""
        request = urllib.request.Request(self.target + path, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                status, payload, answer_type = answer.status, answer.read(), answer.headers.get("Content-Type", "")
        except urllib.error.HTTPError as error:
            status, payload, answer_type = error.code, error.read(), error.headers.get("Content-Type", "")
        exchange = Exchange(path, headers.get("Content-Type", ""), len(body), status)
        with self._lock:
            self._exchanges.append(exchange)
        return status, payload, answer_type

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        tap = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {name: self.headers[name] for name in _FORWARDED_HEADERS if self.headers.get(name)}
                status, payload, answer_type = tap.forward(self.path, headers, body)
                self.send_response(status)
                if answer_type:
                    self.send_header("Content-Type", answer_type)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

        return Handler
