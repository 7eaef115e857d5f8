"""The OTLP/HTTP receiver: ``POST /v1/logs`` counted, ``/v1/metrics`` and ``/v1/traces`` accepted and
ignored, ``GET /metrics`` (Prometheus exposition) and ``GET /-/healthy`` on the same listener."""

from __future__ import annotations

import logging
import socket
import sys
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import cast
from urllib.parse import urlsplit

from codex_bot.errors import UserError
from codex_bot.telemetry.live import LiveTelemetry
from codex_bot.telemetry.otlp import JSON_TYPE, decode_logs_body, media_type
from codex_bot.telemetry.otlp_errors import MalformedPayload, PayloadError, PayloadTooLarge, UnsupportedMediaType

log = logging.getLogger(__name__)

EXPOSITION_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_OUTCOME_OF = {MalformedPayload: "malformed", PayloadTooLarge: "too_large", UnsupportedMediaType: "unsupported"}


def parse_listen(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:4318`` for IPv6) → (host, port); a clear :class:`UserError` otherwise."""
    host, sep, port = text.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise UserError(f"bad listen address {text!r}: use HOST:PORT, e.g. 127.0.0.1:4318")
    return host, int(port)


class IngestServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # many Codex processes export at once (e.g. at the end of a CI job)
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], telemetry: LiveTelemetry, max_body_bytes: int) -> None:
        self.telemetry, self.max_body_bytes = telemetry, max_body_bytes
        super().__init__(address, IngestHandler)

    def handle_error(self, request: object, client_address: tuple[str, int]) -> None:
        """A client that hangs up before reading its answer is routine; anything else is a bug, logged."""
        if isinstance(sys.exc_info()[1], ConnectionError):  # BrokenPipeError, ConnectionResetError, ...
            log.debug("client %s hung up before its answer", client_address)
            return
        log.exception("error while serving %s", client_address)

    @property
    def url(self) -> str:
        host, port = cast(tuple[str, int], self.server_address[:2])
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


class _IngestServer6(IngestServer):
    address_family = socket.AF_INET6


def make_server(host: str, port: int, telemetry: LiveTelemetry, max_body_bytes: int) -> IngestServer:
    """Bind (port 0 picks a free one); a busy or invalid address is a :class:`UserError`."""
    server_class = _IngestServer6 if ":" in host else IngestServer
    try:
        return server_class((host, port), telemetry, max_body_bytes)
    except OSError as exc:
        raise UserError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


class IngestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as two writes: no 40 ms delayed-ACK stall per reply
    server: IngestServer

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        if path == "/v1/logs":
            self._logs()
        elif path in ("/v1/metrics", "/v1/traces"):
            self._ignored_signal()
        else:
            self._refuse("not_found", HTTPStatus.NOT_FOUND, f"no such endpoint {path}: POST OTLP logs to /v1/logs")

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if path == "/metrics":
            self._reply(HTTPStatus.OK, self.server.telemetry.scrape().encode(), EXPOSITION_TYPE)
        elif path in ("/-/healthy", "/-/ready"):
            self._reply(HTTPStatus.OK, b"OK\n", "text/plain")
        else:
            self._reply(HTTPStatus.NOT_FOUND, b"not found: try /metrics or POST /v1/logs\n", "text/plain")

    def _logs(self) -> None:
        telemetry = self.server.telemetry
        content_type = self.headers.get("Content-Type")
        try:
            body = self._read_body()
            events = decode_logs_body(
                body, content_type, self.headers.get("Content-Encoding"), self.server.max_body_bytes
            )
        except PayloadError as exc:
            self._refuse(_OUTCOME_OF[type(exc)], HTTPStatus(exc.status), str(exc))
            return
        telemetry.accept(events)
        self._success(content_type)

    def _ignored_signal(self) -> None:
        try:
            self._read_body()
        except PayloadError as exc:
            self._refuse(_OUTCOME_OF[type(exc)], HTTPStatus(exc.status), str(exc))
            return
        self.server.telemetry.note_request("ignored_signal")
        self._success(self.headers.get("Content-Type"))

    def _read_body(self) -> bytes:
        limit = self.server.max_body_bytes
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            return self._read_chunked(limit)
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            self.close_connection = True  # where the body ends is unknown: never read it as another request
            raise MalformedPayload("a Content-Length header (or chunked transfer encoding) is required")
        if int(length) > limit:
            self.close_connection = True  # the unread body stays on the socket
            raise PayloadTooLarge(f"the body is {length} bytes, over the limit of {limit} bytes")
        return self._read_exactly(int(length))

    def _read_chunked(self, limit: int) -> bytes:
        parts: list[bytes] = []
        size = 0
        while True:
            line = self.rfile.readline(1024).split(b";", 1)[0].strip()
            try:
                chunk_size = int(line, 16)
            except ValueError:
                self.close_connection = True
                raise MalformedPayload("bad chunked transfer encoding") from None
            if chunk_size == 0:
                while self.rfile.readline(1024).strip():  # trailers
                    pass
                return b"".join(parts)
            size += chunk_size
            if size > limit:
                self.close_connection = True
                raise PayloadTooLarge(f"the body is over the limit of {limit} bytes")
            parts.append(self._read_exactly(chunk_size))
            self.rfile.readline(1024)

    def _read_exactly(self, length: int) -> bytes:
        data = self.rfile.read(length)
        if len(data) != length:
            self.close_connection = True
            raise MalformedPayload("the body ended before Content-Length bytes arrived")
        return data

    def _success(self, content_type: str | None) -> None:
        """An empty Export*ServiceResponse in the request's encoding (full success)."""
        if media_type(content_type) == JSON_TYPE:
            self._reply(HTTPStatus.OK, b"{}", JSON_TYPE)
        else:
            self._reply(HTTPStatus.OK, b"", "application/x-protobuf")

    def _refuse(self, outcome: str, status: HTTPStatus, reason: str) -> None:
        self.server.telemetry.note_request(outcome)
        log.warning("refused %s %s: %s %s", self.command, self.path, int(status), reason)
        self._reply(status, (reason + "\n").encode(), "text/plain; charset=utf-8")

    def _reply(self, status: HTTPStatus, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        log.debug("%s " + format, self.address_string(), *args)
