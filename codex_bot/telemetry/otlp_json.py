"""OTLP/JSON ``ExportLogsServiceRequest`` → :class:`CodexEvent` list.

Follows the OTLP/JSON mapping: 64-bit integers as decimal strings or numbers, ``bytesValue`` as
base64, lowerCamelCase field names (snake_case accepted too), unknown fields ignored.  Anything
of the wrong type is a :class:`MalformedPayload` naming where it is.
"""

from __future__ import annotations

import binascii
import json
import math
from base64 import b64decode
from collections.abc import Callable
from typing import Any, TypeVar

import orjson

from codex_bot.telemetry.events import AttrValue, CodexEvent, attributes_digest, event_time_ns, record_digest
from codex_bot.telemetry.otlp_errors import MalformedPayload

T = TypeVar("T")

_MAX_DEPTH = 32  # nesting of arrayValue/kvlistValue we follow before calling the body hostile
_DOUBLE_WORDS = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


class _Bad(Exception):
    """A decoding problem at a location that grows as the error travels outwards."""

    def __init__(self, reason: str, where: str = "") -> None:
        super().__init__(reason)
        self.reason, self.where = reason, where

    def at(self, where: str) -> _Bad:
        self.where = where + self.where
        return self


def decode_json(data: bytes | str, decode: Callable[[Any], T]) -> T:
    """``decode`` applied to the JSON document ``data``.

    orjson parses it, fast.  It differs from the standard library only in corners no OTLP exporter
    writes (integers beyond 64 bits become floats; ``NaN`` literals, UTF-16/32 text and lone
    surrogates are refused), so when orjson refuses ``data``, or ``decode`` refuses orjson's reading
    (:class:`MalformedPayload`), the standard library parses it again and decides: what is accepted,
    and the errors (``ValueError``, ``RecursionError``, ``MalformedPayload``), are its.
    """
    try:
        return decode(orjson.loads(data))
    except (orjson.JSONDecodeError, MalformedPayload):
        return decode(json.loads(data))


def parse_json_body(data: bytes | str) -> list[CodexEvent]:
    """Events of an OTLP/JSON body."""
    try:
        return decode_json(data, events_from_json)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise MalformedPayload(f"invalid JSON: {exc}") from None


def events_from_json(document: Any) -> list[CodexEvent]:
    """Events of an already-parsed OTLP/JSON ``ExportLogsServiceRequest``."""
    if not isinstance(document, dict):
        raise MalformedPayload("the body must be a JSON object (an ExportLogsServiceRequest)")
    events: list[CodexEvent] = []
    try:
        for i, resource_logs in enumerate(_list(_get(document, "resourceLogs", "resource_logs"), "resourceLogs")):
            try:
                _resource_events(resource_logs, events)
            except _Bad as bad:
                raise bad.at(f"resourceLogs[{i}]")
    except _Bad as bad:
        raise MalformedPayload(f"{bad.where}: {bad.reason}" if bad.where else bad.reason) from None
    return events


def _resource_events(resource_logs: Any, out: list[CodexEvent]) -> None:
    resource_logs = _element(resource_logs)
    try:
        resource = _attributes(_object(resource_logs.get("resource"), "").get("attributes"))
    except _Bad as bad:
        raise bad.at(".resource")
    resource_digest = attributes_digest(resource)
    for j, scope_logs in enumerate(_list(_get(resource_logs, "scopeLogs", "scope_logs"), ".scopeLogs")):
        try:
            records = _list(_get(_object(scope_logs, ""), "logRecords", "log_records"), ".logRecords")
            for k, record in enumerate(records):
                try:
                    out.append(_event(record, resource, resource_digest))
                except _Bad as bad:
                    raise bad.at(f".logRecords[{k}]")
        except _Bad as bad:
            raise bad.at(f".scopeLogs[{j}]")


def _event(record: Any, resource: dict[str, AttrValue], resource_digest: int) -> CodexEvent:
    record = _element(record)
    attributes = _attributes(record.get("attributes"))
    name = attributes.get("event.name")
    time = _uint(_get(record, "timeUnixNano", "time_unix_nano"), ".timeUnixNano")
    observed = _uint(_get(record, "observedTimeUnixNano", "observed_time_unix_nano"), ".observedTimeUnixNano")
    return CodexEvent(
        name if isinstance(name, str) else "",
        event_time_ns(time, observed, attributes),
        attributes,
        resource,
        record_digest(resource_digest, time, observed, attributes),
    )


