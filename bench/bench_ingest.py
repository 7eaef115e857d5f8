"""Ingest throughput: events/s through decode → increments → dedup → registry, on one core.

Workload: the records of a real Codex 0.169 export (tests/fixtures/codex-samples/001-logs.json),
cloned into distinct conversations, users and models, batched 512 per request like the OTel SDK.
Measures (1) the in-process path for JSON and protobuf bodies and (2) POSTs over HTTP to a
``codex-bot ingest`` subprocess on a free loopback port (keep-alive, one client connection).
Target: >= 20,000 events/s.  Runs in well under a minute.

    python bench/bench_ingest.py [--requests 60] [--batch 512] [--repeat 3]
"""

from __future__ import annotations

import argparse
import copy
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

from google.protobuf import json_format
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

from codex_bot.telemetry.labels import UserLabelRule
from codex_bot.telemetry.live import LiveTelemetry
from codex_bot.telemetry.otlp import decode_logs_body
from codex_bot.telemetry.runtime import tune_gc

SAMPLE = Path(__file__).resolve().parent.parent / "tests/fixtures/codex-samples/001-logs.json"
MODELS = ("gpt-5.1-codex", "gpt-5.1-codex-mini", "gpt-5-codex")


def make_requests(count: int, batch: int) -> list[dict]:
    """``count`` OTLP/JSON requests of ``batch`` distinct records each."""
    template = json.loads(SAMPLE.read_text())["payload"]
    records = template["resourceLogs"][0]["scopeLogs"][0]["logRecords"]
    requests, serial = [], 0
    for _ in range(count):
        request = copy.deepcopy(template)
        batch_records = []
        while len(batch_records) < batch:
            serial += 1
            for record in records[: batch - len(batch_records)]:
                clone = copy.deepcopy(record)
                for attribute in clone["attributes"]:
                    key, value = attribute["key"], attribute["value"]
                    if key == "conversation.id":
                        value["stringValue"] = f"conv-{serial:08d}"
                    elif key in ("model", "slug"):
                        value["stringValue"] = MODELS[serial % len(MODELS)]
                clone["attributes"].append({"key": "user.email", "value": {"stringValue": f"dev{serial % 50}@corp.example"}})
                batch_records.append(clone)
        request["resourceLogs"][0]["scopeLogs"][0]["logRecords"] = batch_records
        requests.append(request)
    return requests


def in_process(bodies: list[bytes], content_type: str) -> tuple[float, int]:
    telemetry = LiveTelemetry(UserLabelRule(), max_series=200_000, dedup_records=1_000_000)
    started = time.perf_counter()
    events = 0
    for body in bodies:
        decoded = decode_logs_body(body, content_type, None, 1 << 26)
        telemetry.accept(decoded)
        events += len(decoded)
    telemetry.scrape()
    return time.perf_counter() - started, events


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def over_http(bodies: list[bytes], content_type: str) -> tuple[float, int, str]:
    port = free_port()
    env = {**os.environ, "CODEX_BOT_INGEST_MAX_BODY_BYTES": str(1 << 26)}
    server = subprocess.Popen(
        [sys.executable, "-m", "codex_bot", "ingest", "--listen", f"127.0.0.1:{port}"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        connection = _connect(port)
        started = time.perf_counter()
        for body in bodies:
            connection.request("POST", "/v1/logs", body, {"Content-Type": content_type})
            response = connection.getresponse()
            response.read()
            assert response.status == 200, response.status
        elapsed = time.perf_counter() - started
        connection.request("GET", "/metrics")
        metrics = connection.getresponse().read().decode()
        counted = next(line for line in metrics.splitlines() if line.startswith('codex_bot_ingest_records_total{outcome="counted"}'))
        return elapsed, sum(1 for _ in bodies), counted
    finally:
        server.terminate()
        server.wait(10)


def _connect(port: int) -> http.client.HTTPConnection:
    deadline = time.monotonic() + 15
    while True:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            connection.request("GET", "/-/healthy")
            connection.getresponse().read()
            return connection
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--batch", type=int, default=512)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    requests = make_requests(args.requests, args.batch)
    json_bodies = [json.dumps(request).encode() for request in requests]
    proto_bodies = [json_format.ParseDict(request, ExportLogsServiceRequest()).SerializeToString() for request in requests]
    del requests
    tune_gc()  # as `codex-bot ingest` does
    records = args.requests * args.batch
    print(f"workload: {args.requests} requests x {args.batch} records = {records:,} events "
          f"({sum(map(len, json_bodies)) / records:.0f} B/record JSON, {sum(map(len, proto_bodies)) / records:.0f} B protobuf)")
    encodings = (("JSON", json_bodies, "application/json"), ("protobuf", proto_bodies, "application/x-protobuf"))
    print(f"events/s, best (median) of {args.repeat} runs; the machine is shared, so the best run is the fairest figure")
    for label, bodies, content_type in encodings:
        rates = sorted(records / in_process(bodies, content_type)[0] for _ in range(args.repeat))
        print(f"in-process {label:9s} {rates[-1]:10,.0f}  ({statistics.median(rates):,.0f})")
    for label, bodies, content_type in encodings:
        runs = [over_http(bodies, content_type) for _ in range(args.repeat)]
        rates = sorted(records / elapsed for elapsed, _, _ in runs)
        print(f"HTTP       {label:9s} {rates[-1]:10,.0f}  ({statistics.median(rates):,.0f})  "
              f"{runs[0][1]} POSTs per run; {runs[0][2]}")
    print("target: >= 20,000 events/s on one core; load average " + " ".join(f"{v:.2f}" for v in os.getloadavg()))


if __name__ == "__main__":
    main()
