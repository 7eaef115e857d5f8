#!/usr/bin/env python3
"""List codex_bot's imports that break the layer rule: a module importing from a layer above its own.

Layers, lowest first (dependencies flow up: telemetry → simulate → metrics → panels → charts → delivery →
budgets → alerts → digests → commands → app → entry points).  Command-line modules (``*_cli``) count as entry points wherever they live.
Usage: ``python scripts/import_layers.py [--fail]`` (``--fail``: exit 1 when any import breaks the rule).
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "codex_bot"

# (layer, module prefixes); the longest matching prefix wins.  A feature takes from the features before it:
# the alert cycle checks the budgets after each run, digests read alert history, /codex commands run alerts' and
# digests' actions.  Slack's message building blocks (mrkdwn, blocks, pickers, views, failure notices) sit in delivery.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    (
        "base",
        (
            "codex_bot.errors",
            "codex_bot.settings",
            "codex_bot.clock",
            "codex_bot.processes",
            "codex_bot.log_config",
            "codex_bot.formatting",
            "codex_bot.change",
            "codex_bot.store",
            "codex_bot.yamlfile",
            "codex_bot.dashboard",
            "codex_bot",
        ),
    ),
    ("telemetry", ("codex_bot.telemetry",)),
    ("simulate", ("codex_bot.simulate",)),
    ("metrics", ("codex_bot.metrics",)),
    ("panels", ("codex_bot.panels", "codex_bot.access", "codex_bot.identity")),
    ("charts", ("codex_bot.charts",)),
    (
        "delivery",
        (
            "codex_bot.delivery",
            "codex_bot.delivery.outbox",
            "codex_bot.delivery.message",
            "codex_bot.delivery.transport",
            "codex_bot.delivery.console",
            "codex_bot.slack.slack_transport",
            "codex_bot.slack.client",
            "codex_bot.slack.slack_errors",
            "codex_bot.slack.blocks",
            "codex_bot.slack.replies",
            "codex_bot.slack.mrkdwn",
            "codex_bot.slack.delivery_failures",
            "codex_bot.slack.pickers",
            "codex_bot.slack.home_view",
            "codex_bot.slack.personal_blocks",
            "codex_bot.slack.surfaces",
            "codex_bot.slack.people",
        ),
    ),
    ("budgets", ("codex_bot.budgets",)),
    ("alerts", ("codex_bot.alerts",)),
    ("digests", ("codex_bot.digests",)),
    ("commands", ("codex_bot.commands",)),
    ("app", ("codex_bot.slack", "codex_bot.bot")),
    ("entry", ("codex_bot.cli", "codex_bot.demo", "codex_bot.settings_doc", "codex_bot.__main__")),
]
RANK = {name: rank for rank, (name, _) in enumerate(LAYERS)}


def layer(module: str) -> str:
    if module.rsplit(".", 1)[-1].endswith("_cli"):
        return "entry"
    best, length = "base", -1
    for name, prefixes in LAYERS:
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > length:
                best, length = name, len(prefix)
    return best


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imports(path: Path, known: dict[str, Path]) -> set[str]:
    """The codex_bot modules ``path`` imports (``from pkg import module`` counts the module)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("codex_bot"))
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("codex_bot"):
            for alias in node.names:
                child = f"{node.module}.{alias.name}"
                found.add(child if child in known else node.module)
    return found


def violations() -> list[tuple[str, str, str]]:
    """(importer, imported, why) for every import that breaks the rule."""
    known = modules()
    broken = []
    for module, path in known.items():
        for target in sorted(imports(path, known)):
            if target == "codex_bot" or target == module:
                continue
            mine, theirs = layer(module), layer(target)
            if RANK[theirs] > RANK[mine]:
                broken.append((module, target, f"{mine} imports {theirs}"))
    return broken


def misplaced_cli() -> list[str]:
    """Command-line modules living inside a lower package instead of codex_bot/cli/."""
    return [m for m in modules() if m.rsplit(".", 1)[-1].endswith("_cli")]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--fail",
        action="store_true",
        help="exit 1 when an import breaks the layer rule or a *_cli module lives outside codex_bot/cli/",
    )
    args = parser.parse_args()
    broken = violations()
    for importer, imported, why in broken:
        print(f"{importer} → {imported}  ({why})")
    print(f"\n{len(broken)} imports break the layer rule.")
    cli = misplaced_cli()
    if cli:
        print(f"{len(cli)} command-line modules live inside lower packages instead of codex_bot/cli/: {', '.join(cli)}")
    return 1 if args.fail and (broken or cli) else 0


if __name__ == "__main__":
    sys.exit(main())
