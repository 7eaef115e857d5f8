"""Charts of named values: doughnuts for shares, horizontal bars for top-N, one stacked bar for parts.

The values come from ``rows`` (breakdowns, tables) or, when a panel has none, from its headline
``figures``.  Labels carry the humanized value (and share), since Chart.js draws no value labels
without a plugin.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from codex_bot.charts import frame
from codex_bot.charts.palette import OTHER, PALETTE, REST, colours
from codex_bot.charts.scales import axis_title, value_axis
from codex_bot.formatting import humanize
from codex_bot.panels.result import PanelResult

DOUGHNUT_SLICES = 8  # more are gathered into "other"
TOP_N = 10  # bars of a top-N chart
GAUGE = PALETTE[2]
OTHER_KEY = "\x00other"  # never a real label value


@dataclass(frozen=True)
class Item:
    key: str  # what the colour follows: a model, token type, tool, user, ...
    label: str  # what people read
    value: float


@dataclass(frozen=True)
class Values:
    """What a categorical chart draws: items (largest first), their unit, and what is counted."""

    items: list[Item]
    unit: str
    measure: str


def _numeric_columns(row: dict[str, Any]) -> list[str]:
    return [k for k, v in row.items() if frame.finite(v) is not None and not k.endswith("_pct")]


def from_rows(result: PanelResult) -> Values | None:
    """Items from rows: the first text column names them; the first number column in the panel's unit
    (else the first number column) sizes them."""
    first = result.rows[0]
    names = [k for k, v in first.items() if isinstance(v, str)]
    numbers = _numeric_columns(first)
    if not names or not numbers:
        return None
    column = next((c for c in numbers if result.units.get(c) == result.unit), numbers[0])
    labels = [str(row.get(names[0], "unknown")) for row in result.rows]
    items = [Item(name, name, frame.finite(row.get(column)) or 0.0) for name, row in zip(labels, result.rows)]
    unit = result.units.get(column, result.unit)
    return Values(sorted(items, key=lambda i: -i.value), unit, frame.words(column))


def _is_part(key: str) -> bool:
    return not key.endswith("_pct") and key != "total" and not key.startswith("total_")


def from_figures(result: PanelResult) -> Values | None:
    """Items from headline figures, leaving out totals and percentages (they are not parts)."""
    items = [
        Item(key, frame.words(key), value)
        for key, raw in result.figures.items()
        if _is_part(key) and (value := frame.finite(raw)) is not None
    ]
    return Values(items, result.unit, "count") if items else None


def _percent_figure(result: PanelResult) -> tuple[str, float] | None:
    found = [(k, v) for k, raw in result.figures.items() if k.endswith("_pct") and (v := frame.finite(raw)) is not None]
    return found[0] if len(found) == 1 else None


def _big_legend(options: dict[str, Any]) -> dict[str, Any]:
    options["plugins"]["legend"]["labels"] |= {"font": {"size": 16}, "boxWidth": 18}
    return options


def gauge(result: PanelResult, tz: ZoneInfo) -> dict[str, Any] | None:
    """A half doughnut for a single percentage figure (success rate, cache rate)."""
    found = _percent_figure(result)
    if found is None:
        return None
    key, percent = found
    percent = min(max(percent, 0.0), 100.0)
    return {
        "type": "doughnut",
        "data": {
            "labels": [
                f"{frame.words(key)} {humanize(percent, 'percent')}",
                f"rest {humanize(100 - percent, 'percent')}",
            ],
            "datasets": [{"data": [percent, 100 - percent], "backgroundColor": [GAUGE, REST], "borderWidth": 0}],
        },
        "options": _big_legend(frame.options(result, tz, legend="bottom"))
        | {"circumference": 180, "rotation": -90, "cutout": "60%"},
    }


def _tail_gathered(items: list[Item], keep: int) -> list[Item]:
    if len(items) <= keep:
        return items
    return items[: keep - 1] + [Item(OTHER_KEY, "other", sum(i.value for i in items[keep - 1 :]))]


def doughnut(result: PanelResult, tz: ZoneInfo, values: Values) -> dict[str, Any] | None:
    """Shares of the positive items, the long tail gathered into "other"; None when nothing is positive."""
    items = _tail_gathered([i for i in values.items if i.value > 0], DOUGHNUT_SLICES)
    total = sum(i.value for i in items)
    if total <= 0:
        return None
    palette = colours([i.key for i in items])
    return {
        "type": "doughnut",
        "data": {
            "labels": [
                f"{frame.short(i.label)} · {humanize(i.value, values.unit)} ({100 * i.value / total:.1f} %)"
                for i in items
            ],
            "datasets": [
                {
                    "data": [i.value for i in items],
                    "backgroundColor": [OTHER if i.key == OTHER_KEY else c for i, c in zip(items, palette)],
                    "borderColor": "#ffffff",
                    "borderWidth": 2,
                }
            ],
        },
        "options": frame.options(result, tz, legend="right") | {"cutout": "55%"},
    }


def top_bars(result: PanelResult, tz: ZoneInfo, values: Values) -> dict[str, Any]:
    """Horizontal bars of the largest items, labelled with their values."""
    items = values.items[:TOP_N]
    extra = [f"top {TOP_N} of {len(values.items)}"] if len(values.items) > TOP_N else []
    palette = colours([i.key for i in items])
    return {
        "type": "bar",
        "data": {
            "labels": [f"{frame.short(i.label)} · {humanize(i.value, values.unit)}" for i in items],
            "datasets": [
                {
                    "label": values.measure,
                    "data": [i.value for i in items],
                    "backgroundColor": palette,
                    "maxBarThickness": 28,
                }
            ],
        },
        "options": frame.options(result, tz, legend=None, extra=extra)
        | {
            "indexAxis": "y",
            "scales": {
                "x": value_axis(values.unit, axis_title(values.unit, values.measure)),
                "y": {"type": "category", "ticks": {"autoSkip": False}, "grid": {"display": False}},
            },
        },
    }


def parts_bar(result: PanelResult, tz: ZoneInfo, values: Values) -> dict[str, Any]:
    """One horizontal bar split into its parts (input vs output tokens), each part its own dataset."""
    palette = colours([i.key for i in values.items])
    datasets = [
        {
            "label": f"{i.label} {humanize(i.value, values.unit)}",
            "data": [i.value],
            "backgroundColor": c,
            "maxBarThickness": 90,
        }
        for i, c in zip(values.items, palette)
    ]
    return {
        "type": "bar",
        "data": {"labels": [result.range.label], "datasets": datasets},
        "options": frame.options(result, tz, legend="top")
        | {
            "indexAxis": "y",
            "scales": {
                "x": value_axis(values.unit, axis_title(values.unit, values.measure), stacked=True),
                "y": {"type": "category", "stacked": True, "grid": {"display": False}},
            },
        },
    }


def categorical_chart(result: PanelResult, tz: ZoneInfo, kind: str) -> dict[str, Any] | None:
    """The doughnut, top-N bars or parts bar of a result's rows (else figures); None when nothing to draw."""
    if kind == "doughnut" and not result.rows and (chart := gauge(result, tz)) is not None:
        return chart
    values = from_rows(result) if result.rows else from_figures(result)
    if values is None or not any(i.value for i in values.items):
        return None
    if kind == "doughnut":
        return doughnut(result, tz, values)
    if kind == "stacked_bar":
        return parts_bar(result, tz, values)
    return top_bars(result, tz, values)
