"""Decoding OTLP/HTTP logs bodies: the real Codex sample in JSON, protobuf and gzip; OTLP/JSON conventions;
the event-time rule; and malformed or hostile bodies refused with a reason."""

from __future__ import annotations

import gzip
import json

import pytest
from promhelpers import record_named, request_of, retimed, sample_request, to_json, to_protobuf

from codex_bot.telemetry.otlp import decode_logs_body
from codex_bot.telemetry.otlp_errors import MalformedPayload, PayloadTooLarge, UnsupportedMediaType
from codex_bot.telemetry.otlp_json import parse_json_body
from codex_bot.telemetry.otlp_protobuf import parse_protobuf_body

LIMIT = 1 << 20
SAMPLE_NAMES = [
    "codex.conversation_starts",
    "codex.startup_phase",
    "codex.startup_phase",
    "codex.user_prompt",
    "codex.api_request",
    "codex.sse_event",
    "codex.sse_event",
    "codex.sse_event",
    "codex.sse_event",
    "codex.turn_ttft",
    "codex.tool_decision",
    "codex.tool_result",
    "codex.api_request",
    "codex.sse_event",
    "codex.sse_event",
    "codex.sse_event",
    "codex.sse_event",
]


def test_real_sample_decodes_to_typed_events() -> None:
    events = decode_logs_body(to_json(sample_request()), "application/json", None, LIMIT)
    assert [e.name for e in events] == SAMPLE_NAMES
    first = events[0]
    # Codex sets no timeUnixNano: the time is event.timestamp (2026-11-25T19:38:45.162Z), not the observed time
    assert first.time_ns == 1_795_635_525_162_000_000
    assert first.resource["service.name"] == "codex_exec"
    api = events[4].attributes
    assert api["http.response.status_code"] == 200 and api["duration_ms"] == "54"  # intValue "200" → int
    assert api["auth.header_attached"] is False
    tokens = events[8].attributes
    assert tokens["input_token_count"] == "1200" and tokens["cached_token_count"] == 1000


def test_protobuf_gzip_and_json_give_the_same_events() -> None:
    request = sample_request()
    from_json = decode_logs_body(to_json(request), "application/json; charset=utf-8", None, LIMIT)
    from_protobuf = decode_logs_body(to_protobuf(request), "application/x-protobuf", None, LIMIT)
    from_gzip = decode_logs_body(gzip.compress(to_protobuf(request)), "application/x-protobuf", "gzip", LIMIT)
    assert from_json == from_protobuf == from_gzip  # digests included: a re-delivery is spotted across encodings


def test_debug_record_without_event_name_has_empty_name_and_observed_time() -> None:
    from promhelpers import SAMPLE_FILES

    (event,) = parse_json_body(json.dumps(sample_request(SAMPLE_FILES[1])))
    assert event.name == "" and event.time_ns == 1_795_635_526_254_522_695


def _one(record: dict) -> dict:
    return request_of([record])


def test_time_rule_prefers_time_unix_nano_then_event_timestamp_then_observed() -> None:
    record = retimed(record_named("codex.user_prompt"), 1_800_000_000.5)
    assert parse_json_body(to_json(_one(record)))[0].time_ns == 1_800_000_000_500_000_000
    record["timeUnixNano"] = "1800000001000000001"
    assert parse_json_body(to_json(_one(record)))[0].time_ns == 1_800_000_001_000_000_001
    record["timeUnixNano"] = "0"  # zero means unset
    record["attributes"] = [a for a in record["attributes"] if a["key"] != "event.timestamp"]
    assert parse_json_body(to_json(_one(record)))[0].time_ns == 1_800_000_000_500_123_456
    record["attributes"].append({"key": "event.timestamp", "value": {"stringValue": "yesterday"}})
    assert parse_json_body(to_json(_one(record)))[0].time_ns == 1_800_000_000_500_123_456


def test_otlp_json_value_conventions() -> None:
    attributes = [
        {"key": "event.name", "value": {"stringValue": "x"}},
        {"key": "int_string", "value": {"intValue": "-42"}},
        {"key": "int_number", "value": {"intValue": 7}},
        {"key": "double", "value": {"doubleValue": 1.5}},
        {"key": "nan", "value": {"doubleValue": "NaN"}},
        {"key": "bytes", "value": {"bytesValue": "aGVsbG8="}},
        {"key": "url_safe_bytes", "value": {"bytesValue": "-_8"}},
        {"key": "list", "value": {"arrayValue": {"values": [{"stringValue": "a"}, {"intValue": "1"}]}}},
        {"key": "map", "value": {"kvlistValue": {"values": [{"key": "k", "value": {"boolValue": True}}]}}},
        {"key": "empty", "value": {}},
        {"key": "snake", "value": {"string_value": "ok"}},
    ]
    body = {"resource_logs": [{"scope_logs": [{"log_records": [{"time_unix_nano": 5, "attributes": attributes}]}]}]}
    (event,) = parse_json_body(json.dumps(body))
    values = dict(event.attributes)
    nan = values.pop("nan")
    assert nan != nan
    assert values == {
        "event.name": "x",
        "int_string": -42,
        "int_number": 7,
        "double": 1.5,
        "bytes": b"hello",
        "url_safe_bytes": b"\xfb\xff",
        "list": ["a", 1],
        "map": {"k": True},
        "empty": None,
        "snake": "ok",
    }
    assert event.time_ns == 5


