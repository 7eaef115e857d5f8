"""Chart configs → PNG bytes or image URLs, through QuickChart (public, self-hosted, or the bundled renderer).

Uses the ``quickchart-io`` client with Chart.js 4.  Every failure (unreachable, timeout, HTTP
error, a response that is not a PNG) becomes :class:`ChartUnavailable` with a short reason, so a
message can go out without its image.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

import requests
from quickchart import QuickChart

from codex_bot.errors import ChartUnavailable
from codex_bot.settings import Settings, SettingsError

log = logging.getLogger(__name__)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
CHART_JS_VERSION = "4"
WIDTH, HEIGHT = 800, 400
MAX_URL_LENGTH = 3000  # Slack's limit for an image block's image_url


def _endpoint(url: str) -> tuple[str, str]:
    """(scheme, host[:port]) of a QuickChart base URL; the client supports no path prefix."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path.strip("/"):
        raise SettingsError(
            f"bad setting: CODEX_BOT_QUICKCHART_URL must look like https://host[:port] without a path (got {url!r})"
        )
    return parts.scheme, parts.netloc


def _reason(exc: Exception, timeout: float) -> str:
    if isinstance(exc, requests.Timeout):
        return f"no answer within {timeout:g} s"
    if isinstance(exc, requests.ConnectionError):
        return "cannot connect"
    return " ".join(str(exc).split())[:200] or type(exc).__name__


class ChartRenderer:
    """Renders Chart.js 4 configs through a QuickChart API at ``base_url``."""

    def __init__(self, base_url: str, *, public_urls: bool = False, timeout: float = 15.0, workers: int = 4) -> None:
        self.base_url = base_url.rstrip("/")
        self.scheme, self.host = _endpoint(base_url)
        self.public_urls = public_urls
        self.timeout = timeout
        self.workers = workers

    @classmethod
    def from_settings(cls, settings: Settings) -> ChartRenderer:
        return cls(settings.quickchart_url, public_urls=settings.chart_public_urls, timeout=settings.chart_timeout)

    def _client(self, config: dict[str, Any], width: int, height: int) -> QuickChart:
        chart = QuickChart()
        chart.config = config
        chart.width, chart.height = width, height
        chart.version = CHART_JS_VERSION
        chart.scheme, chart.host = self.scheme, self.host
        chart.timeout = self.timeout
        return chart

    def _unavailable(self, exc: Exception) -> ChartUnavailable:
        reason = _reason(exc, self.timeout)
        log.warning("chart renderer at %s failed: %s", self.base_url, reason)
        return ChartUnavailable(f"Chart unavailable: the chart renderer at {self.base_url} failed ({reason}).")

    def png(self, config: dict[str, Any], width: int = WIDTH, height: int = HEIGHT) -> bytes:
        """The chart as PNG bytes; raises ChartUnavailable on any failure."""
        try:
            data = self._client(config, width, height).get_bytes()
        except Exception as exc:  # any failure means no image, never a lost message
            raise self._unavailable(exc) from exc
        if not data.startswith(PNG_SIGNATURE):
            raise self._unavailable(ValueError("the answer is not a PNG image"))
        return data

    def png_many(
        self, configs: Sequence[dict[str, Any]], width: int = WIDTH, height: int = HEIGHT
    ) -> list[bytes | ChartUnavailable]:
        """PNGs of several charts rendered in parallel, in order; a failed chart is its ChartUnavailable."""

        def one(config: dict[str, Any]) -> bytes | ChartUnavailable:
            try:
                return self.png(config, width, height)
            except ChartUnavailable as exc:
                return exc

        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            return list(pool.map(one, configs))

    def url(self, config: dict[str, Any], width: int = WIDTH, height: int = HEIGHT) -> str | None:
        """An image URL for Slack when the renderer is public (a short URL when the long one is too long).

        None when public URLs are off (``CODEX_BOT_CHART_PUBLIC_URLS``); then upload ``png()`` bytes.
        Raises ChartUnavailable when a short URL cannot be made.
        """
        if not self.public_urls:
            return None
        chart = self._client(config, width, height)
        long_url = chart.get_url()
        if len(long_url) <= MAX_URL_LENGTH:
            return long_url
        try:
            return chart.get_short_url()
        except Exception as exc:  # same contract as png()
            raise self._unavailable(exc) from exc
