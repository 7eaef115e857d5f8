"""``codex-bot rules check`` and ``codex-bot rules eval [--at TIME] [--json]``."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from codex_bot.access import AccessPolicy
from codex_bot.alerts.evaluate import Evaluation, evaluate
from codex_bot.alerts.loader import RuleSet, load_rules
from codex_bot.alerts.sampling import Sampler
from codex_bot.bot import routed_channels
from codex_bot.budgets.definitions import load_budgets
from codex_bot.digests.definitions import DigestFile
from codex_bot.digests.service import checked_definitions
from codex_bot.errors import UserError
from codex_bot.formatting import humanize
from codex_bot.metrics.client import PrometheusClient
from codex_bot.metrics.ranges import parse_instant
from codex_bot.panels.cost import load_prices
from codex_bot.settings import Settings, load_settings
from codex_bot.slack.channel_check import check_channels
from codex_bot.slack.client import SlackSetupError, build_web_client

EXIT_PROBLEMS = 1  # a rules file has problems, or a rule could not be evaluated
EXIT_BAD_INPUT = 2


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "rules",
        help="check alert rules, or evaluate them as of a time",
        description="Check the alert rules in rules/*.yaml, or evaluate them (without posting anything).",
    )
    commands = parser.add_subparsers(dest="rules_command", metavar="{check,eval}", required=True)
    check = commands.add_parser(
        "check",
        help="validate every rules file, the digests file and the budgets file",
        description="Validate every rules file, the digests file (CODEX_BOT_DIGESTS_FILE) and the budgets file "
        "(CODEX_BOT_BUDGETS_FILE); prints FILE:LINE: REASON for each problem and exits 1 if any, and "
        "FILE:LINE: warning: REASON for a rule text Slack's limits will cut (the rules still load). With --slack, "
        "also asks Slack (conversations.info, with SLACK_BOT_TOKEN) whether the bot can post to every channel "
        "they route to.",
    )
    _dir_option(check)
    check.add_argument(
        "--slack", action="store_true", help="check every routed channel with Slack and name each bad one and its fix"
    )
    check.set_defaults(handler=handle_check)
    run = commands.add_parser(
        "eval",
        help="every rule's value, threshold and state as of a time",
        description="Evaluate every rule as of --at (default now), taking `for` into account by looking back "
        "over the pending period, so past incidents can be checked. Posts nothing.",
        epilog="states: inactive, pending, firing, nodata, error. Exit status 1 when a rules file has problems "
        "or a rule could not be evaluated.",
    )
    _dir_option(run)
    run.add_argument("--at", metavar="TIME", help="RFC 3339 or Unix seconds (default: now)")
    run.add_argument(
        "--json", action="store_true", help='a JSON list of {"rule", "labels", "state", "value", "threshold"}'
    )
    run.add_argument("--prometheus", metavar="URL", help="Prometheus URL (default: CODEX_BOT_PROMETHEUS_URL)")
    run.set_defaults(handler=handle_eval)


def _dir_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dir", type=Path, metavar="DIR", help="rules folder (default: CODEX_BOT_RULES_DIR)")


def load(settings: Settings, folder: Path | None) -> RuleSet:
    return load_rules(folder or settings.rules_dir, exclude=settings.not_rules)


def handle_check(args: argparse.Namespace) -> int:
    settings = load_settings()
    rules = load(settings, args.dir)
    digests = checked_definitions(settings)
    budgets = load_budgets(settings.budgets_file, settings.timezone)
    problems = [
        *rules.problems,
        *digests.problems,
        *budgets.problems,
        *budgets.access_problems(AccessPolicy.from_settings(settings)),
    ]
    for problem in problems:
        print(problem)
    for warning in rules.warnings:
        print(f"{warning.file}:{warning.line}: warning: {warning.reason}")
    if problems:
        return EXIT_PROBLEMS
    print(f"{len(rules.rules)} rules in {len(rules.files)} files: OK")
    print(f"{len(digests.digests)} digests in {digests.path}: OK")
    print(f"{len(budgets.budgets)} budgets in {budgets.path}: OK")
    return check_slack(settings, rules, digests) if args.slack else 0


def check_slack(settings: Settings, rules: RuleSet, digests: DigestFile) -> int:
    """``--slack``: every routed channel through conversations.info; exit 1 if the bot cannot post to one."""
    try:
        client = build_web_client(settings)
    except SlackSetupError as exc:
        print(f"codex-bot: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    uses = routed_channels(rules, digests, settings)
    problems = check_channels(client, uses)
    for problem in problems:
        print(f"{'ERROR' if problem.blocking else 'note'}: {problem}")
    bad = {p.channel for p in problems if p.blocking}
    unchecked = {p.channel for p in problems} - bad
    print(
        f"{len(uses) - len(bad) - len(unchecked)} of {len(uses)} channels OK in Slack"
        + (f", {len(unchecked)} not checked" if unchecked else "")
    )
    return EXIT_PROBLEMS if bad else 0


def handle_eval(args: argparse.Namespace) -> int:
    settings = load_settings()
    rules = load(settings, args.dir)
    for problem in rules.problems:
        print(problem, file=sys.stderr)
    try:
        at = parse_instant(args.at) if args.at else datetime.now(UTC)
    except UserError as exc:
        print(f"codex-bot: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    client = PrometheusClient.from_settings(settings, url=args.prometheus)
    try:
        sampler = Sampler(client, load_prices(settings.prices_file))
        result = evaluate(rules.rules, at, sampler, interval=timedelta(seconds=settings.alert_interval_seconds))
    finally:
        client.close()
    print(json.dumps(result.to_json(), indent=2) if args.json else table(result, rules, settings))
    reasons = set(result.failures.values())
    if len(reasons) == 1 and len(result.failures) == len(rules.rules):
        print(f"codex-bot: no rule could be evaluated: {reasons.pop()}", file=sys.stderr)
    else:
        for rule, reason in result.failures.items():
            print(f"codex-bot: rule {rule}: {reason}", file=sys.stderr)
    return EXIT_PROBLEMS if rules.problems or result.failures else 0


def table(result: Evaluation, rules: RuleSet, settings: Settings) -> str:
    """One line per rule and group: state, value and threshold in the figure's unit."""
    lines = [f"as of {result.at.astimezone(settings.tz):%Y-%m-%d %H:%M %Z}"]
    rows = [("RULE", "LABELS", "STATE", "VALUE", "THRESHOLD")]
    for state in result.states:
        rule = rules.rule(state.rule)
        unit = rule.figure.unit if rule else ""
        condition = f"{rule.condition.op} {humanize(state.threshold, unit)}" if rule else ""
        labels = ",".join(f"{k}={v}" for k, v in sorted(state.labels.items())) or "-"
        rows.append((state.rule, labels, state.state, humanize(state.value, unit), condition))
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    lines += ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]
    return "\n".join(lines)
