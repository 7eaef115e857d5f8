"""Synthetic events → OTLP/JSON ``ExportLogsServiceRequest``s: files, JSON lines, or POSTs to a live ingest.

Requests are batched like the OpenTelemetry batch processor (at most :data:`BATCH_RECORDS` records,
in time order); inside a request, records are grouped by exporting process (resource) and scope,
as the OTLP/JSON mapping does.  The text is built directly (no intermediate object graph) for speed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import requests

from codex_bot.errors import UserError
from codex_bot.simulate.event import AttrValue, SimEvent, iso_ms

BATCH_RECORDS = 512  # the OpenTelemetry batch processors' default max export batch size
EVENT_SCOPE = "codex_otel.log_only"
DEBUG_SCOPE = "codex_otel::metrics::client"
# The call site Codex names in each record's eventName (as in real exports).
_SOURCE_LINES = {
    "codex.conversation_starts": 703,
    "codex.user_prompt": 1200,
    "codex.api_request": 803,
    "codex.sse_event": 1089,
    "codex.turn_ttft": 393,
    "codex.tool_decision": 1225,
    "codex.websocket_request": 851,
    "codex.websocket_connect": 830,
}
_quote = json.encoder.encode_basestring  # C speed-up of json's string escaping


@dataclass
class OutputSummary:
    requests: int = 0
    records: int = 0
    bytes: int = 0
    paths: list[Path] = field(default_factory=list)


def batches(events: Iterable[SimEvent], size: int = BATCH_RECORDS) -> Iterator[list[SimEvent]]:
    batch: list[SimEvent] = []
    for event in events:
        batch.append(event)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


class RequestEncoder:
    """Encodes batches; remembers each conversation's common-attribute JSON, which all its events share."""

    def __init__(self) -> None:
        self._common: dict[int, tuple[Mapping[str, AttrValue], str]] = {}

    def encode(self, events: Iterable[SimEvent]) -> str:
        """One ``ExportLogsServiceRequest`` in OTLP/JSON."""
        processes: dict[int, tuple[Mapping[str, str], dict[str, list[str]]]] = {}
        for event in events:
            entry = processes.get(id(event.resource))
            if entry is None:
                entry = processes[id(event.resource)] = (event.resource, {})
            scope = EVENT_SCOPE if event.name else DEBUG_SCOPE
            entry[1].setdefault(scope, []).append(self._record(event))
        return '{"resourceLogs":[' + ",".join(_resource_logs(r, s) for r, s in processes.values()) + "]}"

    def _record(self, event: SimEvent) -> str:
        if not event.name:  # no event.timestamp: its time is the observed time
            return (
                '{"observedTimeUnixNano":"%d","severityNumber":"SEVERITY_NUMBER_DEBUG","severityText":"DEBUG",'
                '"body":{"stringValue":%s},"eventName":"event otel/src/metrics/client.rs:324"}'
                % (event.time_ms * 1_000_000, _quote(event.body or ""))
            )
        observed = event.time_ms * 1_000_000 + 594_702  # observed a little after event.timestamp
        attributes = (
            _kv("event.name", event.name)
            + ","
            + "".join(_kv(k, v) + "," for k, v in event.attributes.items())
            + _kv("event.timestamp", iso_ms(event.time_ms))
            + self._common_json(event.common)
        )
        return (
            '{"observedTimeUnixNano":"%d","severityNumber":"SEVERITY_NUMBER_INFO","severityText":"INFO",'
            '"attributes":[%s],"eventName":"%s"}' % (observed, attributes, _event_source(event.name))
        )

    def _common_json(self, common: Mapping[str, AttrValue]) -> str:
        cached = self._common.get(id(common))
        if cached is not None and cached[0] is common:
            return cached[1]
        if len(self._common) > 50_000:
            self._common.clear()
        text = "".join("," + _kv(k, v) for k, v in common.items())
        self._common[id(common)] = (common, text)
        return text


def write_files(
    events: Iterable[SimEvent], out_dir: Path, jsonl: bool = False, batch_records: int = BATCH_RECORDS
) -> OutputSummary:
    """One request per file ``logs-NNNNNN.json``, or one per line of ``logs.jsonl`` (the Collector's file exporter).

    Output files of an earlier run in ``out_dir`` are removed first, so a backfill never mixes two fleets.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in [*out_dir.glob("logs-*.json"), out_dir / "logs.jsonl"]:
        old.unlink(missing_ok=True)
    encoder, summary = RequestEncoder(), OutputSummary()
    if jsonl:
        path = out_dir / "logs.jsonl"
        with path.open("w", encoding="utf-8", buffering=1 << 20) as out:
            for batch in batches(events, batch_records):
                summary.bytes += out.write(encoder.encode(batch) + "\n")
                _count(summary, batch)
        summary.paths.append(path)
        return summary
    for batch in batches(events, batch_records):
        path = out_dir / f"logs-{summary.requests + 1:06d}.json"
        summary.bytes += path.write_text(encoder.encode(batch), encoding="utf-8")
        summary.paths.append(path)
        _count(summary, batch)
    return summary


def stream(
    events: Iterable[SimEvent], url: str, batch_records: int = BATCH_RECORDS, timeout: float = 30.0
) -> OutputSummary:
    """POST each request as OTLP/HTTP JSON to a live ingest (``url`` without a path means ``/v1/logs``)."""
    target = logs_url(url)
    encoder, summary = RequestEncoder(), OutputSummary()
    with requests.Session() as http:
        for batch in batches(events, batch_records):
            body = encoder.encode(batch).encode("utf-8")
            try:
                reply = http.post(target, data=body, timeout=timeout, headers={"content-type": "application/json"})
            except requests.RequestException as exc:
                raise UserError(f"could not send to {target}: {exc.__class__.__name__}: {exc}") from None
            if reply.status_code >= 300:
                raise UserError(f"{target} answered {reply.status_code}: {reply.text[:300]}")
            summary.bytes += len(body)
            _count(summary, batch)
    return summary


def logs_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UserError(f"bad --stream URL {url!r}: use e.g. http://127.0.0.1:4318/v1/logs")
    return url if parts.path not in ("", "/") else url.rstrip("/") + "/v1/logs"


def _count(summary: OutputSummary, batch: list[SimEvent]) -> None:
    summary.requests += 1
    summary.records += len(batch)


def _resource_logs(resource: Mapping[str, str], scopes: dict[str, list[str]]) -> str:
    attributes = ",".join(_kv(k, v) for k, v in resource.items())
    scope_logs = ",".join(
        '{"scope":{"name":%s},"logRecords":[%s]}' % (_quote(name), ",".join(records))
        for name, records in scopes.items()
    )
    return '{"resource":{"attributes":[%s]},"scopeLogs":[%s]}' % (attributes, scope_logs)


def _event_source(name: str) -> str:
    if name == "codex.tool_result":
        return "event otel/src/tool_result.rs:54"
    return f"event otel/src/events/session_telemetry.rs:{_SOURCE_LINES.get(name, 377)}"


def _kv(key: str, value: AttrValue) -> str:
    if value is True or value is False:
        return '{"key":"%s","value":{"boolValue":%s}}' % (key, "true" if value else "false")
    if isinstance(value, int):
        return '{"key":"%s","value":{"intValue":"%d"}}' % (key, value)
    return '{"key":"%s","value":{"stringValue":%s}}' % (key, _quote(value))
