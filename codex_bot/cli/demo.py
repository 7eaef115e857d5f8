"""``codex-bot demo [--out DIR] [--developers N] [--days D] [--seed S] [--keep]``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from codex_bot.charts.local_renderer import RendererStartError
from codex_bot.delivery.console import ConsoleTransport
from codex_bot.delivery.transport import Transport
from codex_bot.demo.channel import OneChannel
from codex_bot.demo.prometheus import PrometheusStartError
from codex_bot.demo.script import DemoOptions, run
from codex_bot.processes import exit_on_sigterm
from codex_bot.settings import Settings, load_settings
from codex_bot.slack.client import SlackSetupError, build_web_client
from codex_bot.slack.slack_transport import SlackTransport

CHANNEL_VARIABLE = "CODEX_BOT_DEMO_CHANNEL"
MIN_DAYS = 7  # the demo shows 7-day panels
DEFAULTS = DemoOptions()
Number = TypeVar("Number", int, float)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="simulate a Codex fleet and watch the bot answer commands, fire an alert and post a digest",
        description=(
            "Simulate a team's Codex telemetry over the last days (with a few planted incidents), backfill it into "
            "a Prometheus started for the purpose, start the bundled chart renderer, then run slash commands, "
            "replay the alert rules of rules/ through an incident until an alert fires and resolves, and post the "
            "daily digest, all through the bot's real code. Messages are printed and chart PNGs written to --out; "
            "everything it started is stopped at the end, also on Ctrl-C or SIGTERM."
        ),
        epilog=(
            f"Slack: with SLACK_BOT_TOKEN and {CHANNEL_VARIABLE} set (the id of a channel the bot is in, e.g. "
            "C0123ABCD), the same messages are posted to that channel in real Slack instead of printed."
        ),
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULTS.out,
        metavar="DIR",
        help=f"folder for the chart PNGs (default {DEFAULTS.out}/)",
    )
    parser.add_argument(
        "--developers",
        type=_at_least(int, 1),
        default=DEFAULTS.developers,
        metavar="N",
        help=f"developers in the simulated team (default {DEFAULTS.developers})",
    )
    parser.add_argument(
        "--days",
        type=_at_least(float, MIN_DAYS),
        default=DEFAULTS.days,
        metavar="D",
        help=f"days of history, at least {MIN_DAYS} (default {DEFAULTS.days:g})",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=DEFAULTS.seed,
        metavar="S",
        help="random seed of the simulation (default: a fixed one, so runs are alike)",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the working folder (OTLP files, TSDB, state database) and print where it is",
    )
    parser.set_defaults(handler=handle)


def _at_least(kind: Callable[[str], Number], minimum: float) -> Callable[[str], Number]:
    """An argparse type: ``kind(text)``, refused below ``minimum``."""

    def parse(text: str) -> Number:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum:g}, not {text}")
        return value

    return parse


def handle(args: argparse.Namespace) -> int:
    exit_on_sigterm()
    settings = load_settings()
    channel = settings.demo_channel.strip() or None
    options = DemoOptions(
        args.out,
        args.developers,
        args.days,
        args.seed,
        keep=args.keep,
        slack_channel=channel if settings.slack_bot_token and channel else None,
    )
    try:
        run(options, settings, transport(options, settings))
    except (PrometheusStartError, RendererStartError, SlackSetupError) as exc:
        print(f"codex-bot demo: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ncodex-bot demo: interrupted; what it started is stopped.", file=sys.stderr)
        return 130
    return 0


def transport(options: DemoOptions, settings: Settings) -> Transport:
    """Slack when a token and a demo channel are set, else the console (charts to ``options.out``)."""
    if options.slack_channel:
        return OneChannel(SlackTransport(build_web_client(settings)), options.slack_channel)
    if settings.slack_bot_token:
        print(
            f"codex-bot demo: SLACK_BOT_TOKEN is set but {CHANNEL_VARIABLE} is not: printing instead of posting.",
            file=sys.stderr,
        )
    return ConsoleTransport(options.out)
