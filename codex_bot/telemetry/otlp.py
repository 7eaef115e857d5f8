"""Decode an OTLP/HTTP logs request body (protobuf or JSON, optionally gzip) into Codex events.

Raises a :class:`~codex_bot.telemetry.otlp_errors.PayloadError` (400/413/415) with a clear
reason; nothing is returned for a body that is only partly readable.
"""

from __future__ import annotations

import zlib

from codex_bot.telemetry.events import CodexEvent
from codex_bot.telemetry.otlp_errors import MalformedPayload, PayloadTooLarge, UnsupportedMediaType
from codex_bot.telemetry.otlp_json import parse_json_body
from codex_bot.telemetry.otlp_protobuf import parse_protobuf_body

PROTOBUF_TYPES = frozenset({"application/x-protobuf", "application/protobuf"})
JSON_TYPE = "application/json"


def media_type(content_type: str | None) -> str:
    """``application/json; charset=utf-8`` → ``application/json``."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def check_media_type(content_type: str | None) -> str:
    """The media type if we read it, else :class:`UnsupportedMediaType`."""
    kind = media_type(content_type)
    if kind in PROTOBUF_TYPES or kind == JSON_TYPE:
        return kind
    raise UnsupportedMediaType(
        f"unsupported Content-Type {content_type!r}: send application/x-protobuf or application/json"
    )


def decode_logs_body(
    body: bytes, content_type: str | None, content_encoding: str | None, max_bytes: int
) -> list[CodexEvent]:
    """Events of one ``POST /v1/logs`` body."""
    kind = check_media_type(content_type)
    raw = decode_content(body, content_encoding, max_bytes)
    return parse_protobuf_body(raw) if kind in PROTOBUF_TYPES else parse_json_body(raw)


def decode_content(body: bytes, content_encoding: str | None, max_bytes: int) -> bytes:
    """The body after its Content-Encoding (identity or gzip)."""
    encoding = (content_encoding or "identity").strip().lower()
    if encoding == "identity":
        return body
    if encoding in ("gzip", "x-gzip"):
        return gunzip(body, max_bytes)
    raise UnsupportedMediaType(f"unsupported Content-Encoding {content_encoding!r}: send gzip or none")


def gunzip(body: bytes, max_bytes: int) -> bytes:
    """Decompress (all members of) a gzip body, refusing output over ``max_bytes``."""
    parts: list[bytes] = []
    size, rest = 0, body
    while rest:
        inflater = zlib.decompressobj(wbits=31)
        try:
            part = inflater.decompress(rest, max_bytes - size + 1)
        except zlib.error as exc:
            raise MalformedPayload(f"invalid gzip body: {exc}") from None
        size += len(part)
        if size > max_bytes:
            raise PayloadTooLarge(f"the decompressed body is over the limit of {max_bytes} bytes")
        if not inflater.eof:
            raise MalformedPayload("invalid gzip body: truncated")
        parts.append(part)
        rest = inflater.unused_data
    return b"".join(parts)
