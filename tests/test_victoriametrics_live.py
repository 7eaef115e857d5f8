"""Live path on VictoriaMetrics: events POSTed to ``codex-bot ingest``, scraped every second by a real
``victoria-metrics`` through ``-promscrape.config``, then read by the bot's own panels as of "now"."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from prometheus_fleet import VictoriaMetricsServer, require_victoriametrics
from promhelpers import ingest_server, post_samples

from codex_bot.metrics.client import PrometheusClient
from codex_bot.panels.cost import load_prices
from codex_bot.panels.request import PanelRequest
from codex_bot.panels.service import Panels

UTC = UTC


@pytest.fixture
def scraping_vm(tmp_path: Path) -> Iterator[str]:
    """Ingest on a free port, scraped every second by VictoriaMetrics; yields VictoriaMetrics' URL."""
    with ingest_server() as ingest:
        target = ingest.url.removeprefix("http://")
        server = VictoriaMetricsServer(tmp_path / "data", tmp_path, require_victoriametrics(), scrape=target)
        url = server.start()
        try:
            post_samples(ingest.url)
            yield url
        finally:
            server.stop()


def wait_until_scraped(client: PrometheusClient, promql: str, expected: float, timeout: float = 30) -> None:
    """Poll as of "now" with the bot's client (which asks VictoriaMetrics not to hold back its newest 30 s)."""
    deadline = time.monotonic() + timeout
    while (got := [s.value for s in client.query(promql, datetime.now(UTC))]) != [expected]:
        assert time.monotonic() < deadline, f"{promql} = {got} on VictoriaMetrics, expected {expected}"
        time.sleep(0.25)


def next_minute_passed() -> datetime:
    """Sleep past the next whole minute (panel windows end on one) plus two scrapes; return that minute.
    (Up to a minute of waiting: events posted now are in a window only once such a minute has passed.)"""
    now = datetime.now(UTC)
    minute = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
    time.sleep((minute - now).total_seconds() + 2.5)
    return minute


def test_live_events_show_up_exactly_in_panels_on_victoriametrics(scraping_vm: str) -> None:
    client = PrometheusClient(scraping_vm, timeout=30)
    try:
        wait_until_scraped(client, 'sum(codex_tool_decisions_total{decision="approved",source="config"})', 1)
        at = next_minute_passed()
        panels = Panels(client, ZoneInfo("UTC"), load_prices())
        tokens, sessions, success, usage = panels.run_many(
            [PanelRequest(name, "1h") for name in ("tokens", "sessions", "success", "usage")], at
        )
    finally:
        client.close()
    # The counters were born at zero inside the window, and VictoriaMetrics' increase() does not
    # extrapolate to the window's ends: every figure is the exact count of what was posted.
    assert tokens.figures == {"input": 2700, "output": 42, "total": 2742}
    assert sessions.figures == {"conversations": 1, "model_calls": 2}
    assert success.figures == {"success_rate_pct": 100.0, "requests": 2, "failed": 0}
    per_step = {series.name: sum(value for _, value in series.points) for series in usage.series}
    assert per_step == {"input": 2700, "output": 42}, "the per-step series add up to the same counts"
