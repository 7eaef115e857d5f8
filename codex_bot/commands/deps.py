"""What the command handlers need, built once at start-up."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from codex_bot.charts.renderer import ChartRenderer
from codex_bot.commands.access import AccessPolicy
from codex_bot.metrics.client import PrometheusClient
from codex_bot.panels.cost import load_prices
from codex_bot.panels.request import PanelRequest
from codex_bot.panels.result import PanelResult
from codex_bot.panels.service import Panels
from codex_bot.settings import Settings
from codex_bot.slack.replies import PanelReplies, source_label
from codex_bot.slack.transport import Transport


class PanelRunner(Protocol):
    def run(self, request: PanelRequest, at: datetime | None = None) -> PanelResult: ...


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class CommandDeps:
    panels: PanelRunner
    replies: PanelReplies
    transport: Transport
    access: AccessPolicy
    clock: Callable[[], datetime] = utc_now  # "now" for ranges; pinned by tests and demos


def build_deps(settings: Settings, transport: Transport) -> CommandDeps:
    """Everything the commands need, configured from ``settings``; replies go out through ``transport``."""
    panels = Panels(PrometheusClient.from_settings(settings), settings.tz, load_prices(settings.prices_file))
    replies = PanelReplies(
        settings.tz, ChartRenderer.from_settings(settings), source=source_label(settings.prometheus_url)
    )
    return CommandDeps(panels, replies, transport, AccessPolicy.from_settings(settings))
