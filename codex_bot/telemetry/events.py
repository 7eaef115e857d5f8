"""A typed Codex log event, decoded from one OTLP LogRecord, and the rule that dates it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import NamedTuple

# An OTLP AnyValue as Python: str, int, float, bool, bytes, list (arrayValue), dict (kvlistValue), None (empty).
AttrValue = str | int | float | bool | bytes | list | dict | None

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class CodexEvent(NamedTuple):
    name: str  # the ``event.name`` attribute; "" when the record has none
    time_ns: int  # see :func:`event_time_ns`; 0 when the record carries no time at all
    attributes: Mapping[str, AttrValue]
    resource: Mapping[str, AttrValue]  # attributes of the record's Resource (shared by its records)
    digest: int = 0  # identifies an exact re-delivery of the record, see :func:`record_digest`


def attributes_digest(attributes: Mapping[str, AttrValue]) -> int:
    """A 64-bit hash of attributes (keys, values and their order), stable within this process."""
    try:
        return hash(tuple(attributes.items()))
    except TypeError:  # list or dict values
        return hash(repr(attributes))


def record_digest(
    resource_digest: int, time_unix_nano: int, observed_time_unix_nano: int, attributes: Mapping[str, AttrValue]
) -> int:
    """Identity of a record for dedup: both times, all attributes and the resource.

    Protobuf and JSON deliveries of the same record get the same digest; fields the bot never reads
    (body, severity, trace ids) are not part of it.  Being 64 bits, two different records collide with
    negligible probability (about 1e-7 over ten million records checked against a million remembered).
    """
    return hash((resource_digest, time_unix_nano, observed_time_unix_nano, attributes_digest(attributes)))


def event_time_ns(time_unix_nano: int, observed_time_unix_nano: int, attributes: Mapping[str, AttrValue]) -> int:
    """The record's ``timeUnixNano`` when set, else its ``event.timestamp`` attribute, else ``observedTimeUnixNano``."""
    if time_unix_nano:
        return time_unix_nano
    stamp = attributes.get("event.timestamp")
    if isinstance(stamp, str):
        parsed = rfc3339_ns(stamp)
        if parsed is not None:
            return parsed
    return observed_time_unix_nano


def rfc3339_ns(text: str) -> int | None:
    """Nanoseconds since the epoch for an RFC 3339 time (UTC when it has no offset); None if unparseable."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000
