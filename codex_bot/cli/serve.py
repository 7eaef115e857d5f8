"""``codex-bot serve``: run the Slack app in Socket Mode or HTTP mode."""

from __future__ import annotations

import argparse
import logging
import sys

from codex_bot.bot import assemble
from codex_bot.charts.managed import start_renderer
from codex_bot.processes import exit_on_sigterm
from codex_bot.settings import Settings, load_settings
from codex_bot.slack.client import SlackSetupError
from codex_bot.slack.serve import (
    EVENTS_PATH,
    choose_mode,
    make_http_server,
    mode_credential,
    parse_listen,
    socket_mode_handler,
)

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="run the Slack app (/codex slash commands)",
        description=(
            "Run the Slack app. Socket Mode connects out to Slack with SLACK_APP_TOKEN (no public URL needed); "
            f"HTTP mode serves Slack's requests on --listen at {EVENTS_PATH}, verified with SLACK_SIGNING_SECRET. "
            "Both need SLACK_BOT_TOKEN. CODEX_BOT_SLACK_MODE=auto picks Socket Mode when SLACK_APP_TOKEN is set."
        ),
    )
    parser.add_argument("--mode", choices=("auto", "socket", "http"), help="override CODEX_BOT_SLACK_MODE")
    parser.add_argument("--listen", metavar="HOST:PORT", help="HTTP mode address (default CODEX_BOT_SLACK_LISTEN)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    exit_on_sigterm()
    settings = load_settings(**({"slack_mode": args.mode} if args.mode else {}))
    try:
        mode = choose_mode(settings)
        credential = mode_credential(settings, mode)
        host, port = parse_listen(args.listen or settings.slack_listen) if mode == "http" else ("", 0)
    except SlackSetupError as exc:
        print(f"codex-bot serve: {exc}", file=sys.stderr)
        return 2
    settings, renderer = start_renderer(settings)
    try:
        return _serve(settings, mode, credential, host, port)
    finally:
        if renderer is not None:
            renderer.stop()


def _serve(settings: Settings, mode: str, credential: str, host: str, port: int) -> int:
    try:
        bot = assemble(settings, signing_secret=credential if mode == "http" else None)
    except SlackSetupError as exc:
        print(f"codex-bot serve: {exc}", file=sys.stderr)
        return 2
    if mode == "http":
        try:
            server = make_http_server(bot.app, host, port)
        except OSError as exc:
            print(f"codex-bot serve: cannot listen on {host}:{port} ({exc.strerror or exc})", file=sys.stderr)
            return 2
    try:
        bot.check_channels()
    except Exception:
        log.exception("channel check failed")
    bot.start_schedulers()
    try:
        if mode == "socket":
            log.info("connecting to Slack in Socket Mode")
            socket_mode_handler(bot.app, credential).start()
        else:
            log.info("serving Slack requests on http://%s:%d%s", host, server.server_port, EVENTS_PATH)
            try:
                server.serve_forever()
            finally:
                server.server_close()
    finally:
        bot.stop()
    return 0
