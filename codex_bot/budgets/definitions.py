"""The budgets file (``rules/budgets.yaml``), validated with pydantic; problems as ``file:line: reason``.

A budget caps one measure (``cost`` in USD from the price table, or ``tokens``: input + output) per
calendar month for the whole team, one ``model`` or one ``user``, and is announced in ``channel``
when the month's figure passes each of its ``thresholds`` (percent of ``limit``).  Months follow
the file's ``timezone`` (default: the bot's, as digests do).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from codex_bot.access import AccessPolicy
from codex_bot.yamlfile import Lines, Problem, compose, explain, unknown_keys

Measure = Literal["cost", "tokens"]
FIGURES: dict[str, tuple[str, str, str]] = {  # measure → (panel, figure key, unit)
    "cost": ("cost", "total_usd", "usd"),
    "tokens": ("tokens", "total", "tokens"),
}
DEFAULT_THRESHOLDS = (50.0, 80.0, 100.0)
TOP_KEYS = ("timezone", "budgets")
_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")


class Budget(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    measure: Measure = "cost"
    limit: float = Field(gt=0)  # per calendar month, in USD (cost) or tokens
    thresholds: tuple[float, ...] = DEFAULT_THRESHOLDS  # percent of the limit
    model: str | None = None
    user: str | None = None
    channel: str

    @field_validator("name")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not _NAME.fullmatch(value):
            raise ValueError("a budget name is lower-case letters, digits, '-', '_' or '.', e.g. team-cost")
        return value

    @field_validator("thresholds")
    @classmethod
    def _percentages(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        if not value or any(not 0 < t <= 1000 for t in value):
            raise ValueError(
                "thresholds are percentages of the limit, each above 0 and at most 1000, e.g. [50, 80, 100]"
            )
        if len(set(value)) != len(value):
            raise ValueError("each threshold is given once")
        return tuple(sorted(value))

    @field_validator("channel")
    @classmethod
    def _channel(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the channel must not be empty")
        return value

    @property
    def filters(self) -> dict[str, str]:
        return {key: value for key, value in (("model", self.model), ("user", self.user)) if value is not None}

    @property
    def scope(self) -> str:
        """``team``, ``model=gpt-5-codex`` or ``user=alice@example.com``."""
        return " ".join(f"{k}={v}" for k, v in self.filters.items()) or "team"

    @property
    def figure(self) -> tuple[str, str, str]:
        return FIGURES[self.measure]


@dataclass
class BudgetFile:
    path: Path
    timezone: str = "UTC"
    budgets: list[Budget] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)  # a file with problems has no budgets
    lines: dict[str, int] = field(default_factory=dict)  # budget name → line of its entry

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def access_problems(self, access: AccessPolicy) -> list[Problem]:
        """A user's budget posts per-user figures: its channel must be allowed for personal data."""
        return [
            Problem(
                self.path,
                self.lines.get(b.name, 1),
                f"budget {b.name!r} posts per-user figures to {b.channel}, which is not in "
                "CODEX_BOT_PERSONAL_DATA_CHANNELS",
            )
            for b in self.budgets
            if b.user is not None and not access.channel_allowed(b.channel)
        ]


def load_budgets(path: Path, default_timezone: str = "UTC") -> BudgetFile:
    """The budgets of ``path`` (a missing file has none); a file with any problem loads no budget."""
    found = BudgetFile(path, default_timezone)
    if not path.exists():
        return found
    node, problems = compose(path)
    found.problems += problems
    if node is None:
        return found
    lines = Lines(path)
    data = lines.data(node)
    found.problems += lines.problems
    if not isinstance(data, dict) or not isinstance(data.get("budgets"), list):
        found.problems.append(Problem(path, 1, "a budgets file is a mapping with 'budgets:', a list (and 'timezone:')"))
        return found
    found.problems += unknown_keys(data, lines, TOP_KEYS)
    found.timezone = _timezone(data.get("timezone", default_timezone), lines, found)
    _budgets(data["budgets"], lines, found)
    if found.problems:
        found.budgets = []
    return found


def _timezone(value: Any, lines: Lines, found: BudgetFile) -> str:
    try:
        ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError):
        found.problems.append(
            Problem(
                lines.file,
                lines.line(("timezone",)),
                f"timezone: unknown timezone {value!r} (use an IANA name such as Europe/Berlin)",
            )
        )
        return "UTC"
    return str(value)


def _budgets(items: list[Any], lines: Lines, found: BudgetFile) -> None:
    for index, item in enumerate(items):
        try:
            budget = Budget.model_validate(item)
        except ValidationError as exc:
            found.problems += explain(exc, lines, ("budgets", index))
            continue
        where = lines.line(("budgets", index))
        if budget.name in found.lines:
            found.problems.append(Problem(lines.file, where, f"budget {budget.name!r} is defined more than once"))
        found.budgets.append(budget)
        found.lines[budget.name] = where
