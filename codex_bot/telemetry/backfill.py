"""``codex-bot backfill``: recorded OTLP/JSON log files → the series ``ingest`` would have produced → TSDB
blocks, or a VictoriaMetrics server.

Files go through the same decode → :class:`Pipeline` (increments, dedup, series cap) as live ingest,
into a :class:`Timeline` instead of the live registry; the timeline is written as dense OpenMetrics
on the grid and imported with promtool, or sent (with millisecond timestamps) to VictoriaMetrics'
import API.
"""

from __future__ import annotations

import gc
import os
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from codex_bot.errors import UserError
from codex_bot.telemetry.dedup import RecentDigests
from codex_bot.telemetry.exportfiles import read_events
from codex_bot.telemetry.labels import UserLabelRule
from codex_bot.telemetry.openmetrics import write_openmetrics
from codex_bot.telemetry.pipeline import Outcomes, Pipeline
from codex_bot.telemetry.promtool import create_blocks
from codex_bot.telemetry.timeline import Timeline
from codex_bot.telemetry.vmimport import check_url, import_text

MAX_GRID_STEPS = 5_000_000  # a runaway time range (e.g. a bogus timestamp) would write terabytes
# VictoriaMetrics stores no sample more than 2 days ahead of its clock: it drops them, logs a warning and
# still answers 204, so backfill refuses such an --end before sending anything.
VM_MAX_AHEAD_SECONDS = 2 * 86400


@dataclass(frozen=True)
class BackfillReport:
    files: int
    records: Outcomes  # counted / ignored / duplicate, as ingest counts them
    undated: int  # records without any time, skipped
    after_end: int  # records after the end time, skipped
    series: int  # contract series written
    refused: int  # increments dropped by the series cap
    samples: int
    start: int | None  # unix seconds of the first and last samples (grid-aligned)
    end: int | None
    seconds: float
    openmetrics_path: Path | None  # kept OpenMetrics file, if asked to keep it
    flushed: bool | None = None  # with to_url: whether the server flushed the samples for queries at once


def aggregate_files(
    files: Sequence[str | Path], step: int, end: float | None, rule: UserLabelRule, max_series: int, dedup_records: int
) -> tuple[Timeline, Outcomes, int, int]:
    """(timeline, record outcomes, undated records, records after ``end``) for the files."""
    timeline = Timeline(step, max_series)
    pipeline = Pipeline(rule, timeline, RecentDigests(dedup_records))
    limit_ns = None if end is None else end_step(end, step) * step * 1_000_000_000
    outcomes, undated, after_end = Outcomes(), 0, 0
    with _cycle_collector_paused():
        for path in files:
            for events in read_events(path):
                dated = [event for event in events if event.time_ns]
                undated += len(events) - len(dated)
                if limit_ns is not None:
                    kept = [event for event in dated if event.time_ns <= limit_ns]
                    after_end += len(dated) - len(kept)
                    dated = kept
                outcomes.add(pipeline.process(dated))
    return timeline, outcomes, undated, after_end


@contextmanager
def _cycle_collector_paused() -> Iterator[None]:
    """Aggregation makes masses of acyclic objects (parsed JSON, events, cells) that reference counting
    frees as it goes; the cyclic collector would only scan them again and again (a quarter of the time,
    more as the timeline grows).  Paused while this single-threaded job aggregates, restored after."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def end_step(end: float, step: int) -> int:
    """The last grid index at or before ``end`` (unix seconds)."""
    return int(end // step)


def backfill(
    files: Sequence[str | Path],
    tsdb_dir: str | Path | None,
    step: int = 60,
    end: float | None = None,
    *,
    rule: UserLabelRule = UserLabelRule(),
    max_series: int = 200_000,
    dedup_records: int = 1_000_000,
    openmetrics_out: str | Path | None = None,
    keep_openmetrics: bool = False,
    promtool: str = "promtool",
    to_url: str | None = None,
) -> BackfillReport:
    """Import ``files`` into TSDB blocks under ``tsdb_dir``, or (``to_url``, ``tsdb_dir`` None) into the
    VictoriaMetrics at ``to_url`` (see :mod:`~codex_bot.telemetry.vmimport`).

    Samples run on a grid of ``step`` seconds up to ``end`` (unix seconds, rounded down to the grid;
    default: the last event's grid time).  Raises :class:`UserError` for unreadable input or a failed import.
    """
    if step <= 0:
        raise UserError(f"--step must be a positive number of seconds, not {step}")
    if (tsdb_dir is None) == (to_url is None):
        raise UserError("give one target: a TSDB folder (--tsdb) or a VictoriaMetrics URL (--to-url)")
    if to_url is not None:
        check_url(to_url)
    started = time.monotonic()
    timeline, outcomes, undated, after_end = aggregate_files(files, step, end, rule, max_series, dedup_records)
    last = _last_step(timeline, step, end)
    if to_url is not None:
        _check_not_too_far_ahead(last * step)
    scratch = Path(tsdb_dir).resolve().parent if tsdb_dir is not None else Path(tempfile.gettempdir())
    om_path = Path(openmetrics_out) if openmetrics_out else _scratch_file(scratch)
    flushed = None
    try:
        written = write_openmetrics(timeline, last, om_path, millis=to_url is not None)
        if written.samples and to_url is not None:
            flushed = import_text(om_path, to_url)
        elif (
            written.samples
            and tsdb_dir is not None
            and written.first_step is not None
            and written.last_step is not None
        ):
            create_blocks(om_path, Path(tsdb_dir), written.first_step * step, written.last_step * step, promtool)
    except OSError as exc:
        raise UserError(f"cannot write {exc.filename or om_path}: {exc.strerror or exc}") from None
    finally:
        if not keep_openmetrics:
            om_path.unlink(missing_ok=True)
    return BackfillReport(
        files=len(files),
        records=outcomes,
        undated=undated,
        after_end=after_end,
        series=written.series,
        refused=timeline.index.refused,
        samples=written.samples,
        start=None if written.first_step is None else written.first_step * step,
        end=None if written.last_step is None else written.last_step * step,
        seconds=time.monotonic() - started,
        openmetrics_path=om_path if keep_openmetrics else None,
        flushed=flushed,
    )


def _check_not_too_far_ahead(last_sample: float) -> None:
    if last_sample > time.time() + VM_MAX_AHEAD_SECONDS - 3600:  # an hour's margin for clock skew
        raise UserError(
            "the last sample would be more than 2 days ahead of now, and VictoriaMetrics silently drops samples "
            "that far in the future: give an --end up to now+1d (now+1h keeps 'now' queries fresh)"
        )


def _last_step(timeline: Timeline, step: int, end: float | None) -> int:
    steps = [index for deltas in timeline.deltas for index in (min(deltas), max(deltas))]
    last = end_step(end, step) if end is not None else max(steps, default=0)
    if steps and last - min(steps) > MAX_GRID_STEPS:
        raise UserError(
            f"the data spans {(last - min(steps)) * step / 86400:.0f} days, more than {MAX_GRID_STEPS} steps of "
            f"{step}s: check the events' timestamps and --end, or use a larger --step"
        )
    return last


def _scratch_file(parent: Path) -> Path:
    """A temporary OpenMetrics file in ``parent`` (beside, not inside, the TSDB folder; or the temp folder)."""
    try:
        parent.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(prefix=".codex-bot-backfill-", suffix=".om", dir=parent)
    except OSError as exc:
        raise UserError(f"cannot write a scratch file in {parent}: {exc.strerror or exc}") from None
    os.close(handle)
    return Path(name)
