"""`codex-bot` command line: one sub-command per module, each with ``register(subparsers)``."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from codex_bot import __version__
from codex_bot.errors import UserError
from codex_bot.log_config import LogFormat, logging_configured
from codex_bot.settings import SettingsError, load_settings

# Each module defines register(subparsers) and sets a ``handler(args) -> int`` default.
COMMAND_MODULES: tuple[str, ...] = (
    "codex_bot.cli.ingest",
    "codex_bot.cli.backfill",
    "codex_bot.cli.simulate",
    "codex_bot.cli.query",
    "codex_bot.cli.rules",
    "codex_bot.cli.serve",
    "codex_bot.cli.deliveries",
    "codex_bot.cli.digest",
    "codex_bot.cli.state",
    "codex_bot.cli.demo",
)
# Without CODEX_BOT_LOG_LEVEL: (codex-bot's level, the libraries' level) per sub-command.  The long-running ones log
# what they do; the one-shot ones only codex-bot's warnings and the libraries' errors.
DEFAULT_LOG_LEVELS = {"serve": ("INFO", "INFO"), "ingest": ("INFO", "INFO")}
ONE_SHOT_LOG_LEVELS = ("WARNING", "ERROR")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="codex-bot", description="OpenAI Codex telemetry in Slack.")
    parser.add_argument("--version", action="version", version=f"codex-bot {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    with logging_configured(*_logging_settings(args.command)):
        try:
            return int(args.handler(args) or 0)
        except (SettingsError, UserError) as exc:
            print(f"codex-bot: {exc}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            return 130


def _logging_settings(command: str) -> tuple[str, LogFormat, str]:
    """Our level, the format and the libraries' level: ``CODEX_BOT_LOG_LEVEL`` (else the sub-command's defaults)
    and ``CODEX_BOT_LOG_FORMAT``."""
    ours, libraries = DEFAULT_LOG_LEVELS.get(command, ONE_SHOT_LOG_LEVELS)
    try:
        settings = load_settings()
    except SettingsError:  # the sub-command itself reports the bad setting (some take an override first)
        return ours, "text", libraries
    if settings.log_level:
        return settings.log_level, settings.log_format, settings.log_level
    return ours, settings.log_format, libraries


if __name__ == "__main__":
    sys.exit(main())
