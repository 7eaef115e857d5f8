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

import yaml
from pydantic import ValidationError

from codex_bot.alerts.messages import cut_texts
from codex_bot.alerts.routing import Routing
from codex_bot.alerts.rules import Rule

Path_ = tuple[Any, ...]
TOP_KEYS = ("rules", "routing")


@dataclass(frozen=True)
class Problem:
    file: Path
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}"


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


class _Lines:
    """Plain data from a YAML node tree, remembering the line of every path."""

    def __init__(self, file: Path) -> None:
        self.file = file
        self.lines: dict[Path_, int] = {}
        self.problems: list[Problem] = []
        self._scalars = yaml.SafeLoader("")

    def data(self, node: yaml.Node, path: Path_ = ()) -> Any:
        self.lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            result: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                key = self.data(key_node, path + ("<key>",))
                if not isinstance(key, (str, int, float, bool)) or key is None:
                    self._problem(key_node, "a key must be plain text")
                    continue
                if key in result:
                    self._problem(key_node, f"duplicate key {key!r}")
                self.lines[path + (key,)] = key_node.start_mark.line + 1
                result[key] = self.data(value_node, path + (key,))
            return result
        if isinstance(node, yaml.SequenceNode):
            return [self.data(item, path + (i,)) for i, item in enumerate(node.value)]
        return self._scalars.construct_object(node)

    def line(self, path: Iterable[Any]) -> int:
        path = tuple(path)
        while path and path not in self.lines:
            path = path[:-1]
        return self.lines.get(path, 1)

    def _problem(self, node: yaml.Node, reason: str) -> None:
        self.problems.append(Problem(self.file, node.start_mark.line + 1, reason))


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
        result.problems.append(Problem(place.file, place.line, f"rule {rule.name!r} has no channel: give it "
                                       "'channel:' or set routing.default in one rules file"))
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
    try:
        node = yaml.compose(file.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        return parsed, [Problem(file, mark.line + 1 if mark else 1, f"not valid YAML: {exc.problem or exc}")]
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        return parsed, [Problem(file, 1, f"cannot read: {exc}")]
    if node is None:
        return parsed, []
    lines = _Lines(file)
    data = lines.data(node)
    if not isinstance(data, dict):
        return parsed, [Problem(file, 1, "a rules file is a mapping with 'rules:' and/or 'routing:'")]
    problems = list(lines.problems)
    for key in data:
        if key not in TOP_KEYS:
            problems.append(Problem(file, lines.line((key,)), f"unknown key {key!r} (expected {', '.join(TOP_KEYS)})"))
    problems += _rules(data.get("rules", []), lines, parsed)
    if "routing" in data:
        parsed.routing_line = lines.line(("routing",))
        problems += _routing(data["routing"], lines, parsed)
    return parsed, problems


def _rules(items: Any, lines: _Lines, parsed: _Parsed) -> list[Problem]:
    if not isinstance(items, list):
        return [Problem(lines.file, lines.line(("rules",)), "'rules' must be a list of rules")]
    problems = []
    for index, item in enumerate(items):
        try:
            rule = Rule.model_validate(item)
        except ValidationError as exc:
            problems += _explain(exc, lines, ("rules", index))
            continue
        parsed.rules.append(rule)
        parsed.lines[rule.name] = lines.line(("rules", index))
        parsed.warnings += [Problem(lines.file, lines.line(("rules", index, key)), f"{key}: {why}")
                            for key, why in cut_texts(rule).items()]
    return problems


def _routing(section: Any, lines: _Lines, parsed: _Parsed) -> list[Problem]:
    try:
        parsed.routing = Routing.model_validate(section)
    except ValidationError as exc:
        return _explain(exc, lines, ("routing",))
    return []


def _explain(exc: ValidationError, lines: _Lines, prefix: Path_) -> list[Problem]:
    problems = []
    for error in exc.errors():
        loc = tuple(part for part in error["loc"] if not (isinstance(part, str) and part.startswith("function-")))
        loc = tuple("for" if part == "for_" else part for part in loc)
        where = ".".join(str(p) for p in loc)
        message = str(error["msg"]).removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = f"unknown key {loc[-1]!r}"
        elif error["type"] == "missing":
            message = f"missing {loc[-1]!r}"
        problems.append(Problem(lines.file, lines.line(prefix + loc), f"{where}: {message}" if where else message))
    return problems
