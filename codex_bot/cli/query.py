"""``codex-bot query PANEL [RANGE] [key=value ...] [--at TIME] [--json] [--prometheus URL] [--chart FILE.png]``."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from pathlib import Path

from codex_bot.charts.chart_file import save_chart
from codex_bot.charts.renderer import ChartRenderer
from codex_bot.errors import PrometheusUnavailable, UserError
from codex_bot.metrics.client import PrometheusClient
from codex_bot.metrics.ranges import RANGE_FORMS, parse_instant
from codex_bot.panels.catalog import PANELS
from codex_bot.panels.cost import load_prices
from codex_bot.panels.plaintext import render_text
from codex_bot.panels.request import PanelRequest, parse_request
from codex_bot.panels.result import PanelResult
from codex_bot.panels.service import Panels
from codex_bot.settings import Settings, load_settings

EXIT_UNAVAILABLE = 1  # Prometheus unreachable, slow or failing
EXIT_BAD_INPUT = 2  # unknown panel, range or filter
EXIT_NO_DATA = 3  # the answer is empty


def register(subparsers: argparse._SubParsersAction) -> None:
    panels = "\n".join(
        f"  {p.name:<15}{', '.join(p.aliases):<44}{' '.join(f'{f}=' for f in p.filters)}" for p in PANELS
    )
    parser = subparsers.add_parser(
        "query",
        help="answer a dashboard panel from Prometheus",
        description="Answer a dashboard panel from Prometheus, as a table or as JSON.",
        epilog=f"panels (name, aliases, filters):\n{panels}\n\nranges: {RANGE_FORMS} (default 24h)\n"
        f"exit status: 0 ok, {EXIT_UNAVAILABLE} Prometheus unavailable, {EXIT_BAD_INPUT} bad input, "
        f"{EXIT_NO_DATA} no data",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("words", nargs="+", metavar="PANEL [RANGE] [key=value ...]")
    parser.add_argument("--at", metavar="TIME", help="answer as of TIME: RFC 3339 or Unix seconds (default: now)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--prometheus", metavar="URL", help="Prometheus URL (default: CODEX_BOT_PROMETHEUS_URL)")
    parser.add_argument("--chart", metavar="FILE.png", type=Path, help="also write the chart as PNG")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    settings = load_settings()
    try:
        request = parse_request(args.words)
        at = parse_instant(args.at) if args.at else None
        result = answer(settings, request, at, args.prometheus)
    except PrometheusUnavailable as exc:
        return _fail(str(exc), EXIT_UNAVAILABLE)
    except UserError as exc:
        return _fail(str(exc), EXIT_BAD_INPUT)
    if args.json:
        print(json.dumps(result.to_json(), indent=2, ensure_ascii=False))
    if not result.has_data:
        return _fail(f"no data for {result.panel} over {result.range.label}: nothing was recorded then.", EXIT_NO_DATA)
    if not args.json:
        print(render_text(result, settings.tz))
    if args.chart:
        try:
            print(
                f"codex-bot: {save_chart(result, ChartRenderer.from_settings(settings), settings.tz, args.chart)}",
                file=sys.stderr,
            )
        except UserError as exc:
            return _fail(str(exc), EXIT_UNAVAILABLE)
    return 0


def answer(settings: Settings, request: PanelRequest, at: datetime | None, url: str | None) -> PanelResult:
    """Run ``request`` against the configured (or given) Prometheus."""
    client = PrometheusClient.from_settings(settings, url=url)
    try:
        return Panels(client, settings.tz, load_prices(settings.prices_file)).run(request, at)
    finally:
        client.close()


def _fail(message: str, code: int) -> int:
    print(f"codex-bot: {message}", file=sys.stderr)
    return code
