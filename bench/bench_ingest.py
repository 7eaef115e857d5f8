"""Ingest throughput: events/s through decode → increments → dedup → registry, on one core.

Workload: the first --requests × --batch records of the synthetic fleet (``codex-bot simulate``'s
generator: 50 developers, realistic Codex 0.16x records, about 1.2 kB each in OTLP/JSON), batched
like the OTel SDK and encoded as JSON and as protobuf.  Measures (1) the in-process path and (2) POSTs
over HTTP to a ``codex-bot ingest`` subprocess on a free loopback port (keep-alive, one client
connection).  The best of --repeat runs is the figure: the machine is shared, so the best run is the
fairest.  Target: >= 20,000 events/s.  Runs in well under a minute.

    python bench/bench_ingest.py [--requests 60] [--batch 512] [--repeat 3]
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from typing import TextIO

from common import Figure, at_least, print_report, say, tuned_gc
from google.protobuf import json_format
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
)

from codex_bot.demo.prometheus import free_port
from codex_bot.simulate.fleet import FleetConfig, simulate
from codex_bot.simulate.output import RequestEncoder, batches
from codex_bot.telemetry.labels import UserLabelRule
from codex_bot.telemetry.live import LiveTelemetry
from codex_bot.telemetry.otlp import decode_logs_body

TARGET = 20_000.0
FLEET = FleetConfig(developers=50, days=30, seed=7, end=datetime(2026, 3, 2, tzinfo=UTC))  # ~100k events


def make_bodies(count: int, batch: int) -> list[bytes]:
    """``count`` OTLP/JSON requests of ``batch`` records each, in the fleet's time order."""
    chosen = list(itertools.islice(batches(simulate(FLEET), batch), count))
    if len(chosen) < count or len(chosen[-1]) < batch:
        raise ValueError(f"the bench fleet holds fewer than {count} × {batch} events")
    encoder = RequestEncoder()
    return [encoder.encode(events).encode() for events in chosen]


def protobuf(body: bytes) -> bytes:
    return json_format.ParseDict(json.loads(body), ExportLogsServiceRequest()).SerializeToString()


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


def over_http(bodies: list[bytes], content_type: str) -> tuple[float, int]:
    """(seconds to POST every body, records the ingest counted) against a fresh ``codex-bot ingest``."""
    port = free_port()
    env = {**os.environ, "CODEX_BOT_INGEST_MAX_BODY_BYTES": str(1 << 26)}
    server = subprocess.Popen(
        [sys.executable, "-m", "codex_bot", "ingest", "--listen", f"127.0.0.1:{port}"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        connection = _connect(port)
        started = time.perf_counter()
        for body in bodies:
            connection.request("POST", "/v1/logs", body, {"Content-Type": content_type})
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                raise RuntimeError(f"ingest answered HTTP {response.status}")
        elapsed = time.perf_counter() - started
        connection.request("GET", "/metrics")
        metrics = connection.getresponse().read().decode()
        counted = next(
            line
            for line in metrics.splitlines()
            if line.startswith('codex_bot_ingest_records_total{outcome="counted"}')
        )
        return elapsed, int(float(counted.rsplit(" ", 1)[1]))
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


def measure(requests: int = 60, batch: int = 512, repeat: int = 3, out: TextIO | None = None) -> list[Figure]:
    json_bodies = make_bodies(requests, batch)
    proto_bodies = [protobuf(body) for body in json_bodies]
    records = requests * batch
    say(
        out,
        f"workload: {requests} requests × {batch} records = {records:,} events "
        f"({sum(map(len, json_bodies)) / records:.0f} B/record JSON, "
        f"{sum(map(len, proto_bodies)) / records:.0f} B protobuf); events/s, best (median) of {repeat} runs",
    )
    encodings = (("JSON", json_bodies, "application/json"), ("protobuf", proto_bodies, "application/x-protobuf"))
    figures = []
    with tuned_gc():  # as `codex-bot ingest` does
        for label, bodies, content_type in encodings:
            rates = sorted(records / in_process(bodies, content_type)[0] for _ in range(repeat))
            say(out, f"in-process {label:9s} {rates[-1]:10,.0f}  ({statistics.median(rates):,.0f})")
            figures.append(
                Figure(
                    f"ingest, in-process, OTLP {label}",
                    rates[-1],
                    "events/s",
                    at_least(TARGET),
                    f"best of {repeat} (median {statistics.median(rates):,.0f}); one thread",
                )
            )
    for label, bodies, content_type in encodings:
        runs = [over_http(bodies, content_type) for _ in range(repeat)]
        rates = sorted(records / elapsed for elapsed, _ in runs)
        say(
            out,
            f"HTTP       {label:9s} {rates[-1]:10,.0f}  ({statistics.median(rates):,.0f})  "
            f"{runs[0][1]:,} records counted",
        )
        figures.append(
            Figure(
                f"ingest, HTTP to `codex-bot ingest`, OTLP {label}",
                rates[-1],
                "events/s",
                at_least(TARGET),
                f"best of {repeat} (median {statistics.median(rates):,.0f}); "
                f"{requests} POSTs of {batch} on one connection; {runs[0][1]:,} of {records:,} "
                "records counted (the rest carry nothing the metric contract counts)",
            )
        )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--batch", type=int, default=512)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print_report(measure(args.requests, args.batch, args.repeat, sys.stdout))


if __name__ == "__main__":
    main()
