"""OTLP protobuf ``ExportLogsServiceRequest`` → :class:`CodexEvent` list."""

from __future__ import annotations

from collections.abc import Iterable

from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from codex_bot.telemetry.events import AttrValue, CodexEvent, attributes_digest, event_time_ns, record_digest
from codex_bot.telemetry.otlp_errors import MalformedPayload


def parse_protobuf_body(body: bytes) -> list[CodexEvent]:
    """Events of a binary protobuf body."""
    request = ExportLogsServiceRequest()
    try:
        request.ParseFromString(body)
    except (DecodeError, RecursionError) as exc:
        raise MalformedPayload(f"invalid protobuf ExportLogsServiceRequest: {exc}") from None
    events: list[CodexEvent] = []
    append = events.append
    for resource_logs in request.resource_logs:
        resource = _attributes(resource_logs.resource.attributes)
        resource_digest = attributes_digest(resource)
        for scope_logs in resource_logs.scope_logs:
            for record in scope_logs.log_records:
                attributes = _attributes(record.attributes)
                name = attributes.get("event.name")
                time, observed = record.time_unix_nano, record.observed_time_unix_nano
                append(
                    CodexEvent(
                        name if isinstance(name, str) else "",
                        event_time_ns(time, observed, attributes),
                        attributes,
                        resource,
                        record_digest(resource_digest, time, observed, attributes),
                    )
                )
    return events


def _attributes(key_values: Iterable[KeyValue]) -> dict[str, AttrValue]:
    out: dict[str, AttrValue] = {}
    for kv in key_values:
        value = kv.value
        text = value.string_value  # fast path: most attributes are non-empty strings
        out[kv.key] = text if text else _any_value(value)
    return out


def _any_value(value: AnyValue) -> AttrValue:
    kind = value.WhichOneof("value")
    if kind == "string_value":
        return value.string_value
    if kind is None:
        return None
    if kind == "array_value":
        return [_any_value(item) for item in value.array_value.values]
    if kind == "kvlist_value":
        return _attributes(value.kvlist_value.values)
    return getattr(value, kind)
