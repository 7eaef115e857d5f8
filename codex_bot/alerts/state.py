"""The per rule+group state machine, as a pure function of the previous state and an observation.

::

    inactive ──condition holds──► pending ──held for `for`──► firing ──resolve holds──► inactive
        ▲                            │                          │
        └──condition stops holding───┘                          └──no data──► nodata (resolved)

``nodata``: the figure (or a relative condition's baseline) has no value; a firing alert that
loses its data resolves.  ``error``: Prometheus could not answer; the previous state is kept
underneath (a firing alert stays open, nothing new fires), so an outage never fires or resolves
anything.  A volume below the rule's minimum counts as "not holding" (and resolves).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Literal

StateName = Literal["inactive", "pending", "firing", "nodata", "error"]
ObservationKind = Literal["ok", "low_volume", "nodata", "error"]


def group_key(labels: Mapping[str, str]) -> str:
    """The canonical text of a group's labels ("{}" for a rule without group_by)."""
    return json.dumps(dict(sorted(labels.items())), separators=(",", ":"))


@dataclass(frozen=True)
class Observation:
    """What one evaluation saw for one rule and group."""

    kind: ObservationKind
    value: float | None = None
    threshold: float | None = None
    holds: bool = False  # the condition holds
    resolved: bool = True  # the resolve condition holds (the alert may end)
    held_since: datetime | None = None  # start of the run of instants where the condition held
    reason: str = ""  # for nodata/low_volume/error: why, in words


@dataclass(frozen=True)
class AlertState:
    rule: str
    labels: Mapping[str, str]
    state: StateName
    evaluated_at: datetime
    value: float | None = None
    threshold: float | None = None
    active_since: datetime | None = None  # pending/firing: when the condition started to hold
    fired_at: datetime | None = None  # set while a firing episode is open (kept through errors)
    reason: str = ""
    key: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", group_key(self.labels))

    @property
    def firing(self) -> bool:
        """A firing episode is open (also while evaluation is failing)."""
        return self.fired_at is not None

    def to_json(self) -> dict[str, object]:
        return {
            "rule": self.rule,
            "labels": dict(self.labels),
            "state": self.state,
            "value": self.value,
            "threshold": self.threshold,
        }


def step(
    prev: AlertState | None, seen: Observation, rule: str, labels: Mapping[str, str], at: datetime, hold_for: timedelta
) -> AlertState:
    """The state after ``seen`` at ``at``, given the previous state (None: never evaluated)."""
    base = AlertState(rule, dict(labels), "inactive", at, seen.value, seen.threshold, reason=seen.reason)
    if seen.kind == "error":
        kept = prev.fired_at if prev else None
        return replace(base, state="error", active_since=prev.active_since if prev else None, fired_at=kept)
    if prev is not None and prev.firing:
        if seen.kind == "nodata":
            return replace(base, state="nodata")
        if seen.resolved:
            return base
        return replace(base, state="firing", active_since=prev.active_since, fired_at=prev.fired_at)
    if seen.kind == "nodata":
        return replace(base, state="nodata")
    if not seen.holds:
        return base
    since = seen.held_since or at
    if at - since >= hold_for:
        return replace(base, state="firing", active_since=since, fired_at=at)
    return replace(base, state="pending", active_since=since)
