"""Write a :class:`Timeline` as dense OpenMetrics for ``promtool tsdb create-blocks-from openmetrics``.

Every series gets a sample at every grid step from one step before its first increment (value 0:
a series is born at zero, so ``increase()`` keeps its first increment) through the end step, like a
scrape every ``step`` seconds.  Families are contiguous, each series' timestamps ascend, timestamps
are in seconds, and the file ends with ``# EOF``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from codex_bot.telemetry.contract import FAMILIES, MetricFamily
from codex_bot.telemetry.series import sample_values
from codex_bot.telemetry.textformat import number, sample_prefixes
from codex_bot.telemetry.timeline import Timeline


@dataclass(frozen=True)
class WriteStats:
    series: int  # contract series written (a histogram counts once)
    samples: int  # sample lines written
    first_step: int | None  # grid index of the earliest sample
    last_step: int | None


def write_openmetrics(timeline: Timeline, end_step: int, path: Path, *, millis: bool = False) -> WriteStats:
    """Write series whose first increment is at or before ``end_step``; increments after it are left out.

    ``millis``: timestamps in milliseconds, as the Prometheus text format has them, instead of seconds."""
    births = [min(deltas) for deltas in timeline.deltas]
    live = [series for series, birth in enumerate(births) if birth <= end_step]
    if not live:
        path.write_text("# EOF\n")
        return WriteStats(0, 0, None, None)
    base = min(births[series] for series in live) - 1
    step = timeline.step_seconds * (1000 if millis else 1)
    stamps = [f" {index * step}\n" for index in range(base, end_step + 1)]
    samples = 0
    with path.open("w", encoding="utf-8", buffering=1 << 22) as out:
        for family in FAMILIES:
            members = [s for s in live if timeline.index.families[s] is family]
            if not members:
                continue
            out.write(f"# HELP {family.name} {family.help}\n# TYPE {family.name} {family.kind}\n")
            for series in sorted(members, key=timeline.index.labels.__getitem__):
                samples += _write_series(
                    out.write, family, timeline, series, births[series] - 1, end_step, stamps, base
                )
        out.write("# EOF\n")
    return WriteStats(len(live), samples, base, end_step)


def _write_series(
    write: Callable[[str], object],
    family: MetricFamily,
    timeline: Timeline,
    series: int,
    start: int,
    end: int,
    stamps: list[str],
    base: int,
) -> int:
    prefixes = sample_prefixes(family, timeline.index.labels[series])
    changes = [
        (step, sample_values(family, cells)) for step, cells in sorted(timeline.deltas[series].items()) if step <= end
    ]
    for line, prefix in enumerate(prefixes):
        _write_line(
            write, prefix, [(step, deltas[line]) for step, deltas in changes], start - base, end - base, stamps, base
        )
    return len(prefixes) * (end - start + 1)


def _write_line(
    write: Callable[[str], object],
    prefix: str,
    changes: list[tuple[int, float]],
    first: int,
    last: int,
    stamps: list[str],
    base: int,
) -> None:
    """Samples ``first..last`` (indexes into ``stamps``) of one sample line, each run of equal values joined at once."""
    value: float = 0
    at = first
    for step, delta in changes:
        if not delta:
            continue
        step -= base
        if step > at:
            head = prefix + number(value)
            write(head + head.join(stamps[at:step]))
            at = step
        value += delta
    head = prefix + number(value)
    write(head + head.join(stamps[at : last + 1]))
