"""`codex-bot` command line: one sub-command per module, each with ``register(subparsers)``."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from codex_bot import __version__
from codex_bot.errors import UserError
from codex_bot.settings import SettingsError

# Each module defines register(subparsers) and sets a ``handler(args) -> int`` default.
COMMAND_MODULES: tuple[str, ...] = (
    "codex_bot.telemetry.ingest_cli",
    "codex_bot.telemetry.backfill_cli",
    "codex_bot.telemetry.simulate_cli",
    "codex_bot.panels.query_cli",
    "codex_bot.alerts.rules_cli",
    "codex_bot.slack.serve_cli",
    "codex_bot.digests.digest_cli",
    "codex_bot.state_cli",
    "codex_bot.demo.demo_cli",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="codex-bot", description="OpenAI Codex telemetry in Slack.")
    parser.add_argument("--version", action="version", version=f"codex-bot {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except (SettingsError, UserError) as exc:
        print(f"codex-bot: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
