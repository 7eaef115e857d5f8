"""``codex-bot deliveries [list|retry]``: the alerts and digests Slack refused for good, and sending them again."""

from __future__ import annotations

import argparse

from codex_bot.bot import build_outbox
from codex_bot.commands.deliveries_commands import kept_failures, retry
from codex_bot.settings import load_settings
from codex_bot.slack.client import SlackSetupError, build_web_client
from codex_bot.slack.slack_transport import SlackTransport
from codex_bot.store import Store


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "deliveries",
        help="list, or send again, the messages Slack refused for good",
        description="Alerts and scheduled digests that Slack refused for good (not_in_channel, is_archived, a "
        "revoked token, ...) are kept in the state database (CODEX_BOT_STATE_DB). `list` shows them by channel "
        "and reason; `retry` sends them again, in order, once the cause is fixed (needs SLACK_BOT_TOKEN).",
    )
    parser.add_argument("action", nargs="?", choices=("list", "retry"), default="list")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    settings = load_settings()
    store = Store.open(settings.state_target)
    try:
        outbox = build_outbox(settings, store)
        if args.action == "list":
            print(kept_failures(outbox))
            return 0
        try:
            transport = SlackTransport(build_web_client(settings))
        except SlackSetupError as exc:
            print(f"codex-bot deliveries: {exc}")
            return 2
        print(retry(outbox, transport))
        return 1 if outbox.failed() else 0
    finally:
        store.close()
