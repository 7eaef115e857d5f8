"""Replaying rules over a past period: the episodes a bot evaluating every ``interval`` would have had.

Each rule's figures come from range queries (a day at a time), then the state machine runs
over every instant in order — the same :func:`~codex_bot.alerts.state.step` as the live
cycle.  Used to check rules against history (tests, tuning) and to list what fired in a period.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from codex_bot.alerts.evaluate import Plan, RuleFigures
from codex_bot.alerts.rules import Rule
from codex_bot.alerts.sampling import Group, Instants, Sampler
from codex_bot.alerts.state import AlertState, step
from codex_bot.metrics.ranges import floor_to_grid

CHUNK_POINTS = 720  # instants per range query (Prometheus allows 11,000 points per series)


@dataclass(frozen=True)
class Episode:
    rule: str
    labels: dict[str, str]
    fired_at: datetime
    started_at: datetime  # when the condition started to hold
    resolved_at: datetime | None  # None: still firing at the end of the period
    peak: float | None  # the worst value seen while firing


def replay(
    rules: Sequence[Rule], start: datetime, end: datetime, sampler: Sampler, interval: timedelta = timedelta(minutes=1)
) -> list[Episode]:
    """Every firing episode of ``rules`` between ``start`` and ``end`` (instants on the grid), oldest first."""
    episodes: list[Episode] = []
    for rule in rules:
        episodes += _replay_rule(Plan.of(rule), floor_to_grid(start), floor_to_grid(end), sampler, interval)
    return sorted(episodes, key=lambda e: (e.fired_at, e.rule))


def _chunks(start: datetime, end: datetime, interval: timedelta) -> list[Instants]:
    chunks, cursor = [], start
    while cursor <= end:
        count = min(CHUNK_POINTS, int((end - cursor) / interval) + 1)
        chunks.append(Instants(cursor + (count - 1) * interval, count, interval))
        cursor += count * interval
    return chunks


def _replay_rule(plan: Plan, start: datetime, end: datetime, sampler: Sampler, interval: timedelta) -> list[Episode]:
    rule = plan.rule
    states: dict[Group, AlertState] = {}
    open_: dict[Group, Episode] = {}
    done: list[Episode] = []
    for chunk in _chunks(start, end, interval):
        sampler.fetch(plan.wanted(chunk))
        figures = RuleFigures.fetch(plan, sampler, chunk)
        for moment in chunk.times():
            for group in sorted(set(figures.value.get(moment, {})) | set(states)):
                seen = figures.observe(group, moment)
                prev = states.get(group)
                if seen.holds:
                    carried = prev is not None and prev.state in ("pending", "firing")
                    seen = replace(seen, held_since=prev.active_since if carried else moment)  # type: ignore[union-attr]
                labels = dict(zip(rule.group_by, group))
                state = step(prev, seen, rule.name, labels, moment, rule.for_)
                states[group] = state
                _track(rule, group, prev, state, open_, done)
    done += open_.values()
    return done


def _track(
    rule: Rule,
    group: Group,
    prev: AlertState | None,
    state: AlertState,
    open_: dict[Group, Episode],
    done: list[Episode],
) -> None:
    if state.firing and group not in open_:
        open_[group] = Episode(
            rule.name,
            dict(state.labels),
            state.evaluated_at,
            state.active_since or state.evaluated_at,
            None,
            state.value,
        )
    elif state.firing and state.value is not None:
        episode = open_[group]
        worse = episode.peak is None or rule.condition.holds(state.value, episode.peak)
        if worse:
            open_[group] = replace(episode, peak=state.value)
    elif not state.firing and group in open_:
        done.append(replace(open_.pop(group), resolved_at=state.evaluated_at))
