"""Writing a panel's chart to a PNG file (``codex-bot query ... --chart FILE.png``)."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

from codex_bot.charts.renderer import ChartRenderer
from codex_bot.charts.spec import chart_config
from codex_bot.errors import ChartUnavailable, UserError
from codex_bot.panels.result import PanelResult

RENDERER_HINT = (
    "Start the bundled renderer (cd deploy/chart-renderer && npm ci && node server.mjs) "
    "or point CODEX_BOT_QUICKCHART_URL at a QuickChart."
)


def save_chart(result: PanelResult, renderer: ChartRenderer, tz: ZoneInfo, path: Path) -> str:
    """Render ``result``'s chart (times in ``tz``) into ``path``; returns what was done. Raises UserError when it cannot."""
    config = chart_config(result, tz)
    if config is None:
        return f"the {result.panel} panel has no chart for this answer; {path} not written."
    try:
        png = renderer.png(config)
    except ChartUnavailable as exc:
        raise ChartUnavailable(f"{exc} {RENDERER_HINT}") from exc
    try:
        path.write_bytes(png)
    except OSError as exc:
        raise UserError(f"cannot write the chart to {path}: {exc.strerror or exc}.") from exc
    return f"chart written to {path} ({len(png) // 1024} kB)."
