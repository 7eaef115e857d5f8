"""A panel result as a plain-text table for terminals (the CLI's default output)."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from codex_bot.formatting import humanize, humanize_change
from codex_bot.panels.result import PanelResult

TIME_FORMAT = "%Y-%m-%d %H:%M %Z"
UNPRICED = "unpriced"


def render_text(result: PanelResult, tz: tzinfo) -> str:
    """Header, figures with change vs the previous period, rows as an aligned table, series summary, notes."""
    parts = [_header(result, tz)]
    if result.figures:
        parts.append(_figures(result))
    if result.rows:
        parts.append(_table(result))
    step = humanize(result.range.step_seconds, "seconds")
    lines = [f"  series {s.name}: {len(s.points)} points, one per {step} (--json has them)" for s in result.series]
    lines += [f"  note: {note}" for note in result.notes]
    if lines:
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


def _local(moment: datetime, tz: tzinfo) -> str:
    return moment.astimezone(tz).strftime(TIME_FORMAT)


def _header(result: PanelResult, tz: tzinfo) -> str:
    window = result.range
    filters = "".join(f"  {key}={value}" for key, value in result.filters.items())
    return f"{result.title} — {window.label}: {_local(window.start, tz)} → {_local(window.end, tz)}{filters}"


def _figures(result: PanelResult) -> str:
    units = [result.units.get(key, result.unit) for key in result.figures]
    rows = [["", "", f"vs {result.range.previous_label}"]] + [
        [key, humanize(value, unit), humanize_change(value, result.previous.get(key), unit)]
        for (key, value), unit in zip(result.figures.items(), units)
    ]
    return _aligned(rows)


def _cell(value: Any, unit: str) -> str:
    if value is None and unit == "usd":
        return UNPRICED
    return humanize(value, unit) if isinstance(value, (int, float)) or value is None else str(value)


def _table(result: PanelResult) -> str:
    keys = list(result.rows[0])
    header = [key.replace("_pct", "").replace("_", " ") for key in keys]
    body = [[_cell(row.get(key), result.units.get(key, "")) for key in keys] for row in result.rows]
    return _aligned([header, *body])


def _aligned(rows: list[list[str]]) -> str:
    """First column left-aligned, the others right-aligned, two spaces apart."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for row in rows:
        cells = [f"{row[0]:<{widths[0]}}", *(f"{cell:>{width}}" for cell, width in zip(row[1:], widths[1:]))]
        lines.append(("  " + "  ".join(cells)).rstrip())
    return "\n".join(lines)