def _attributes(items: Any, depth: int = 0) -> dict[str, AttrValue]:
    if type(items) is list:
        plain = _plain_attributes(items)
        if plain is not None:
            return plain
    return _checked_attributes(items, depth)


def _plain_attributes(items: list) -> dict[str, AttrValue] | None:
    """The fast path for Codex's attributes: string keys with one ``stringValue``, ``boolValue`` or
    ``intValue`` each.  None at the first anything else, which :func:`_checked_attributes` then reads."""
    out: dict[str, AttrValue] = {}
    for item in items:
        try:
            key, value = item["key"], item["value"]
            if type(key) is not str or type(value) is not dict or len(value) != 1:
                return None
            text = value.get("stringValue")
            if type(text) is str:
                out[key] = text
                continue
            flag = value.get("boolValue")
            if type(flag) is bool:
                out[key] = flag
                continue
            number = value.get("intValue")
            if type(number) is str:
                number = int(number)
            elif type(number) is not int:
                return None
            out[key] = number
        except (TypeError, KeyError, ValueError):
            return None
    return out


def _checked_attributes(items: Any, depth: int) -> dict[str, AttrValue]:
    """Attributes of any shape, each checked; a problem is a :class:`_Bad` naming the attribute."""
    out: dict[str, AttrValue] = {}
    for n, item in enumerate(_list(items, ".attributes")):
        if not isinstance(item, dict) or not isinstance(item.get("key"), str):
            raise _Bad("must be an object with a string key", f".attributes[{n}]")
        try:
            out[item["key"]] = _any_value(item.get("value"), depth)
        except _Bad as bad:
            raise bad.at(f".attributes[{n}].value")
    return out


def _any_value(value: Any, depth: int) -> AttrValue:
    if value is None:
        return None
    if not isinstance(value, dict) or len(value) > 1:
        raise _Bad("must be an AnyValue object with at most one field")
    if not value:
        return None
    ((kind, x),) = value.items()
    if kind in ("stringValue", "string_value"):
        if isinstance(x, str):
            return x
        raise _Bad(f"{kind} must be a string")
    if kind in ("intValue", "int_value"):
        return _int(x, kind)
    if kind in ("boolValue", "bool_value"):
        if isinstance(x, bool):
            return x
        raise _Bad(f"{kind} must be true or false")
    if kind in ("doubleValue", "double_value"):
        return _double(x, kind)
    if kind in ("bytesValue", "bytes_value"):
        return _base64(x, kind)
    if depth >= _MAX_DEPTH:
        raise _Bad(f"values nested deeper than {_MAX_DEPTH} levels")
    if kind in ("arrayValue", "array_value"):
        items = _list(_object(x, kind).get("values"), f".{kind}.values")
        return [_any_value(item, depth + 1) for item in items]
    if kind in ("kvlistValue", "kvlist_value"):
        return _attributes(_object(x, kind).get("values"), depth + 1)
    raise _Bad(f"unknown AnyValue field {kind!r}")


def _get(obj: dict, camel: str, snake: str) -> Any:
    value = obj.get(camel)
    return obj.get(snake) if value is None else value


def _object(value: Any, what: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _Bad(f"{what or 'value'} must be a JSON object, not {type(value).__name__}")
    return value


def _element(value: Any) -> dict:
    """A resourceLogs or logRecords element: an object (null is not one)."""
    if value is None:
        raise _Bad("value must be a JSON object, not null")
    return _object(value, "")


def _list(value: Any, where: str) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise _Bad(f"must be a JSON array, not {type(value).__name__}", where)
    return value


def _int(value: Any, what: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            pass
    raise _Bad(f"{what} must be an integer (a number or a decimal string), not {value!r:.40}")


def _uint(value: Any, where: str) -> int:
    if value is None:
        return 0
    try:
        number = _int(value, "a time")
    except _Bad as bad:
        raise bad.at(where)
    if number < 0:
        raise _Bad("must not be negative", where)
    return number


def _double(value: Any, what: str) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        if value in _DOUBLE_WORDS:
            return _DOUBLE_WORDS[value]
        try:
            return float(value)
        except ValueError:
            pass
    raise _Bad(f"{what} must be a number, not {value!r:.40}")


def _base64(value: Any, what: str) -> bytes:
    """Standard or URL-safe base64, padding optional (as protobuf's JSON mapping accepts)."""
    if isinstance(value, str):
        text = value.replace("-", "+").replace("_", "/")
        try:
            return b64decode(text + "=" * (-len(text) % 4), validate=True)
        except (binascii.Error, ValueError):
            pass
    raise _Bad(f"{what} must be a base64 string")
