"""Charts out of the box: ``codex-bot serve`` without CODEX_BOT_QUICKCHART_URL runs the bundled renderer as its
child (when installed) and says once which renderer charts come from."""

from __future__ import annotations

import logging
import os
import re
from zoneinfo import ZoneInfo

import pytest
import requests
from chart_fixtures import every_panel
from prometheus_fleet import free_port
from slack_emulator import BOT_TOKEN, SIGNING_SECRET, SlackEmulator
from test_slack_serve import serve, wait_listening

from codex_bot.charts.managed import start_renderer
from codex_bot.charts.renderer import ChartRenderer
from codex_bot.charts.spec import chart_config
from codex_bot.settings import load_settings


def unconfigured(port: int):
    """Settings as if CODEX_BOT_QUICKCHART_URL were not set, with nothing at the default address."""
    settings = load_settings(quickchart_url=f"http://127.0.0.1:{port}")
    settings.model_fields_set.discard("quickchart_url")
    return settings


def test_without_a_renderer_url_serve_starts_the_bundled_one_and_says_so(caplog):
    caplog.set_level(logging.INFO, logger="codex_bot.charts.managed")
    settings, child = start_renderer(unconfigured(free_port()))
    try:
        assert child is not None and settings.quickchart_url == child.url
        png = ChartRenderer.from_settings(settings).png(chart_config(every_panel()["usage"], ZoneInfo("UTC")))
        assert png.startswith(b"\x89PNG")
        lines = [r.getMessage() for r in caplog.records if r.name == "codex_bot.charts.managed"]
        assert lines == [
            f"charts: rendered by the bundled renderer at {child.url} (pid {child.pid}, "
            "started by codex-bot, stopped with it)"
        ]
    finally:
        if child is not None:
            child.stop()
    try:
        requests.get(settings.quickchart_url + "/healthcheck", timeout=1)
        raise AssertionError("the child renderer still answers after stop()")
    except requests.ConnectionError:
        pass


def test_a_configured_renderer_is_used_as_it_is(caplog):
    caplog.set_level(logging.INFO, logger="codex_bot.charts.managed")
    configured = load_settings(quickchart_url="https://charts.example.com")
    settings, child = start_renderer(configured)
    assert child is None and settings.quickchart_url == "https://charts.example.com"
    assert "charts: rendered by https://charts.example.com (CODEX_BOT_QUICKCHART_URL)" in caplog.text


def test_without_the_bundled_renderer_installed_the_log_says_how_to_get_charts(caplog, tmp_path):
    _settings, child = start_renderer(unconfigured(free_port()), directory=tmp_path)
    assert child is None
    assert "answers are text only" in caplog.text and "make setup" in caplog.text


def test_codex_bot_serve_runs_the_bundled_renderer_and_stops_it_with_itself(tmp_path):
    port = free_port()
    with SlackEmulator() as slack:
        env = {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "CODEX_BOT_SLACK_API_URL": slack.base_url,
            "CODEX_BOT_PROMETHEUS_URL": f"http://127.0.0.1:{free_port()}",
        }
        with serve(["--listen", f"127.0.0.1:{port}"], env, tmp_path) as process:
            wait_listening(port, process)
        output = process.stdout.read().decode()
    said = re.findall(r"charts: rendered by the bundled renderer at (http://127\.0\.0\.1:\d+) \(pid (\d+)", output)
    assert len(said) == 1 and output.count("charts: ") == 1, output
    with pytest.raises(ProcessLookupError):  # stopped with serve
        os.kill(int(said[0][1]), 0)
