"""Loading ``rules/*.yaml``: every problem as ``file:line: reason``; a bad file never half-loads.

A rules file holds a ``rules:`` list and/or a ``routing:`` section (at most one file may have
routing).  Line numbers come from the YAML node marks, so a pydantic error on
``rules[2].condition`` points at the line where that condition is written.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from codex_bot.alerts.messages import cut_texts
from codex_bot.alerts.routing import Routing
from codex_bot.alerts.rules import Rule
from codex_bot.yamlfile import Lines, Problem, compose, explain, unknown_keys

TOP_KEYS = ("rules", "routing")


@dataclass
class RuleSet:
    """The rules and routing that loaded, and the problems of the files that did not."""

    rules: list[Rule] = field(default_factory=list)
    routing: Routing = field(default_factory=Routing)
    problems: list[Problem] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)  # the rules load, but e.g. a text will be cut in Slack

    def rule(self, name: str) -> Rule | None:
        return next((r for r in self.rules if r.name == name), None)


@dataclass
class _Parsed:
    rules: list[Rule] = field(default_factory=list)
    routing: Routing | None = None
    routing_line: int = 0
    lines: dict[str, int] = field(default_factory=dict)  # rule name → line of its entry
    warnings: list[Problem] = field(default_factory=list)


def rule_files(rules_dir: Path, exclude: Iterable[Path] = ()) -> list[Path]:
    """``*.yaml`` and ``*.yml`` in ``rules_dir``, sorted, without the ``exclude``d files (digests)."""
    skip = {p.resolve() for p in exclude}
    found = [*rules_dir.glob("*.yaml"), *rules_dir.glob("*.yml")]
    return sorted(p for p in found if p.resolve() not in skip)


def load_rules(rules_dir: Path, exclude: Iterable[Path] = ()) -> RuleSet:
    """Every rule of every good file in ``rules_dir``; each bad file contributes only problems."""
    result = RuleSet()
    if not rules_dir.is_dir():
        result.problems.append(Problem(rules_dir, 0, "no such rules directory"))
        return result
    routing_from: Problem | None = None
    where: dict[str, Problem] = {}
    for file in rule_files(rules_dir, exclude):
        parsed, problems = load_file(file)
        result.files.append(file)
        problems += _duplicates(file, parsed, result.rules)
        if parsed.routing is not None and routing_from is not None:
            problems.append(Problem(file, parsed.routing_line, f"routing is already defined in {routing_from}"))
        if problems:
            result.problems += problems
            continue
        result.rules += parsed.rules
        result.warnings += parsed.warnings
        where.update({name: Problem(file, line, "") for name, line in parsed.lines.items()})
        if parsed.routing is not None:
            result.routing = parsed.routing
            routing_from = Problem(file, parsed.routing_line, "")
    for rule in result.routing.unrouted(result.rules):
        place = where[rule.name]
        result.problems.append(
            Problem(
                place.file,
                place.line,
                f"rule {rule.name!r} has no channel: give it 'channel:' or set routing.default in one rules file",
            )
        )
    return result


def _duplicates(file: Path, parsed: _Parsed, earlier: list[Rule]) -> list[Problem]:
    names = {r.name for r in earlier}
    problems, seen = [], set()
    for rule in parsed.rules:
        if rule.name in names or rule.name in seen:
            problems.append(Problem(file, 1, f"rule {rule.name!r} is defined more than once"))
        seen.add(rule.name)
    return problems


def load_file(file: Path) -> tuple[_Parsed, list[Problem]]:
    """One file's rules and routing, or the problems that keep it from loading."""
    parsed = _Parsed()
    node, problems = compose(file)
    if node is None:
        return parsed, problems
    lines = Lines(file)
    data = lines.data(node)
    if not isinstance(data, dict):
        return parsed, [Problem(file, 1, "a rules file is a mapping with 'rules:' and/or 'routing:'")]
    problems = list(lines.problems)
    problems += unknown_keys(data, lines, TOP_KEYS)
    problems += _rules(data.get("rules", []), lines, parsed)
    if "routing" in data:
        parsed.routing_line = lines.line(("routing",))
        problems += _routing(data["routing"], lines, parsed)
    return parsed, problems


def _rules(items: Any, lines: Lines, parsed: _Parsed) -> list[Problem]:
    if not isinstance(items, list):
        return [Problem(lines.file, lines.line(("rules",)), "'rules' must be a list of rules")]
    problems = []
    for index, item in enumerate(items):
        try:
            rule = Rule.model_validate(item)
        except ValidationError as exc:
            problems += explain(exc, lines, ("rules", index))
            continue
        parsed.rules.append(rule)
        parsed.lines[rule.name] = lines.line(("rules", index))
        parsed.warnings += [
            Problem(lines.file, lines.line(("rules", index, key)), f"{key}: {why}")
            for key, why in cut_texts(rule).items()
        ]
    return problems


def _routing(section: Any, lines: Lines, parsed: _Parsed) -> list[Problem]:
    try:
        parsed.routing = Routing.model_validate(section)
    except ValidationError as exc:
        return explain(exc, lines, ("routing",))
    return []
