"""Alert rules (``rules/*.yaml``) as validated pydantic models.

A rule watches one single-number panel figure (``success.success_rate_pct``) over a rolling
window, optionally per group (``group_by: [model]``), and fires when its condition has held
for ``for``.  See docs/rules.md for the format.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.functional_validators import BeforeValidator

from codex_bot.alerts.conditions import Condition, ConditionError, Op, parse_condition
from codex_bot.alerts.figures import (
    FigureRef,
    check_filters,
    check_group_by,
    parse_figure_ref,
)
from codex_bot.metrics.ranges import looks_like_range, normalize

Severity = Literal["info", "warning", "critical"]

_DURATION = re.compile(r"([0-9]+)\s*([smhdw])")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_ROLLING = re.compile(r"[0-9]+[mhdw]")
_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")


def parse_duration(value: Any) -> timedelta:
    """``0``, ``90s``, ``10m``, ``4h``, ``1d``, ``2w`` → timedelta."""
    if isinstance(value, timedelta):
        return value
    text = str(value).strip().lower()
    if text == "0":
        return timedelta(0)
    found = _DURATION.fullmatch(text)
    if not found:
        raise ValueError(f"{value!r} is not a duration; write e.g. 90s, 10m, 4h, 1d or 0")
    return timedelta(seconds=int(found.group(1)) * _SECONDS[found.group(2)])


def _condition(value: Any) -> Condition:
    if isinstance(value, Condition):
        return value
    try:
        return parse_condition(value)
    except ConditionError as exc:
        raise ValueError(str(exc)) from None


def _figure(value: Any) -> FigureRef:
    return value if isinstance(value, FigureRef) else parse_figure_ref(str(value))


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
ConditionField = Annotated[Condition, BeforeValidator(_condition)]
FigureField = Annotated[FigureRef, BeforeValidator(_figure)]


class MinVolume(BaseModel):
    """The rule only counts when ``figure`` (same window and group) is at least ``at_least``.

    ``filters`` default to the rule's; give others (``{}`` for none) when the volume figure's
    panel does not take the rule's filters.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
    figure: FigureField
    at_least: float = Field(gt=0)
    filters: dict[str, str] | None = None


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, arbitrary_types_allowed=True)

    name: str
    description: str = ""
    figure: FigureField
    filters: dict[str, str] = Field(default_factory=dict)
    group_by: tuple[str, ...] = ()
    max_groups: int = Field(20, ge=1, le=500)
    window: str = "15m"
    condition: ConditionField
    resolve: ConditionField | None = None
    for_: Duration = Field(timedelta(minutes=5), alias="for")
    min_volume: MinVolume | None = None
    severity: Severity = "warning"
    channel: str | None = None
    repeat: Duration = timedelta(hours=4)
    runbook: str | None = None

    @field_validator("name")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not _NAME.fullmatch(value):
            raise ValueError("a rule name is lower-case letters, digits, '-', '_' or '.', e.g. success-rate-drop")
        return value

    @field_validator("window")
    @classmethod
    def _rolling_window(cls, value: str) -> str:
        text = normalize(str(value))
        if not (_ROLLING.fullmatch(text) and looks_like_range(text)):
            raise ValueError(f"{value!r} is not a rolling window; write e.g. 15m, 1h or 24h")
        return text

    @field_validator("runbook")
    @classmethod
    def _link(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"https?://\S+$", value):
            raise ValueError("the runbook must be an http(s) link")
        return value

    @field_validator("channel")
    @classmethod
    def _channel(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("the channel must not be empty")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Rule:
        check_filters(self.figure.panel, self.filters)
        check_group_by(self.figure.panel, self.group_by, self.filters)
        if self.min_volume is not None:
            check_filters(self.min_volume.figure.panel, self.volume_filters)
            check_group_by(self.min_volume.figure.panel, self.group_by, self.volume_filters)
        if self.resolve is not None:
            _check_hysteresis(self.condition, self.resolve)
        return self

    @property
    def volume_filters(self) -> dict[str, str]:
        given = self.min_volume.filters if self.min_volume else None
        return self.filters if given is None else given

    @property
    def resolve_condition(self) -> Condition:
        """The condition that ends a firing alert (by default: the condition no longer holds)."""
        if self.resolve is not None:
            return self.resolve
        flipped: Op = "above" if self.condition.op == "below" else "below"
        return Condition(flipped, self.condition.amount, self.condition.baseline, f"not {self.condition.text}")


def _check_hysteresis(condition: Condition, resolve: Condition) -> None:
    if resolve.op == condition.op:
        raise ValueError(
            f"resolve {resolve.text!r} must look the other way than condition {condition.text!r} "
            f"(use '{'above' if condition.op == 'below' else 'below'} ...')"
        )
    if condition.baseline != resolve.baseline and (condition.relative or resolve.relative):
        raise ValueError("resolve must use the same baseline as the condition (or both be absolute)")
    wrong_side = resolve.amount < condition.amount if condition.op == "below" else resolve.amount > condition.amount
    if wrong_side:
        raise ValueError(
            f"resolve {resolve.text!r} would end the alert while {condition.text!r} still holds; "
            "the resolve threshold must be on the healthy side of the firing threshold"
        )
