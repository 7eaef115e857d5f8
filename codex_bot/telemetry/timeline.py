"""Backfill's series sink: increments bucketed on a grid of ``step`` seconds.

An event at time ``e`` lands in the sample at ``ceil(e / step) * step`` (grid index ``ceil(e / step)``),
so a sample at grid time ``t`` holds exactly the events with time ``<= t``.
"""

from __future__ import annotations

from codex_bot.telemetry.increments import Increment
from codex_bot.telemetry.series import SeriesIndex, add, new_cells


class Timeline:
    def __init__(self, step_seconds: int, max_series: int) -> None:
        self.step_seconds = step_seconds
        self._step_ns = step_seconds * 1_000_000_000
        self.index = SeriesIndex(max_series)
        self.deltas: list[dict[int, list[float]]] = []  # per series id: grid index → cells added there

    def apply(self, found: list[Increment], time_ns: int) -> None:
        step = -(-time_ns // self._step_ns)  # ceil: the first grid time at or after the event
        for family, labels, value in found:
            located = self.index.find(family, labels)
            if located is None:
                continue
            series, created = located
            if created:
                self.deltas.append({})
            per_step = self.deltas[series]
            cells = per_step.get(step)
            if cells is None:
                cells = per_step[step] = new_cells(family)
            add(cells, family, value)

    def __len__(self) -> int:
        return len(self.index)
