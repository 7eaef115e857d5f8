"""What every chart shares: the title (panel and range), the subtitle (exact window, filters, notes), fonts."""

from __future__ import annotations

import math
from typing import Any
from zoneinfo import ZoneInfo

from codex_bot.charts.scales import moment
from codex_bot.panels.result import PanelResult

MAX_LABEL = 28  # characters of a category label (long e-mails, MCP tool names)


def short(text: str, limit: int = MAX_LABEL) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def words(key: str) -> str:
    """A figure or token-type key as words: ``cached_input`` → ``cached input``, ``cache_rate_pct`` → ``cache rate``."""
    return key.removesuffix("_pct").replace("_", " ")


def finite(value: object) -> float | None:
    """A JSON-safe number (whole numbers exact, others to 6 significant digits, keeping configs short);
    None for missing, non-numbers, NaN and infinities."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value) if float(value).is_integer() else float(f"{value:.6g}")


def subtitle(result: PanelResult, tz: ZoneInfo, extra: list[str] | None = None) -> str:
    """``Mar 01 14:00 – Mar 08 14:00 Europe/Berlin · model=gpt-5-codex · estimate``."""
    parts = [f"{moment(result.range.start, tz)} – {moment(result.range.end, tz)} {tz.key}"]
    parts += [f"{key}={value}" for key, value in sorted(result.filters.items())]
    parts += list(result.notes) + list(extra or [])
    return " · ".join(parts)


def options(result: PanelResult, tz: ZoneInfo, *, legend: str | None, extra: list[str] | None = None) -> dict[str, Any]:
    """Chart options shared by every chart: titles, legend position (None hides it), no animation."""
    return {
        "locale": "en-US",
        "animation": False,
        "responsive": False,
        "layout": {"padding": 12},
        "plugins": {
            "title": {
                "display": True,
                "text": f"{result.title} — {result.range.label}",
                "font": {"size": 18, "weight": "bold"},
                "color": "#222222",
            },
            "subtitle": {
                "display": True,
                "text": short(subtitle(result, tz, extra), 140),
                "font": {"size": 12},
                "color": "#555555",
                "padding": {"bottom": 10},
            },
            "legend": {"display": legend is not None, "position": legend or "top", "labels": {"boxWidth": 14}},
            "tooltip": {"enabled": False},
        },
    }
