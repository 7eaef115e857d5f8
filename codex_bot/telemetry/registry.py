"""Live cumulative series for ``GET /metrics``, with zero-birth.

Guarantee: a series is exposed at 0 (every bucket 0 for a histogram) by at least one
:meth:`LiveRegistry.exposition` before any of its increments show.  Increments of a series that
no exposition has shown yet wait as *pending* and are folded in right after the next exposition.
So a Prometheus that scrapes every exposition (one scraper, successful scrapes) sees each series
start at 0 and ``increase()`` keeps the first increment.  Event times are not used: live samples
carry the scrape time.

Every series also carries the ``ingest_boot`` label (when given): one value per ingest process, so a
restart starts *new* series at 0 instead of resetting the old ones.  Each series then only ever grows,
and the exact window count (:mod:`codex_bot.metrics.increase`) is its last value minus its value at
the window start, across any number of restarts.
"""

from __future__ import annotations

import time

from codex_bot.telemetry.contract import FAMILIES, MetricFamily
from codex_bot.telemetry.increments import Increment
from codex_bot.telemetry.series import SeriesIndex, add, new_cells, sample_values
from codex_bot.telemetry.textformat import number, sample_prefixes

BOOT_LABEL = "ingest_boot"


def new_boot() -> str:
    """This ingest's ``ingest_boot`` value: its start time in Unix milliseconds."""
    return str(time.time_ns() // 1_000_000)


class LiveRegistry:
    def __init__(self, max_series: int, boot: str | None = None) -> None:
        self.index = SeriesIndex(max_series)
        self._constant = ((BOOT_LABEL, boot),) if boot is not None else ()
        self._cells: list[list[float]] = []  # exposed values, per series id
        self._pending: dict[int, list[float]] = {}  # series not yet exposed: their increments wait here
        self._prefixes: list[list[str]] = []
        self._by_family: dict[str, list[int]] = {family.name: [] for family in FAMILIES}

    def apply(self, found: list[Increment], time_ns: int = 0) -> None:
        for family, labels, value in found:
            located = self.index.find(family, labels)
            if located is None:
                continue
            series, created = located
            if created:
                self._born(series, family, labels)
            waiting = self._pending.get(series)
            add(self._cells[series] if waiting is None else waiting, family, value)

    def _born(self, series: int, family: MetricFamily, labels: tuple[str, ...]) -> None:
        self._cells.append(new_cells(family))
        self._pending[series] = new_cells(family)
        self._prefixes.append(sample_prefixes(family, labels, self._constant))
        self._by_family.setdefault(family.name, []).append(series)

    def exposition(self) -> str:
        """Prometheus text (0.0.4) of all series; then releases pending increments."""
        out: list[str] = []
        for family in FAMILIES:
            name = family.series_name
            out.append(f"# HELP {name} {family.help}\n# TYPE {name} {family.kind}\n")
            for series in self._by_family[family.name]:
                values = sample_values(family, self._cells[series])
                out.extend(f"{prefix}{number(value)}\n" for prefix, value in zip(self._prefixes[series], values))
        self._release_pending()
        return "".join(out)

    def _release_pending(self) -> None:
        for series, waiting in self._pending.items():
            cells = self._cells[series]
            for i, value in enumerate(waiting):
                cells[i] += value
        self._pending.clear()

    def __len__(self) -> int:
        return len(self.index)
