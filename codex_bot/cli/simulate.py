"""``codex-bot simulate``: write (or stream) a synthetic Codex fleet's OTLP log events and their ground truth."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from codex_bot.errors import UserError
from codex_bot.settings import load_settings
from codex_bot.simulate.event import SimEvent
from codex_bot.simulate.fleet import FleetConfig, next_full_hour, simulate
from codex_bot.simulate.incidents import INCIDENT_KINDS, Incident, parse_incident
from codex_bot.simulate.output import BATCH_RECORDS, OutputSummary, stream, write_files
from codex_bot.simulate.truth import GroundTruth
from codex_bot.telemetry.labels import label_rule

EPILOG = f"""\
incidents: KIND@START/DURATION with KIND one of {", ".join(INCIDENT_KINDS)},
  START an ISO time (UTC unless it has an offset), DURATION like 90m, 2h, 1d.
  e.g. --incident success-drop@2026-11-20T10:00/2h --incident p95-spike@2026-11-21T14:00/90m

examples:
  codex-bot simulate --developers 50 --days 30 --out fleet/ && codex-bot backfill fleet/*.json --tsdb data/
  codex-bot simulate --developers 5 --days 1 --stream http://127.0.0.1:4318/v1/logs
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "simulate",
        help="generate a synthetic Codex fleet's telemetry (OTLP/JSON files or a live stream)",
        description="Generate realistic Codex OTLP log events for N developers over D days, deterministic by "
        "--seed, with optional planted incidents; write them as OTLP/JSON files that "
        "`codex-bot backfill` reads (plus truth.json, the totals counted from the events), "
        "or POST them to a live `codex-bot ingest`.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--developers", type=_positive_int, default=20, metavar="N", help="developers (default 20)")
    parser.add_argument("--days", type=_positive_float, default=7.0, metavar="D", help="days of history (default 7)")
    parser.add_argument("--seed", type=int, default=1, help="random seed: same seed, same events (default 1)")
    parser.add_argument(
        "--end",
        type=_moment,
        default=None,
        metavar="TIME",
        help="end of the range, ISO time (UTC unless it has an offset); default: the next full hour",
    )
    parser.add_argument(
        "--timezone",
        type=_zone,
        default="UTC",
        metavar="ZONE",
        help="IANA zone of the fleet's working hours and weekends (default UTC)",
    )
    parser.add_argument(
        "--incident",
        type=_incident,
        action="append",
        default=[],
        metavar="KIND@START/DURATION",
        help="plant an incident (repeatable; see below)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("codex-fleet"),
        metavar="DIR",
        help="output folder for logs-NNNNNN.json (or logs.jsonl) and truth.json (default codex-fleet)",
    )
    parser.add_argument(
        "--jsonl",
        action="store_true",
        help="write one request per line to DIR/logs.jsonl, like the OTel Collector's file exporter",
    )
    parser.add_argument("--stream", metavar="URL", help="POST the requests to a live ingest instead of writing files")
    parser.add_argument(
        "--batch-records",
        type=_positive_int,
        default=BATCH_RECORDS,
        metavar="N",
        help=f"log records per export request (default {BATCH_RECORDS})",
    )
    parser.add_argument("--no-truth", action="store_true", help="do not count the ground truth (saves time and memory)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    try:
        config = FleetConfig(
            developers=args.developers,
            days=args.days,
            seed=args.seed,
            timezone=args.timezone,
            end=args.end or next_full_hour(datetime.now(UTC)),
            incidents=tuple(args.incident),
        )
        _check_incidents(config)
        truth = None if args.no_truth else GroundTruth(user_rule=label_rule(load_settings()))
        events = simulate(config) if truth is None else _feeding(truth, simulate(config))
        if args.stream:
            summary = stream(events, args.stream, args.batch_records)
            where = args.stream
        else:
            summary = write_files(events, args.out, jsonl=args.jsonl, batch_records=args.batch_records)
            where = str(args.out)
            if truth is not None:
                _write_truth(args.out / "truth.json", config, truth)
    except UserError as exc:
        print(f"codex-bot simulate: {exc}", file=sys.stderr)
        return 2
    _report(config, summary, where, truth is not None and not args.stream)
    return 0


def _feeding(truth: GroundTruth, events: Iterable[SimEvent]) -> Iterator[SimEvent]:
    for event in events:
        truth.add(event)
        yield event


def _check_incidents(config: FleetConfig) -> None:
    for incident in config.incidents:
        if incident.end <= config.start or incident.start >= config.end:
            raise UserError(
                f"incident {incident.spec()} lies outside the simulated range "
                f"{config.start:%Y-%m-%dT%H:%M}Z .. {config.end:%Y-%m-%dT%H:%M}Z"
            )


def _write_truth(path: Path, config: FleetConfig, truth: GroundTruth) -> None:
    document = {
        "fleet": {
            "developers": config.developers,
            "days": config.days,
            "seed": config.seed,
            "timezone": config.timezone,
            "start": config.start.isoformat(),
            "end": config.end.isoformat(),
        },
        "incidents": [
            {"kind": i.kind, "start": i.start.isoformat(), "end": i.end.isoformat()} for i in config.incidents
        ],
        "user_label": truth.user_rule.mode,
        **truth.summary(config.start, config.end),
    }
    path.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")


def _report(config: FleetConfig, summary: OutputSummary, where: str, with_truth: bool) -> None:
    print(
        f"simulated {config.developers} developers over {config.days:g} days "
        f"({config.start:%Y-%m-%d %H:%M} .. {config.end:%Y-%m-%d %H:%M} UTC): "
        f"{summary.records} log records in {summary.requests} requests ({summary.bytes / 1e6:.1f} MB) -> {where}"
    )
    if with_truth:
        print(f"ground truth: {where}/truth.json")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be more than 0")
    return value


def _moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO time such as 2026-11-27T12:00") from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def _zone(text: str) -> str:
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise argparse.ArgumentTypeError(
            f"unknown time zone {text!r} (use an IANA name such as Europe/Berlin)"
        ) from None
    return text


def _incident(text: str) -> Incident:
    try:
        return parse_incident(text)
    except UserError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
