"""Helpers for the telemetry tests: the real Codex samples as OTLP requests, re-timed copies of their
records, gzip/protobuf encodings, and a real Prometheus that scrapes a target."""

from __future__ import annotations

import copy
import gzip
import json
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
from google.protobuf import json_format
from loopback import InThread
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
)
from prometheus_fleet import PrometheusServer, require_binaries

from codex_bot.telemetry.ingest_server import IngestServer, make_server
from codex_bot.telemetry.labels import UserLabelRule
from codex_bot.telemetry.live import LiveTelemetry

SAMPLES = Path(__file__).parent / "fixtures" / "codex-samples"
SAMPLE_FILES = (SAMPLES / "001-logs.json", SAMPLES / "005-logs.json")


def sample_request(path: Path = SAMPLE_FILES[0]) -> dict[str, Any]:
    """The ExportLogsServiceRequest a real Codex 0.169 ``codex exec`` sent (envelope removed)."""
    return json.loads(path.read_text())["payload"]


def sample_records() -> list[dict[str, Any]]:
    """The 17 log records of ``001-logs.json`` (one ``codex exec`` run), in order."""
    return sample_request()["resourceLogs"][0]["scopeLogs"][0]["logRecords"]


def record_named(name: str, kind: str | None = None, *, with_tokens: bool = False) -> dict[str, Any]:
    """A deep copy of the first sample record with ``event.name`` = name (and ``event.kind``)."""
    for record in sample_records():
        attributes = attributes_of(record)
        if attributes.get("event.name") == name and kind in (None, attributes.get("event.kind")):
            if not with_tokens or "input_token_count" in attributes:
                return copy.deepcopy(record)
    raise LookupError(name)


def attributes_of(record: dict[str, Any]) -> dict[str, Any]:
    """Attribute key → the JSON scalar inside its AnyValue."""
    return {a["key"]: next(iter(a["value"].values()), None) for a in record["attributes"]}


def set_attribute(record: dict[str, Any], key: str, value: Any) -> dict[str, Any]:
    """Set (or add) one attribute, typed like Codex: str → stringValue, bool, int → intValue (as a string)."""
    if isinstance(value, bool):
        any_value: dict[str, Any] = {"boolValue": value}
    elif isinstance(value, int):
        any_value = {"intValue": str(value)}
    else:
        any_value = {"stringValue": value}
    for attribute in record["attributes"]:
        if attribute["key"] == key:
            attribute["value"] = any_value
            return record
    record["attributes"].append({"key": key, "value": any_value})
    return record


def retimed(record: dict[str, Any], seconds: float, **attributes: Any) -> dict[str, Any]:
    """A copy of ``record`` that happened at unix ``seconds`` (as Codex dates it: ``event.timestamp``)."""
    clone = copy.deepcopy(record)
    stamp = datetime.fromtimestamp(seconds, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    set_attribute(clone, "event.timestamp", stamp)
    clone["observedTimeUnixNano"] = str(int(seconds * 1e9) + 123_456)
    for key, value in attributes.items():
        set_attribute(clone, key.replace("__", "."), value)
    return clone


def request_of(records: list[dict[str, Any]], resource: dict[str, str] | None = None) -> dict[str, Any]:
    """An ExportLogsServiceRequest holding ``records`` under the sample's resource (plus ``resource``)."""
    request = sample_request()
    resource_logs = request["resourceLogs"][0]
    for key, value in (resource or {}).items():
        resource_logs["resource"]["attributes"].append({"key": key, "value": {"stringValue": value}})
    resource_logs["scopeLogs"] = [{"scope": {"name": "codex_otel.log_only"}, "logRecords": records}]
    return request


def to_protobuf(request: dict[str, Any]) -> bytes:
    """The same request as the binary protobuf Codex sends with ``protocol = "binary"``."""
    return json_format.ParseDict(request, ExportLogsServiceRequest()).SerializeToString()


def to_json(request: dict[str, Any]) -> bytes:
    return json.dumps(request).encode()


def post_samples(ingest_url: str) -> None:
    """POST the first sample file as protobuf and the second as JSON, so both encodings are read."""
    for body, content_type in (
        (to_protobuf(sample_request(SAMPLE_FILES[0])), "application/x-protobuf"),
        (to_json(sample_request(SAMPLE_FILES[1])), "application/json"),
    ):
        requests.post(
            f"{ingest_url}/v1/logs", data=body, headers={"Content-Type": content_type}, timeout=10
        ).raise_for_status()


def gzipped(body: bytes) -> bytes:
    return gzip.compress(body)


@contextmanager
def ingest_server(
    rule: UserLabelRule = UserLabelRule(), max_series: int = 1000, dedup: int = 1000, max_body: int = 64 * 1024
) -> Iterator[IngestServer]:
    """The real ingest HTTP server in a thread on a free loopback port."""
    server = make_server("127.0.0.1", 0, LiveTelemetry(rule, max_series, dedup), max_body)
    with InThread(server):
        yield server


def query(url: str, promql: str, at: float | None = None) -> list[tuple[dict[str, str], float]]:
    """Instant PromQL query: (labels without __name__, value) per result."""
    params: dict[str, Any] = {"query": promql}
    if at is not None:
        params["time"] = at
    reply = requests.get(f"{url}/api/v1/query", params=params, timeout=30)
    body = reply.json()
    assert reply.status_code == 200 and body["status"] == "success", body
    return [
        ({k: v for k, v in item["metric"].items() if k != "__name__"}, float(item["value"][1]))
        for item in body["data"]["result"]
    ]


def scalar(url: str, promql: str, at: float | None = None) -> float | None:
    """The single value of a query that yields at most one series (None when it yields none)."""
    result = query(url, promql, at)
    assert len(result) <= 1, result
    return result[0][1] if result else None


@contextmanager
def prometheus(tsdb: Path, work: Path, scrape_target: str | None = None) -> Iterator[str]:
    """A real Prometheus over ``tsdb``; with ``scrape_target`` (host:port) it scrapes it every second."""
    binary, _ = require_binaries()
    server = PrometheusServer(binary, tsdb, work)
    url = server.start()
    try:
        if scrape_target:
            _scrape(server, scrape_target)
        yield url
    finally:
        server.stop()


def _scrape(server: PrometheusServer, target: str) -> None:
    """Reload the running server with a 1 s scrape job for ``target`` and wait until it is active."""
    (server.work / "prometheus.yml").write_text(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
        f"scrape_configs:\n  - job_name: ingest\n    static_configs:\n      - targets: ['{target}']\n"
    )
    assert server.process is not None
    server.process.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        active = requests.get(f"{server.url}/api/v1/targets", timeout=5).json()["data"]["activeTargets"]
        if any(t["labels"].get("instance") == target and t["health"] == "up" for t in active):
            return
        time.sleep(0.2)
    raise AssertionError(f"Prometheus never scraped {target}:\n{server.log_tail()}")
