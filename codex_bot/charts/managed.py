"""Which chart renderer ``codex-bot serve`` uses, said once at start-up; the bundled one runs as a child.

* ``CODEX_BOT_QUICKCHART_URL`` set: that renderer.
* Not set, and something already answers at the default address (the bundled renderer started by
  hand, as README once said): that one.
* Not set, and the bundled renderer is installed (``deploy/chart-renderer/node_modules``, ``node``
  on PATH): it is started as a child of the bot on a free local port and stopped with it.
* Otherwise: answers are text only, and the log says how to get charts.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import requests

from codex_bot.charts.local_renderer import DEFAULT_DIR, LocalRenderer, RendererStartError
from codex_bot.settings import Settings

log = logging.getLogger(__name__)


def installed(directory: Path = DEFAULT_DIR) -> bool:
    """The bundled renderer can start without installing anything."""
    return (directory / "node_modules" / "chart.js").is_dir() and shutil.which("node") is not None


def _answers(url: str) -> bool:
    try:
        return requests.get(url.rstrip("/") + "/healthcheck", timeout=1).ok
    except requests.RequestException:
        return False


def start_renderer(settings: Settings, directory: Path = DEFAULT_DIR) -> tuple[Settings, LocalRenderer | None]:
    """The settings to run with (``quickchart_url`` pointing at the renderer in use) and the child
    renderer to stop at exit (None when the bot did not start one)."""
    if "quickchart_url" in settings.model_fields_set:
        log.info("charts: rendered by %s (CODEX_BOT_QUICKCHART_URL)", settings.quickchart_url)
        return settings, None
    if _answers(settings.quickchart_url):
        log.info("charts: rendered by the renderer already running at %s", settings.quickchart_url)
        return settings, None
    if not installed(directory):
        log.warning(
            "charts: none (no CODEX_BOT_QUICKCHART_URL, and the bundled renderer in %s is not installed:"
            " run `make setup`, or `npm ci` there with Node.js 18+); answers are text only",
            directory,
        )
        return settings, None
    child = LocalRenderer(directory)
    try:
        url = child.start()
    except RendererStartError as exc:
        log.warning("charts: none, answers are text only: %s", exc)
        return settings, None
    log.info(
        "charts: rendered by the bundled renderer at %s (pid %s, started by codex-bot, stopped with it)", url, child.pid
    )
    return settings.model_copy(update={"quickchart_url": url}), child
