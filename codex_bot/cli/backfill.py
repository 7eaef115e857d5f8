"""``codex-bot backfill``: import recorded Codex OTLP/JSON log files into Prometheus TSDB blocks."""

from __future__ import annotations

import argparse
import re
import sys
import time
from datetime import UTC, datetime

from codex_bot.errors import BadRange, UserError
from codex_bot.metrics.ranges import parse_instant
from codex_bot.settings import load_settings
from codex_bot.telemetry.backfill import BackfillReport, backfill
from codex_bot.telemetry.labels import label_rule
from codex_bot.telemetry.runtime import tune_gc

DESCRIPTION = """\
Import recorded Codex telemetry so Prometheus (or VictoriaMetrics) shows history from day one.

FILE is OTLP/JSON holding ExportLogsServiceRequests: one per file, or one per line as the
OpenTelemetry Collector's file exporter writes (gzip-compressed files are fine).  The events go
through exactly the aggregation `codex-bot ingest` uses (same series, labels, dedup and user-label
setting), are written as OpenMetrics sampled every --step seconds (each series from one step before
its first event, at 0, until --end), and imported with
`promtool tsdb create-blocks-from openmetrics` into DIR, or, with --to-url, sent to
VictoriaMetrics' import API (URL/api/v1/import/prometheus; URL is a single-node server like
http://127.0.0.1:8428 or a cluster's http://vminsert:8480/insert/0/prometheus).

Then start Prometheus on DIR (or copy the new blocks into its data folder) with a retention long
enough for the imported range, e.g. --storage.tsdb.retention.time=365d, or old blocks are deleted.
increase(x[r]) evaluated at a time on the step grid counts exactly the events in (t-r, t].
The grid is dense (about 100 bytes of OpenMetrics per series per step, which promtool holds in
memory): for big fleets or long ranges use a larger --step.
"""

_RELATIVE = re.compile(r"^now(?:([+-])(\d+(?:\.\d+)?)([smhd]))?$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_time(text: str, now: float | None = None) -> float:
    """Unix seconds from ``now``, ``now+1h``/``now-30m``, or an instant :func:`parse_instant` reads."""
    text = text.strip()
    relative = _RELATIVE.match(text)
    if relative:
        sign, amount, unit = relative.groups()
        offset = float(amount) * _UNIT_SECONDS[unit] if amount else 0.0
        return (time.time() if now is None else now) + (-offset if sign == "-" else offset)
    try:
        return parse_instant(text).timestamp()
    except BadRange:
        raise argparse.ArgumentTypeError(
            f"bad time {text!r}: use unix seconds, an RFC 3339 time (2026-01-31T12:00:00Z), now, or now+1h"
        ) from None


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "backfill",
        help="import recorded Codex OTLP/JSON log files into Prometheus TSDB blocks",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="OTLP/JSON log export file(s)")
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--tsdb", metavar="DIR", help="folder to write Prometheus TSDB blocks into")
    target.add_argument("--to-url", metavar="URL", help="VictoriaMetrics to send the samples to (its import API)")
    parser.add_argument("--step", type=int, default=60, metavar="SECONDS", help="sample interval (default 60)")
    parser.add_argument(
        "--end",
        type=parse_time,
        metavar="TIME",
        help="last sample time: unix seconds, RFC 3339, now, now+1h (default: the last event); "
        "a time in the future keeps 'now' queries fresh; later events are skipped",
    )
    parser.add_argument("--openmetrics-out", metavar="FILE", help="where to write the intermediate OpenMetrics file")
    parser.add_argument("--keep-openmetrics", action="store_true", help="keep the OpenMetrics file after the import")
    parser.add_argument("--promtool", default="promtool", metavar="PATH", help="promtool binary (default: from PATH)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    settings = load_settings()
    tune_gc()
    try:
        report = backfill(
            args.files,
            args.tsdb,
            args.step,
            args.end,
            rule=label_rule(settings),
            max_series=settings.ingest_max_series,
            dedup_records=settings.ingest_dedup_records,
            openmetrics_out=args.openmetrics_out,
            keep_openmetrics=args.keep_openmetrics,
            promtool=args.promtool,
            to_url=args.to_url,
        )
    except UserError as exc:
        print(f"codex-bot backfill: {exc}", file=sys.stderr)
        return 1
    print(summary(report, args.step, args.tsdb or args.to_url))
    return 0


def _when(seconds: int | None) -> str:
    if seconds is None:
        return "-"
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def summary(report: BackfillReport, step: int, target: str) -> str:
    records = report.records
    lines = [
        f"files     {report.files}",
        f"records   {records.records:,} ({records.counted:,} counted, {records.ignored:,} ignored, "
        f"{records.duplicate:,} duplicates, {report.undated:,} without time, {report.after_end:,} after --end)",
        f"series    {report.series:,}"
        + (f" ({report.refused:,} increments over the series cap dropped)" if report.refused else ""),
        f"samples   {report.samples:,} every {step} s from {_when(report.start)} to {_when(report.end)}",
        f"tsdb      {target}"
        if report.flushed is None
        else f"sent to   {target}"
        + ("" if report.flushed else " (no /internal/force_flush there: queryable within seconds)"),
        f"time      {report.seconds:.1f} s",
    ]
    if report.openmetrics_path:
        lines.append(f"kept      {report.openmetrics_path}")
    return "\n".join(lines)
