"""Digest definitions (``rules/digests.yaml``), validated with pydantic; problems as ``file:line: reason``.

A digest names its channel, a cron schedule in its timezone, the range it covers (default: the
period since the previous slot, so a daily digest covers the last day and a weekly one the last
week, DST included), the panels it shows, the charts it attaches, top-N sizes and filters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.cron import CronTrigger
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from codex_bot.alerts.rules import Duration
from codex_bot.digests.slots import cron_trigger
from codex_bot.errors import UserError
from codex_bot.metrics.ranges import parse_range
from codex_bot.panels.catalog import find_panel
from codex_bot.yamlfile import Lines, Problem, compose, explain

HEADLINE_PANELS = ("tokens", "cached", "cache-rate", "sessions", "success", "p95", "cost")
TOP_PANELS = ("users", "models", "tools")
DEFAULT_PANELS = (*HEADLINE_PANELS, *TOP_PANELS, "decisions")
DEFAULT_CHARTS = ("usage", "p95", "models")  # tokens over time, command P95 over time, model shares
MAX_TOP = 25
_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")


class DigestFileError(UserError):
    """The digests file has problems; ``problems`` lists each as ``file:line: reason``."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class TopSizes(BaseModel):
    """How many rows each top list shows."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    users: int = Field(5, ge=1, le=MAX_TOP)
    models: int = Field(5, ge=1, le=MAX_TOP)
    tools: int = Field(5, ge=1, le=MAX_TOP)


class DigestDefinition(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    channel: str = Field("", description="channel id (C0123) or name (#eng-codex); none with to: each-user")
    to: Literal["channel", "each-user"] = Field(
        "channel", description="each-user: a personal DM to everyone with usage, instead of a channel post"
    )
    schedule: str = Field(description="5-field cron line, e.g. '0 9 * * MON-FRI'")
    timezone: str = "UTC"
    title: str | None = None
    range: str | None = Field(None, description="a range such as 'yesterday' or '7d'; default: since the previous slot")
    panels: tuple[str, ...] = DEFAULT_PANELS
    charts: tuple[str, ...] = DEFAULT_CHARTS
    top: TopSizes = TopSizes()
    filters: dict[str, str] = Field(default_factory=dict)
    alerts: bool = True  # list the alerts that fired in the period
    grace: Duration = Field(timedelta(hours=3), description="post a missed slot on start if at most this late")

    @field_validator("name")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not _NAME.fullmatch(value):
            raise ValueError("a name is lower-case letters, digits, - and _ (up to 64), e.g. daily-eng")
        return value

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str) -> str:
        try:
            cron_trigger(value, ZoneInfo("UTC"))
        except ValueError as exc:
            raise ValueError(f"{value!r} is not a cron line (minute hour day month weekday): {exc}") from None
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown timezone {value!r} (use an IANA name such as Europe/Berlin)") from None
        return value

    @field_validator("panels", "charts", mode="before")
    @classmethod
    def _panel_names(cls, value: Any) -> Any:
        if isinstance(value, str) or not isinstance(value, (list, tuple)):
            raise ValueError("must be a list of panel names, e.g. [tokens, cost]")  # pydantic wants ValueError
        try:
            return tuple(dict.fromkeys(find_panel(str(name)).name for name in value))
        except UserError as exc:
            raise ValueError(str(exc)) from None

    @field_validator("range")
    @classmethod
    def _range(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                parse_range(value, datetime.now(UTC), UTC)
            except UserError as exc:
                raise ValueError(str(exc)) from None
        return value

    @model_validator(mode="before")
    @classmethod
    def _panels_for_filters(cls, data: Any) -> Any:
        """Without explicit ``panels``/``charts``, keep the defaults that take every filter given."""
        if not isinstance(data, dict) or not isinstance(data.get("filters"), dict):
            return data
        keys = set(data["filters"])

        def fits(names: tuple[str, ...]) -> tuple[str, ...]:
            return tuple(n for n in names if keys <= set(find_panel(n).filters))

        defaults = {"panels": fits(DEFAULT_PANELS), "charts": fits(DEFAULT_CHARTS)}
        return {**defaults, **data}

    @model_validator(mode="after")
    def _consistent(self) -> DigestDefinition:
        if self.to == "channel" and not self.channel:
            raise ValueError(
                "a digest needs a channel (an id like C0123 or a name like #eng-codex), "
                "or `to: each-user` for a personal DM to each person"
            )
        if self.to == "each-user" and self.channel:
            raise ValueError("a `to: each-user` digest goes to each person's DM; remove its channel")
        for name in (*self.panels, *self.charts):
            panel = find_panel(name)
            unsupported = sorted(set(self.filters) - set(panel.filters))
            if unsupported:
                raise ValueError(
                    f"the {name} panel takes no {', '.join(k + '=' for k in unsupported)} filter "
                    f"(its filters: {', '.join(f + '=' for f in panel.filters)}); remove it from panels/charts"
                )
        if not self.panels:
            raise ValueError("a digest needs at least one panel")
        return self

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def trigger(self) -> CronTrigger:
        return cron_trigger(self.schedule, self.tz)

    @property
    def heading(self) -> str:
        return self.title or f"Codex digest: {self.name}"


@dataclass
class DigestFile:
    path: Path
    digests: list[DigestDefinition] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)  # a file that did not load has these, and no digests

    def find(self, name: str) -> DigestDefinition:
        """The digest called ``name``; :class:`UserError` listing the known names otherwise."""
        for digest in self.digests:
            if digest.name == name:
                return digest
        known = ", ".join(d.name for d in self.digests) or "none"
        raise UserError(f"There is no digest {name!r} in {self.path}; digests: {known}.")


def load_digests(path: Path, default_timezone: str = "UTC") -> DigestFile:
    """Every digest of ``path`` (a missing file has none); :class:`DigestFileError` when anything is wrong.

    ``default_timezone`` (the bot's) applies to digests that name none.
    """
    if not path.exists():
        return DigestFile(path)
    node, unreadable = compose(path)
    if unreadable:
        raise DigestFileError(unreadable)
    if node is None:
        return DigestFile(path)
    lines = Lines(path)
    data = lines.data(node)
    problems = list(lines.problems)
    items = data.get("digests") if isinstance(data, dict) else None
    if not isinstance(data, dict) or set(data) - {"digests"} or not isinstance(items, list):
        raise DigestFileError(
            [*problems, Problem(path, 1, "a digests file is a mapping with one key, 'digests:', a list")]
        )
    digests: dict[int, DigestDefinition] = {}
    for index, item in enumerate(items):
        if isinstance(item, dict):
            item = {"timezone": default_timezone, **item}
        try:
            digests[index] = DigestDefinition.model_validate(item)
        except ValidationError as exc:
            problems += explain(exc, lines, ("digests", index))
    problems += _duplicates(digests, lines)
    if problems:
        raise DigestFileError(problems)
    return DigestFile(path, list(digests.values()))


def _duplicates(digests: dict[int, DigestDefinition], lines: Lines) -> list[Problem]:
    seen: set[str] = set()
    problems = []
    for index, digest in digests.items():
        if digest.name in seen:
            where = lines.line(("digests", index, "name"))
            problems.append(Problem(lines.file, where, f"digest {digest.name!r} is defined more than once"))
        seen.add(digest.name)
    return problems
