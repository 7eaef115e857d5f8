"""Read recorded Codex telemetry: OTLP/JSON ``ExportLogsServiceRequest`` files.

Accepted layouts (optionally gzip-compressed):
- one request per file (pretty-printed or not);
- one request per line (JSON Lines, as the OpenTelemetry Collector's file exporter writes);
- either of the above wrapping each request in an envelope ``{"path": "/v1/logs", "payload": {...}}``
  (the layout of recorded OTLP/HTTP requests); envelopes of other signals (``/v1/metrics``) are skipped.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import IO, Any

from codex_bot.errors import UserError
from codex_bot.telemetry.events import CodexEvent
from codex_bot.telemetry.otlp_errors import MalformedPayload
from codex_bot.telemetry.otlp_json import decode_json, events_from_json


def read_events(path: str | Path) -> Iterator[list[CodexEvent]]:
    """The events of each request in the file, one list per request; bad content is a :class:`UserError`."""
    for where, text, whole_file in _documents(Path(path)):
        try:
            events = decode_json(text, partial(_request_events, where=where))
        except (ValueError, RecursionError) as exc:
            hint = " (expected one request per file or one per line)" if whole_file else ""
            raise UserError(f"{where}: invalid JSON{hint}: {exc}") from None
        except MalformedPayload as exc:
            raise UserError(f"{where}: not an OTLP/JSON ExportLogsServiceRequest: {exc}") from None
        if events is not None:
            yield events


def _request_events(document: Any, where: str) -> list[CodexEvent] | None:
    """The events of a logs request (bare or in its envelope); None for an envelope of another signal."""
    if isinstance(document, dict) and "payload" in document and "resourceLogs" not in document:
        if not str(document.get("path", "/v1/logs")).endswith("/v1/logs"):
            return None
        document = document["payload"]
    if not isinstance(document, dict):
        raise UserError(f"{where}: expected a JSON object (an ExportLogsServiceRequest)")
    return events_from_json(document)


def _documents(path: Path) -> Iterator[tuple[str, str, bool]]:
    """(location for messages, JSON text, whether it is the whole file) of each document in the file.

    JSON Lines if the first non-empty line is a document on its own, else the whole file as one.
    """
    try:
        with _open(path) as stream:
            first = _first_line(stream)
            if first is None:
                return
            first_number, first_text = first
            if not _is_json(first_text):
                yield str(path), first_text + stream.read(), True
                return
            yield f"{path}:{first_number}", first_text, False
            for number, line in enumerate(stream, first_number + 1):
                if line.strip():
                    yield f"{path}:{number}", line, False
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise UserError(f"{path}: not UTF-8 text ({exc.reason})") from None


def _open(path: Path) -> IO[str]:
    with path.open("rb") as probe:
        compressed = probe.read(2) == b"\x1f\x8b"
    return gzip.open(path, "rt", encoding="utf-8") if compressed else path.open(encoding="utf-8")


def _first_line(stream: IO[str]) -> tuple[int, str] | None:
    for number, line in enumerate(stream, 1):
        if line.strip():
            return number, line
    return None


def _is_json(text: str) -> bool:
    try:
        decode_json(text, lambda document: document)
    except (ValueError, RecursionError):
        return False
    return True
