"""The single aggregation path shared by ingest and backfill: events → increments → dedup → a series sink."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from codex_bot.telemetry.dedup import RecentDigests
from codex_bot.telemetry.events import CodexEvent
from codex_bot.telemetry.increments import Increment, increments
from codex_bot.telemetry.labels import UserLabelRule


class SeriesSink(Protocol):
    """Where increments go: the live registry (ingest) or a per-step timeline (backfill)."""

    def apply(self, found: list[Increment], time_ns: int) -> None: ...


@dataclass
class Outcomes:
    """What happened to records: counted, ignored (count for nothing), or duplicate (an exact re-delivery)."""

    counted: int = 0
    ignored: int = 0
    duplicate: int = 0

    def add(self, other: Outcomes) -> None:
        self.counted += other.counted
        self.ignored += other.ignored
        self.duplicate += other.duplicate

    @property
    def records(self) -> int:
        return self.counted + self.ignored + self.duplicate


class Pipeline:
    def __init__(self, rule: UserLabelRule, sink: SeriesSink, recent: RecentDigests) -> None:
        self.rule, self.sink, self.recent = rule, sink, recent

    def process(self, events: Iterable[CodexEvent]) -> Outcomes:
        """Apply already fully-decoded events; returns what happened to each."""
        outcomes = Outcomes()
        rule, sink, seen = self.rule, self.sink, self.recent.seen
        for event in events:
            found = increments(event, rule)
            if not found:
                outcomes.ignored += 1
            elif seen(event.digest):
                outcomes.duplicate += 1
            else:
                sink.apply(found, event.time_ns)
                outcomes.counted += 1
        return outcomes
