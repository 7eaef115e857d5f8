"""``codex-bot digest [NAME] --preview [--json] [--out DIR] [--at TIME] [--range RANGE]``: render without posting."""

from __future__ import annotations

import argparse
import io
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from codex_bot.access import AccessPolicy
from codex_bot.bot import build_panels, digest_service
from codex_bot.charts.renderer import ChartRenderer
from codex_bot.dashboard import dashboard_link
from codex_bot.delivery.console import ConsoleTransport
from codex_bot.delivery.message import Destination
from codex_bot.digests.definitions import DigestDefinition
from codex_bot.digests.layout import DigestMessages
from codex_bot.digests.service import load_definitions
from codex_bot.errors import PrometheusUnavailable, UserError
from codex_bot.metrics.ranges import RANGE_FORMS, parse_instant
from codex_bot.settings import Settings, load_settings
from codex_bot.store import Store

EXIT_UNAVAILABLE = 1  # Prometheus unreachable, slow or failing
EXIT_BAD_INPUT = 2  # unknown digest, bad definitions file, bad time or range
DEFAULT_OUT = Path("digest-out")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "digest",
        help="preview a scheduled digest (terminal text and chart PNGs), without posting",
        description=(
            "Render the digests defined in CODEX_BOT_DIGESTS_FILE (default rules/digests.yaml) as they would be "
            "posted: the messages as text, the charts as PNG files in --out. Nothing is sent to Slack; "
            "`codex-bot serve` posts them on schedule and `/codex digest` on demand."
        ),
        epilog=f"ranges: {RANGE_FORMS}\nexit status: 0 ok, {EXIT_UNAVAILABLE} Prometheus unavailable, "
        f"{EXIT_BAD_INPUT} bad input",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("name", nargs="?", metavar="NAME", help="the digest to render (default: every digest)")
    parser.add_argument("--preview", action="store_true", required=True, help="render without posting (required)")
    parser.add_argument("--json", action="store_true", help="print the digest's figures and messages as JSON")
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        metavar="DIR",
        help=f"folder for the chart PNGs (default {DEFAULT_OUT}/, one subfolder per digest)",
    )
    parser.add_argument(
        "--at",
        metavar="TIME",
        help="render the digest of the latest slot at or before TIME: RFC 3339 or Unix seconds (default: now)",
    )
    parser.add_argument("--range", metavar="RANGE", help="cover RANGE as of --at instead of the digest's period")
    parser.add_argument("--prometheus", metavar="URL", help="Prometheus URL (default: CODEX_BOT_PROMETHEUS_URL)")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    settings = load_settings()
    try:
        at = parse_instant(args.at) if args.at else datetime.now(UTC)
        definitions = load_definitions(settings)
        chosen = [definitions.find(args.name)] if args.name else definitions.digests
        if not chosen:
            raise UserError(
                f"No digests are defined in {settings.digests_file}; see the Digests part of docs/rules.md."
            )
        rendered = render_all(settings, chosen, at, args.range, args.prometheus, args.out, args.json)
    except PrometheusUnavailable as exc:
        return _fail(str(exc), EXIT_UNAVAILABLE)
    except UserError as exc:
        return _fail(str(exc), EXIT_BAD_INPUT)
    if args.json:
        print(json.dumps(rendered, indent=2, ensure_ascii=False))
    return 0


def render_all(
    settings: Settings,
    chosen: list[DigestDefinition],
    at: datetime,
    range_text: str | None,
    url: str | None,
    out: Path,
    as_json: bool,
) -> list[dict[str, Any]]:
    """Render each digest; print it (unless JSON is wanted) and write its charts under ``out``."""
    # alert history, if any (a preview never creates a SQLite state file)
    store = Store.open(settings.state_target) if settings.database_url or settings.state_db.exists() else None
    digests = digest_service(
        build_panels(settings, url),
        ChartRenderer.from_settings(settings),
        AccessPolicy.from_settings(settings),
        store,
        dashboard_link(settings.dashboard_url_template),
    )
    try:
        rendered = []
        for definition in chosen:
            digest, messages = digests.render(definition, at, range_text)
            screen = io.StringIO() if as_json else sys.stdout
            files = preview(messages, definition.channel, out / definition.name, screen)
            rendered.append(
                {**digest.to_json(), "chart_files": files, "messages": [m.blocks_json() for m in messages.all()]}
            )
        return rendered
    finally:
        digests.close()
        if store is not None:
            store.close()


def preview(messages: DigestMessages, channel: str, chart_dir: Path, out: TextIO) -> list[str]:
    """Print the main post and its thread as the console transport shows them; returns the chart files."""
    console = ConsoleTransport(chart_dir, out=out)
    main = console.send(messages.main, Destination(channel))
    files = list(main.files)
    for reply in messages.thread:
        files += console.send(reply, Destination(channel, thread_ts=main.ts)).files
    return files


def _fail(message: str, code: int) -> int:
    print(f"codex-bot: {message}", file=sys.stderr)
    return code
