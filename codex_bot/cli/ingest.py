"""``codex-bot ingest``: run the OTLP/HTTP receiver that turns Codex log events into Prometheus series."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading

from codex_bot.errors import UserError
from codex_bot.settings import load_settings
from codex_bot.telemetry.ingest_server import IngestServer, make_server, parse_listen
from codex_bot.telemetry.labels import label_rule
from codex_bot.telemetry.live import LiveTelemetry
from codex_bot.telemetry.runtime import tune_gc

log = logging.getLogger("codex_bot.ingest")

DESCRIPTION = """\
Receive OpenTelemetry log events from Codex (OTLP/HTTP) and expose them as Prometheus metrics.

Point Codex at it in ~/.codex/config.toml:
  [otel]
  exporter = { otlp-http = { endpoint = "http://HOST:PORT/v1/logs", protocol = "binary" } }
and let Prometheus scrape http://HOST:PORT/metrics (every 15-60 s).

POST /v1/logs        OTLP logs, protobuf or JSON, optionally gzip: counted
POST /v1/metrics     accepted and ignored (so a config exporting all signals works)
POST /v1/traces      accepted and ignored
GET  /metrics        codex_* series (see the metric contract) and codex_bot_ingest_* self-metrics
GET  /-/healthy      liveness

Settings (environment or .env): CODEX_BOT_INGEST_LISTEN, CODEX_BOT_INGEST_MAX_BODY_BYTES (larger
bodies get 413), CODEX_BOT_INGEST_DEDUP_RECORDS (exact re-deliveries among this many recent records
count once), CODEX_BOT_INGEST_MAX_SERIES, CODEX_BOT_USER_LABEL (email | account_id | hash | none),
CODEX_BOT_USER_HASH_SALT.  Counts live in memory: a restart starts new series at 0 (every series
carries ingest_boot, one value per process), so no counter ever resets.  Stop with SIGTERM or Ctrl-C.
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "ingest",
        help="receive Codex OTLP log events and serve them as Prometheus metrics",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--listen", metavar="HOST:PORT", help="address to listen on (default: CODEX_BOT_INGEST_LISTEN, 127.0.0.1:4318)"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    settings = load_settings()
    try:
        host, port = parse_listen(args.listen or settings.ingest_listen)
        rule = label_rule(settings)
        if rule.mode == "hash" and not rule.salt:
            log.warning("CODEX_BOT_USER_HASH_SALT is empty: hashed users can be matched to known e-mails")
        telemetry = LiveTelemetry(rule, settings.ingest_max_series, settings.ingest_dedup_records)
        server = make_server(host, port, telemetry, settings.ingest_max_body_bytes)
    except UserError as exc:
        print(f"codex-bot ingest: {exc}", file=sys.stderr)
        return 2
    log.info("listening on %s (POST /v1/logs, GET /metrics); user label: %s", server.url, rule.mode)
    tune_gc()
    serve_until_signal(server)
    log.info("stopped")
    return 0


def serve_until_signal(server: IngestServer) -> None:
    """Serve until SIGTERM/SIGINT, then stop accepting, close the socket and return."""

    def stop(signum: int, frame: object) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()  # shutdown() blocks: not in this thread

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
