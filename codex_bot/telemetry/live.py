"""Thread-safe live state of ``codex-bot ingest``: the pipeline into a :class:`LiveRegistry`, plus self-metrics."""

from __future__ import annotations

import threading

from codex_bot.telemetry.dedup import RecentDigests
from codex_bot.telemetry.events import CodexEvent
from codex_bot.telemetry.labels import UserLabelRule
from codex_bot.telemetry.pipeline import Outcomes, Pipeline
from codex_bot.telemetry.registry import LiveRegistry, new_boot
from codex_bot.telemetry.selfmetrics import IngestStats


class LiveTelemetry:
    def __init__(self, rule: UserLabelRule, max_series: int, dedup_records: int) -> None:
        self.registry = LiveRegistry(max_series, new_boot())
        self.pipeline = Pipeline(rule, self.registry, RecentDigests(dedup_records))
        self.stats = IngestStats()
        self._lock = threading.Lock()

    def accept(self, events: list[CodexEvent]) -> Outcomes:
        """Count one fully decoded request."""
        with self._lock:
            outcomes = self.pipeline.process(events)
            self.stats.records.add(outcomes)
            self.stats.requests["accepted"] += 1
            return outcomes

    def note_request(self, outcome: str) -> None:
        with self._lock:
            self.stats.requests[outcome] += 1

    def scrape(self) -> str:
        """The ``/metrics`` body: contract series, then self-metrics."""
        with self._lock:
            index = self.registry.index
            return self.registry.exposition() + self.stats.exposition(len(index), index.max_series, index.refused)
