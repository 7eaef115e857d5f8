"""Panel result → a complete reply :class:`Message` (blocks + chart), without sending it.

The chart is an image block when the renderer gives public URLs, else a PNG to upload.  A chart
renderer failure never loses the message: the text goes out with a short note instead.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import Block

from codex_bot.charts.renderer import ChartRenderer
from codex_bot.charts.spec import chart_config
from codex_bot.dashboard import DashboardLink
from codex_bot.delivery.message import ChartImage, Message
from codex_bot.errors import ChartUnavailable
from codex_bot.panels.result import PanelResult
from codex_bot.slack.blocks import fallback_text, notice_blocks, panel_blocks
from codex_bot.slack.mrkdwn import escape, fit_fallback


def source_label(prometheus_url: str) -> str:
    """``Prometheus at prom.internal:9090`` (no credentials, no path)."""
    parts = urlsplit(prometheus_url)
    host = parts.hostname or prometheus_url
    return f"Prometheus at {host}:{parts.port}" if parts.port else f"Prometheus at {host}"


def chart_filename(result: PanelResult) -> str:
    """``tokens-7d.png``, ``cost-last-week.png``: safe characters only."""
    return re.sub(r"[^a-z0-9]+", "-", f"{result.panel} {result.range.label}".lower()).strip("-") + ".png"


class PanelReplies:
    """Renders panel results as reply messages, with the chart from ``renderer`` (None: no charts)."""

    def __init__(
        self, tz: ZoneInfo, renderer: ChartRenderer | None, *, source: str, dashboard: DashboardLink | None = None
    ) -> None:
        self.tz = tz
        self.renderer = renderer
        self.source = source
        self.dashboard = dashboard

    def compose(self, result: PanelResult, pickers: Block | None = None) -> Message:
        """The reply for ``result``: figures, table, context, its chart (uploaded or linked) and ``pickers``."""
        config = chart_config(result, self.tz) if self.renderer is not None else None
        url, charts, notes = None, [], []
        if config is not None and self.renderer is not None:
            try:
                url = self.renderer.url(config)
                if url is None:
                    charts.append(self._image(result, self.renderer.png(config)))
            except ChartUnavailable as exc:
                notes.append(str(exc))
        link = self.dashboard.mrkdwn(result.range.start, result.range.end, result.filters) if self.dashboard else None
        blocks = panel_blocks(result, self.tz, source=self.source, image_url=url, notes=notes, link=link)
        if pickers is not None:
            blocks.append(pickers)
        return Message(fit_fallback(escape(fallback_text(result))), blocks, charts)

    def _image(self, result: PanelResult, png: bytes) -> ChartImage:
        title = f"{result.title} · {result.range.label}"
        return ChartImage(png, chart_filename(result), title, f"{title} chart")


def notice(text: str, emoji: str = ":x:") -> Message:
    """A short answer such as an error or a refusal."""
    return Message(fit_fallback(escape(text)), notice_blocks(text, emoji))
