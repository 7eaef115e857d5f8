"""YAML files whose problems point at lines: ``file:line: reason``, for rules and digest definitions alike.

:func:`compose` reads and parses a file (a bad one gives a :class:`Problem`, never an exception);
:class:`Lines` turns its node tree into plain data while remembering the line of every path, so
:func:`explain` can put each pydantic error of ``rules[2].condition`` on the line it is written on.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

YamlPath = tuple[Any, ...]


@dataclass(frozen=True)
class Problem:
    file: Path
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}"


def compose(file: Path) -> tuple[yaml.Node | None, list[Problem]]:
    """The node tree of ``file`` (None when it is empty), or the problem that keeps it from parsing."""
    try:
        return yaml.compose(file.read_text(encoding="utf-8"), Loader=yaml.SafeLoader), []
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        return None, [Problem(file, mark.line + 1 if mark else 1, f"not valid YAML: {exc.problem or exc}")]
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        return None, [Problem(file, 1, f"cannot read: {exc}")]


class Lines:
    """Plain data from a YAML node tree, remembering the line of every path."""

    def __init__(self, file: Path) -> None:
        self.file = file
        self.lines: dict[YamlPath, int] = {}
        self.problems: list[Problem] = []
        self._scalars = yaml.SafeLoader("")

    def data(self, node: yaml.Node, path: YamlPath = ()) -> Any:
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


def unknown_keys(data: dict[Any, Any], lines: Lines, allowed: tuple[str, ...]) -> list[Problem]:
    """A problem for each top-level key of ``data`` that is not one of ``allowed``."""
    return [
        Problem(lines.file, lines.line((key,)), f"unknown key {key!r} (expected {', '.join(allowed)})")
        for key in data
        if key not in allowed
    ]


def explain(exc: ValidationError, lines: Lines, prefix: YamlPath) -> list[Problem]:
    """Each error of ``exc`` (validating the data at ``prefix``) as a problem on its own line."""
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
