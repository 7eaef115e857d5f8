"""Malformed and hostile OTLP bodies against a live ``codex-bot ingest`` process, then a valid export.

Every hostile body is refused with 400, 413 or 415 (or, when it is valid OTLP that merely carries
junk, accepted and counted as an ignored record); ``/metrics`` shows nothing counted, the refusals
counted by kind, no traceback in the log; idle connections hold nothing up; a valid export
afterwards is counted exactly.  Mutated bodies (hypothesis) through the decoder: events or a
refusal, never another exception.
"""

from __future__ import annotations

import copy
import gzip
import json
import socket
import time
import zlib
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from codex_e2e.exposition import parse, total
from codex_e2e.ingest_process import running_ingest
from google.protobuf.internal.encoder import _EncodeVarint
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from promhelpers import (
    SAMPLE_FILES,
    record_named,
    retimed,
    sample_request,
    to_json,
    to_protobuf,
)

from codex_bot.telemetry.otlp import decode_logs_body
from codex_bot.telemetry.otlp_errors import PayloadError

JSON = {"Content-Type": "application/json"}
PROTOBUF = {"Content-Type": "application/x-protobuf"}
MAX_BODY = 16 * 1024 * 1024  # ingest's default CODEX_BOT_INGEST_MAX_BODY_BYTES


def field(number: int, payload: bytes) -> bytes:
    """One length-delimited protobuf field."""
    out = bytearray()
    _EncodeVarint(out.extend, number << 3 | 2)
    _EncodeVarint(out.extend, len(payload))
    return bytes(out) + payload


def logs_with_attribute(key: bytes, any_value: bytes) -> bytes:
    """ExportLogsServiceRequest bytes: one record with one attribute (KeyValue 1=key, 2=AnyValue)."""
    record = field(6, field(1, key) + field(2, any_value))  # LogRecord.attributes
    return field(1, field(2, field(2, record)))  # resource_logs → scope_logs → log_records


def nested_array_value(depth: int) -> bytes:
    value = field(1, b"x")  # AnyValue.string_value
    for _ in range(depth):
        value = field(5, field(1, value))  # AnyValue.array_value → ArrayValue.values
    return value


def json_with_records(*records: Any) -> bytes:
    return json.dumps({"resourceLogs": [{"scopeLogs": [{"logRecords": list(records)}]}]}).encode()


