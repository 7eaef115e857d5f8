"""One evaluation cycle: ``evaluate(rules, at, sampler, previous) -> Evaluation`` — pure, no clock, no Slack.

Every rule's figures (value, volume, baselines) are fetched at ``at`` in one concurrent batch
where each unique PromQL runs once.  A group whose condition holds now but whose previous
state is unknown or stale (first run, ``rules eval --at``, the bot was down) is checked over
the preceding pending period on the evaluation grid (``at − k·interval``), so the state at
any past instant is the one a running bot would have reached.
"""

from __future__ import annotations

import logging
import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from codex_bot.alerts.rules import Rule, parse_duration
from codex_bot.alerts.sampling import FigureQuery, Group, Instants, Sampler
from codex_bot.alerts.state import AlertState, Observation, group_key, step
from codex_bot.formatting import humanize
from codex_bot.metrics.ranges import floor_to_grid

log = logging.getLogger(__name__)
Values = dict[datetime, dict[Group, float | None]]
StateKey = tuple[str, str]  # (rule, group key)


@dataclass(frozen=True)
class Transition:
    """A rule+group whose state changed (``prev`` None: first evaluation)."""

    prev: AlertState | None
    state: AlertState

    @property
    def opened(self) -> bool:
        """A firing episode began."""
        return self.state.firing and not (self.prev and self.prev.firing)

    @property
    def closed(self) -> bool:
        """A firing episode ended (resolved, or its data went away)."""
        return bool(self.prev and self.prev.firing) and not self.state.firing


@dataclass
class Evaluation:
    at: datetime
    states: list[AlertState] = field(default_factory=list)
    transitions: list[Transition] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)  # rule → why it could not be evaluated
    queries: int = 0  # unique queries run

    def to_json(self) -> list[dict[str, object]]:
        return [state.to_json() for state in self.states]


@dataclass(frozen=True)
class Plan:
    rule: Rule
    value: FigureQuery
    volume: FigureQuery | None

    @classmethod
    def of(cls, rule: Rule) -> Plan:
        seconds = window_seconds(rule.window)
        filters = tuple(sorted(rule.filters.items()))
        volume_filters = tuple(sorted(rule.volume_filters.items()))
        volume = rule.min_volume and FigureQuery(rule.min_volume.figure, volume_filters, rule.group_by, seconds)
        return cls(rule, FigureQuery(rule.figure, filters, rule.group_by, seconds), volume or None)

    @property
    def offsets(self) -> tuple[timedelta, ...]:
        baselines = {c.baseline for c in (self.rule.condition, self.rule.resolve) if c and c.baseline}
        return tuple(sorted({off for b in baselines for off in b.offsets()}))

    def wanted(self, instants: Instants) -> list[tuple[FigureQuery, Instants]]:
        wanted = [(self.value, instants)] + [(self.value, instants.shifted(off)) for off in self.offsets]
        return wanted + ([(self.volume, instants)] if self.volume else [])


def window_seconds(window: str) -> int:
    """The length of a rolling window such as ``15m``."""
    return int(parse_duration(window).total_seconds())


def evaluate(
    rules: Sequence[Rule],
    at: datetime,
    sampler: Sampler,
    previous: Mapping[StateKey, AlertState] | None = None,
    interval: timedelta = timedelta(minutes=1),
) -> Evaluation:
    """Every rule's state per group as of ``at`` (floored to the minute grid), and what changed."""
    at = floor_to_grid(at)
    previous = previous or {}
    plans = [Plan.of(rule) for rule in rules]
    now = Instants(at)
    sampler.fetch(w for plan in plans for w in plan.wanted(now))
    result = Evaluation(at)
    known = _known_groups(rules, previous)
    observed: list[tuple[Plan, dict[Group, Observation]]] = []
    for plan in plans:
        groups = known.get(plan.rule.name, [])
        try:
            observed.append((plan, _observe_all(plan, sampler, now, groups)))
        except Exception as exc:  # noqa: BLE001 - the rule is in "error"; the others go on
            result.failures[plan.rule.name] = str(exc) or type(exc).__name__
            observed.append((plan, _errors(plan, groups, str(exc))))
    _look_back(observed, sampler, at, interval, previous)
    for plan, observations in observed:
        for group, seen in observations.items():
            labels = dict(zip(plan.rule.group_by, group))
            state = step(_prev(previous, plan.rule.name, labels), seen, plan.rule.name, labels, at, plan.rule.for_)
            result.states.append(state)
            prev = previous.get((plan.rule.name, state.key))
            if (prev.state if prev else "inactive") != state.state or (prev and prev.fired_at != state.fired_at):
                result.transitions.append(Transition(prev, state))
    result.queries = sampler.queries_run
    return result


def _prev(previous: Mapping[StateKey, AlertState], rule: str, labels: Mapping[str, str]) -> AlertState | None:
    return previous.get((rule, group_key(labels)))