def test_protobuf_nested_values() -> None:
    body = {
        "resourceLogs": [
            {
                "scopeLogs": [
                    {
                        "logRecords": [
                            {
                                "attributes": [
                                    {
                                        "key": "list",
                                        "value": {
                                            "arrayValue": {"values": [{"doubleValue": 2.5}, {"bytesValue": "AAE="}]}
                                        },
                                    },
                                    {
                                        "key": "map",
                                        "value": {
                                            "kvlistValue": {"values": [{"key": "n", "value": {"intValue": "3"}}]}
                                        },
                                    },
                                    {"key": "blank", "value": {"stringValue": ""}},
                                ]
                            }
                        ]
                    }
                ]
            }
        ]
    }
    (event,) = parse_protobuf_body(to_protobuf(body))
    assert dict(event.attributes) == {"list": [2.5, b"\x00\x01"], "map": {"n": 3}, "blank": ""}


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "invalid JSON"),
        (b"[]", "must be a JSON object"),
        (b'{"resourceLogs": {}}', "resourceLogs: must be a JSON array"),
        (
            b'{"resourceLogs": [{"scopeLogs": [{"logRecords": [{"attributes": [{"key": 1}]}]}]}]}',
            "resourceLogs[0].scopeLogs[0].logRecords[0].attributes[0]: must be an object with a string key",
        ),
        (
            b'{"resourceLogs": [{"scopeLogs": [{"logRecords": [{"attributes": [{"key": "a", "value": {"intValue": "1x"}}]}]}]}]}',
            "logRecords[0].attributes[0].value: intValue must be an integer",
        ),
        (
            b'{"resourceLogs": [{"scopeLogs": [{"logRecords": [{"timeUnixNano": "-5"}]}]}]}',
            "logRecords[0].timeUnixNano: must not be negative",
        ),
        (
            b'{"resourceLogs": [{"scopeLogs": [{"logRecords": [{"attributes": [{"key": "a", "value": {"boolValue": "yes"}}]}]}]}]}',
            "boolValue must be true or false",
        ),
        (
            b'{"resourceLogs": [{"scopeLogs": [{"logRecords": [{"attributes": [{"key": "a", "value": {"bytesValue": "!!"}}]}]}]}]}',
            "bytesValue must be a base64 string",
        ),
        (
            b'{"resourceLogs": [{"scopeLogs": [{"logRecords": [{"attributes": [{"key": "a", "value": {"stringValue": "x", "intValue": "1"}}]}]}]}]}',
            "at most one field",
        ),
        (
            b'{"resourceLogs": [{"resource": {"attributes": [{"key": "a", "value": {"mystery": 1}}]}}]}',
            "resourceLogs[0].resource.attributes[0].value: unknown AnyValue field 'mystery'",
        ),
        (b"[" * 100_000 + b"]" * 100_000, "invalid JSON"),
        (b"\xff\xfe", "invalid JSON"),
    ],
)
def test_malformed_json_is_refused_with_where_and_why(body: bytes, reason: str) -> None:
    with pytest.raises(MalformedPayload) as refused:
        decode_logs_body(body, "application/json", None, LIMIT)
    assert reason in str(refused.value)


def test_hostile_nesting_is_refused() -> None:
    value: dict = {"stringValue": "deep"}
    for _ in range(200):
        value = {"arrayValue": {"values": [value]}}
    body = json.dumps(
        {"resourceLogs": [{"scopeLogs": [{"logRecords": [{"attributes": [{"key": "a", "value": value}]}]}]}]}
    )
    with pytest.raises(MalformedPayload, match="nested deeper than 32"):
        parse_json_body(body)


@pytest.mark.parametrize("body", [b"\xff\xff\xff\xff", b"\x0a\x05\x0a\x03\x0a\x01", b"\x0a\xff\xff\xff\xff\x0f"])
def test_malformed_protobuf_is_refused(body: bytes) -> None:
    with pytest.raises(MalformedPayload, match="invalid protobuf ExportLogsServiceRequest"):
        decode_logs_body(body, "application/x-protobuf", None, LIMIT)


def test_gzip_limits_and_errors() -> None:
    body = to_json(sample_request())
    two_members = gzip.compress(body[:100]) + gzip.compress(body[100:])
    assert decode_logs_body(two_members, "application/json", "gzip", LIMIT) == decode_logs_body(
        body, "application/json", None, LIMIT
    )
    bomb = gzip.compress(b" " * (LIMIT + 1))  # about 1 KiB that inflates past the limit
    with pytest.raises(PayloadTooLarge, match="decompressed body is over the limit"):
        decode_logs_body(bomb, "application/json", "gzip", LIMIT)
    with pytest.raises(MalformedPayload, match="invalid gzip body"):
        decode_logs_body(b"not gzip at all", "application/json", "gzip", LIMIT)
    with pytest.raises(MalformedPayload, match="truncated"):
        decode_logs_body(gzip.compress(body)[:-20], "application/json", "gzip", LIMIT)


def test_unknown_content_type_or_encoding_is_unsupported() -> None:
    with pytest.raises(UnsupportedMediaType, match="Content-Type 'text/plain'"):
        decode_logs_body(b"{}", "text/plain", None, LIMIT)
    with pytest.raises(UnsupportedMediaType, match="Content-Type None"):
        decode_logs_body(b"{}", None, None, LIMIT)
    with pytest.raises(UnsupportedMediaType, match="Content-Encoding 'br'"):
        decode_logs_body(b"{}", "application/json", "br", LIMIT)