def kvlist(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {"stringValue": "x"}
    for _ in range(depth):
        value = {"kvlistValue": {"values": [{"key": "k", "value": value}]}}
    return value


def gzip_bomb(size: int) -> bytes:
    """A gzip member that inflates to ``size`` zero bytes (about size/1000 on the wire)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = bytes(1 << 20)
    return b"".join(packer.compress(chunk) for _ in range(size >> 20)) + packer.flush()


def hostile_bodies() -> list[tuple[str, bytes, dict[str, str], int]]:
    """(name, body, headers, expected status) for bodies sent with a correct Content-Length."""
    pb = to_protobuf(sample_request())
    good_json = to_json(sample_request())
    prompt = retimed(record_named("codex.user_prompt"), 1e9)
    bad = []
    for cut in (1, 10, 100, len(pb) // 2, len(pb) - 1):
        bad.append((f"protobuf cut at {cut}", pb[:cut], PROTOBUF, 400))
    bad += [
        ("protobuf garbage", b"\xff" * 64, PROTOBUF, 400),
        ("protobuf invalid UTF-8 key", logs_with_attribute(b"\xff\xfe", field(1, b"v")), PROTOBUF, 400),
        ("protobuf invalid UTF-8 value", logs_with_attribute(b"event.name", field(1, b"\xc3\x28")), PROTOBUF, 400),
        ("protobuf nested 3000 deep", logs_with_attribute(b"deep", nested_array_value(3000)), PROTOBUF, 400),
        ("JSON cut", good_json[: len(good_json) // 2], JSON, 400),
        ("JSON invalid UTF-8", good_json.replace(b"codex.user_prompt", b"codex.\xff\xfe"), JSON, 400),
        ("JSON nested 100000 deep", b"[" * 100_000 + b"]" * 100_000, JSON, 400),
        ("JSON kvlist 40 deep", json_with_records({"attributes": [{"key": "k", "value": kvlist(40)}]}), JSON, 400),
        ("JSON not an object", b'["resourceLogs"]', JSON, 400),
        ("JSON resourceLogs a string", b'{"resourceLogs": "all of them"}', JSON, 400),
        ("JSON null resource", b'{"resourceLogs": [null]}', JSON, 400),
        ("JSON null record", json_with_records(None), JSON, 400),
        ("JSON record a number", json_with_records(7), JSON, 400),
        (
            "JSON intValue a word",
            json_with_records({"attributes": [{"key": "n", "value": {"intValue": "twelve"}}]}),
            JSON,
            400,
        ),
        (
            "JSON stringValue a number",
            json_with_records({"attributes": [{"key": "s", "value": {"stringValue": 5}}]}),
            JSON,
            400,
        ),
        ("JSON attributes an object", json_with_records({"attributes": {"key": "event.name"}}), JSON, 400),
        ("JSON negative time", json_with_records({**prompt, "timeUnixNano": "-1"}), JSON, 400),
        ("JSON time a float", json_with_records({**prompt, "timeUnixNano": 1.5}), JSON, 400),
        (
            "JSON bytesValue not base64",
            json_with_records({"attributes": [{"key": "b", "value": {"bytesValue": "%%"}}]}),
            JSON,
            400,
        ),
        ("gzip bomb 64 MiB", gzip_bomb(64 << 20), {**JSON, "Content-Encoding": "gzip"}, 413),
        (
            "gzip members over the limit",
            gzip.compress(bytes(6 << 20)) * 3,
            {**PROTOBUF, "Content-Encoding": "gzip"},
            413,
        ),
        ("gzip truncated", gzip.compress(good_json)[:-9], {**JSON, "Content-Encoding": "gzip"}, 400),
        ("gzip of garbage", gzip.compress(b"\x00garbage"), {**PROTOBUF, "Content-Encoding": "gzip"}, 400),
        ("not gzip", good_json, {**JSON, "Content-Encoding": "gzip"}, 400),
        ("text/plain", good_json, {"Content-Type": "text/plain"}, 415),
        ("no content type", pb, {}, 415),
        ("form", b"a=1", {"Content-Type": "application/x-www-form-urlencoded"}, 415),
        ("multipart", b"--x--", {"Content-Type": "multipart/form-data; boundary=x"}, 415),
        ("grpc", pb, {"Content-Type": "application/grpc"}, 415),
        ("brotli", good_json, {**JSON, "Content-Encoding": "br"}, 415),
        ("deflate", zlib.compress(good_json), {**JSON, "Content-Encoding": "deflate"}, 415),
    ]
    return bad


def raw_exchange(base_url: str, head: bytes) -> int:
    """Send raw request bytes; the status of the one answer, after which the server must close the connection
    (what follows a request it cannot frame must never be read as another request)."""
    host, port = base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as connection:
        connection.sendall(head)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    assert answer.count(b"HTTP/1.") == 1, answer
    return int(answer.split()[1])


HEAD = b"POST /v1/logs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
RAW = [  # (name, request bytes, expected status): framing problems only a raw client can send
    ("no Content-Length", HEAD + b"\r\n{}", 400),
    ("negative Content-Length", HEAD + b"Content-Length: -5\r\n\r\n{}", 400),
    ("a terabyte announced", HEAD + b"Content-Length: 1099511627776\r\n\r\n{", 413),
    ("bad chunk size", HEAD + b"Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n", 400),
]


def status_of(url: str, body: bytes, headers: dict[str, str]) -> int | str:
    try:
        return requests.post(f"{url}/v1/logs", data=body, headers=headers, timeout=30).status_code
    except requests.RequestException as exc:
        return f"no answer: {type(exc).__name__}"


@pytest.fixture(scope="module")
def ingest(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    work = tmp_path_factory.mktemp("ingest")
    with running_ingest(work) as url:
        yield url, work / "ingest.log"


def metrics(url: str) -> list:
    return parse(requests.get(f"{url}/metrics", timeout=10).text)


def test_hostile_bodies_are_refused_nothing_is_counted_and_ingest_keeps_serving(ingest):
    url, log = ingest
    expected: Counter[int] = Counter()
    idle = []  # connections that never send a byte: each holds a server thread, none may hold up the others
    for _ in range(32):
        idle.append(socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1]))))
        time.sleep(0.005)  # let ingest accept it (its listen queue is stdlib's 5)
    try:
        cases = [(name, status, status_of(url, body, headers)) for name, body, headers, status in hostile_bodies()]
        cases += [(name, status, raw_exchange(url, head)) for name, head, status in RAW]
        assert [case for case in cases if case[1] != case[2]] == []
        expected.update(status for _, status, _ in cases)
        junk = {"attributes": [{"key": f"k{n}", "value": {"stringValue": "v"}} for n in range(100_000)]}
        assert requests.post(f"{url}/v1/logs", data=json_with_records(junk), headers=JSON, timeout=30).ok

        samples = metrics(url) + metrics(url)  # a second scrape would show any increment held for zero-birth
        counted = {s.name for s in samples if not s.name.startswith("codex_bot_ingest_")}
        assert counted == set(), f"contract series appeared: {counted}"
        outcomes = {
            o: total(metrics(url), "codex_bot_ingest_requests_total", outcome=o)
            for o in ("malformed", "too_large", "unsupported", "accepted")
        }
        assert outcomes == {
            "malformed": expected[400],
            "too_large": expected[413],
            "unsupported": expected[415],
            "accepted": 1,
        }
        assert total(metrics(url), "codex_bot_ingest_records_total", outcome="counted") == 0

        for path in SAMPLE_FILES:  # a valid export, while the idle connections are still open
            assert (
                requests.post(
                    f"{url}/v1/logs", data=to_protobuf(sample_request(path)), headers=PROTOBUF, timeout=10
                ).status_code
                == 200
            )
        after = metrics(url) and metrics(url)
        assert total(after, "codex_bot_ingest_records_total", outcome="counted") == 8
        assert total(after, "codex_tokens_total", type="input") == 2700 and total(after, "codex_prompts_total") == 1
    finally:
        for connection in idle:
            connection.close()
    print(f"\n{sum(expected.values())} hostile requests: {dict(expected)} by status; 0 counted; ingest kept serving")
    assert "Traceback" not in log.read_text()


# --- mutated bodies straight through the decoder ---


def _paths(node: Any, path: tuple = ()) -> Iterator[tuple]:
    yield path
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, child in children:
        yield from _paths(child, (*path, key))


SAMPLE = sample_request()
PATHS = list(_paths(SAMPLE))[1:]
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                ["key", "value", "stringValue", "intValue", "attributes", "logRecords", "scopeLogs", "values", "x"]
            ),
            inner,
            max_size=3,
        )
    ),
    max_leaves=6,
)


def mutated(document: Any, changes: list[tuple[int, Any]]) -> Any:
    copied = copy.deepcopy(document)
    for index, value in changes:
        *parents, last = PATHS[index % len(PATHS)]
        node = copied
        try:
            for key in parents:
                node = node[key]
            node[last] = value
        except (KeyError, IndexError, TypeError):
            continue  # the path went away with an earlier change
    return copied


def decodes_or_refuses(body: bytes, content_type: str) -> None:
    try:
        decode_logs_body(body, content_type, None, MAX_BODY)
    except PayloadError:
        pass


@settings(
    max_examples=400, deadline=None, database=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(st.lists(st.tuples(st.integers(0, len(PATHS) - 1), JSON_VALUES), min_size=1, max_size=4))
def test_mutated_json_bodies_decode_or_are_refused(changes):
    decodes_or_refuses(json.dumps(mutated(SAMPLE, changes)).encode(), "application/json")


PROTOBUF_BODY = to_protobuf(SAMPLE)


@settings(max_examples=400, deadline=None, database=None, derandomize=True)
@given(st.lists(st.tuples(st.integers(0, len(PROTOBUF_BODY) - 1), st.integers(0, 255)), min_size=1, max_size=8))
def test_mutated_protobuf_bodies_decode_or_are_refused(flips):
    body = bytearray(PROTOBUF_BODY)
    for position, byte in flips:
        body[position] = byte
    decodes_or_refuses(bytes(body), "application/x-protobuf")