def _known_groups(rules: Sequence[Rule], previous: Mapping[StateKey, AlertState]) -> dict[str, list[Group]]:
    """Each rule's groups in the previous states (they stay evaluated until their data is gone)."""
    group_by = {rule.name: rule.group_by for rule in rules}
    known: dict[str, list[Group]] = {}
    for (rule, _), state in previous.items():
        if rule in group_by:
            known.setdefault(rule, []).append(tuple(state.labels.get(label, "") for label in group_by[rule]))
    return known


def _errors(plan: Plan, known: list[Group], reason: str) -> dict[Group, Observation]:
    """Every known group in error (a rule never evaluated: one state for the rule as a whole)."""
    groups = known or [tuple("" for _ in plan.rule.group_by)]
    return {group: Observation("error", reason=reason) for group in groups}


def _observe_all(plan: Plan, sampler: Sampler, instants: Instants, known: list[Group]) -> dict[Group, Observation]:
    """Known groups, then new ones (sorted) up to the rule's ``max_groups``."""
    values = RuleFigures.fetch(plan, sampler, instants)
    fresh = sorted(set(values.value[instants.end]) - set(known))
    groups = known + fresh[: max(0, plan.rule.max_groups - len(known))]
    return {group: values.observe(group, instants.end) for group in groups}


@dataclass
class RuleFigures:
    """A rule's value, volume and baseline values at some instants."""

    plan: Plan
    value: Values
    volume: Values | None
    baselines: dict[timedelta, Values]

    @classmethod
    def fetch(cls, plan: Plan, sampler: Sampler, instants: Instants) -> RuleFigures:
        return cls(
            plan,
            sampler.values(plan.value, instants),
            sampler.values(plan.volume, instants) if plan.volume else None,
            {off: sampler.values(plan.value, instants.shifted(off)) for off in plan.offsets},
        )

    def observe(self, group: Group, at: datetime) -> Observation:
        rule = self.plan.rule
        value = self.value.get(at, {}).get(group)
        if value is None:
            return Observation("nodata", reason=f"no data in the last {rule.window}")
        baseline = self._baseline(group, at)
        threshold = rule.condition.threshold(baseline)
        if threshold is None:
            return Observation("nodata", value, reason="no baseline to compare with")
        if self.volume is not None and rule.min_volume is not None:
            volume = self.volume.get(at, {}).get(group) or 0.0
            if volume < rule.min_volume.at_least:
                unit = rule.min_volume.figure.unit
                reason = (
                    f"{rule.min_volume.figure.key} {humanize(volume, unit)} is below the minimum "
                    f"{humanize(rule.min_volume.at_least, unit)}"
                )
                return Observation("low_volume", value, threshold, reason=reason)
        resolve_at = rule.resolve_condition.threshold(baseline)
        resolved = resolve_at is None or rule.resolve_condition.holds(value, resolve_at)
        return Observation("ok", value, threshold, rule.condition.holds(value, threshold), resolved)

    def _baseline(self, group: Group, at: datetime) -> float | None:
        if not self.baselines:
            return None
        found = [
            v
            for off, values in self.baselines.items()
            if (v := values.get(at - off, {}).get(group)) is not None and not math.isnan(v)
        ]
        return statistics.median(found) if found else None


def _look_back(
    observed: Iterable[tuple[Plan, dict[Group, Observation]]],
    sampler: Sampler,
    at: datetime,
    interval: timedelta,
    previous: Mapping[StateKey, AlertState],
) -> None:
    """Set ``held_since`` where the condition holds now: carried from a fresh previous state, else looked up."""
    todo: list[tuple[Plan, dict[Group, Observation], list[Group], Instants]] = []
    for plan, groups in observed:
        count = math.ceil(plan.rule.for_ / interval)
        needy = []
        for group, seen in groups.items():
            if not seen.holds:
                continue
            carried = _carried_since(plan, group, at, interval, previous)
            if carried is not None:
                groups[group] = replace(seen, held_since=carried)
            elif count:
                needy.append(group)
        if needy:
            todo.append((plan, groups, needy, Instants(at - interval, count, interval)))
    sampler.fetch(w for plan, _, _, back in todo for w in plan.wanted(back))
    for plan, groups, needy, back in todo:
        try:
            figures = RuleFigures.fetch(plan, sampler, back)
        except Exception as exc:  # noqa: BLE001 - without history the run starts now (pending)
            log.warning("rule %s: no history to check its pending period (%s)", plan.rule.name, exc)
            continue
        for group in needy:
            since = at
            for moment in reversed(back.times()):
                if not figures.observe(group, moment).holds:
                    break
                since = moment
            groups[group] = replace(groups[group], held_since=since)


def _carried_since(
    plan: Plan, group: Group, at: datetime, interval: timedelta, previous: Mapping[StateKey, AlertState]
) -> datetime | None:
    """From a fresh previous state: its pending start, or ``at`` when it was not holding (None: unknown)."""
    prev = _prev(previous, plan.rule.name, dict(zip(plan.rule.group_by, group)))
    if prev is None or not timedelta(0) < at - prev.evaluated_at <= 2 * interval:
        return None
    if prev.state in ("pending", "firing"):
        return prev.active_since
    return at if prev.state in ("inactive", "nodata") else None
