"""Read recorded Codex telemetry: OTLP/JSON ``ExportLogsServiceRequest`` files.

Accepted layouts (optionally gzip-compressed):
- one request per file (pretty-printed or not);
- one request per line (JSON Lines, as the OpenTelemetry Collector's file exporter writes);
- either of the above wrapping each request in an envelope ``{"path": "/v1/logs", "payload": {...}}``
  (the layout of recorded OTLP/HTTP requests); envelopes of other signals (``/v1/metrics``) are skipped.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from codex_bot.errors import UserError
from codex_bot.telemetry.events import CodexEvent
from codex_bot.telemetry.otlp_errors import MalformedPayload
from codex_bot.telemetry.otlp_json import events_from_json


def read_events(path: str | Path) -> Iterator[list[CodexEvent]]:
    """The events of each request in the file, one list per request; bad content is a :class:`UserError`."""
    for where, request in read_requests(path):
        try:
            yield events_from_json(request)
        except MalformedPayload as exc:
            raise UserError(f"{where}: not an OTLP/JSON ExportLogsServiceRequest: {exc}") from None


def read_requests(path: str | Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """(location for messages, ExportLogsServiceRequest as parsed JSON) for each logs request in the file."""
    path = Path(path)
    try:
        with _open(path) as stream:
            for where, document in _documents(stream, path):
                request = _unwrap(document, where)
                if request is not None:
                    yield where, request
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise UserError(f"{path}: not UTF-8 text ({exc.reason})") from None


def _documents(stream: IO[str], path: Path) -> Iterator[tuple[str, Any]]:
    """JSON Lines if the first non-empty line is a document on its own, else the whole file as one."""
    first = _first_line(stream)
    if first is None:
        return
    number, line = first
    try:
        document = json.loads(line)
    except (ValueError, RecursionError):
        yield str(path), _whole(line + stream.read(), path)
        return
    yield f"{path}:{number}", document
    yield from _json_lines(stream, path, number)


def _open(path: Path) -> IO[str]:
    with path.open("rb") as probe:
        compressed = probe.read(2) == b"\x1f\x8b"
    return gzip.open(path, "rt", encoding="utf-8") if compressed else path.open(encoding="utf-8")


def _first_line(stream: IO[str]) -> tuple[int, str] | None:
    for number, line in enumerate(stream, 1):
        if line.strip():
            return number, line
    return None


def _json_lines(stream: IO[str], path: Path, after: int) -> Iterator[tuple[str, Any]]:
    for number, line in enumerate(stream, after + 1):
        if line.strip():
            try:
                yield f"{path}:{number}", json.loads(line)
            except (ValueError, RecursionError) as exc:
                raise UserError(f"{path}:{number}: invalid JSON: {exc}") from None


def _whole(text: str, path: Path) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise UserError(f"{path}: invalid JSON (expected one request per file or one per line): {exc}") from None


def _unwrap(document: Any, where: str) -> dict[str, Any] | None:
    """The request itself; None for an envelope of another signal."""
    if isinstance(document, dict) and "payload" in document and "resourceLogs" not in document:
        if not str(document.get("path", "/v1/logs")).endswith("/v1/logs"):
            return None
        document = document["payload"]
    if not isinstance(document, dict):
        raise UserError(f"{where}: expected a JSON object (an ExportLogsServiceRequest)")
    return document
