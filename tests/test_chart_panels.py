"""Real panel answers (synthetic fleet in a real Prometheus) → charts through the bundled renderer, and
``codex-bot query --chart``, including a renderer outage where the answer still goes out."""

from __future__ import annotations

import socket
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from chart_fixtures import chart_renderer, read_png  # noqa: F401 - fixture
from prometheus_fleet import Fleet

from codex_bot.charts.renderer import HEIGHT, WIDTH, ChartRenderer
from codex_bot.charts.spec import chart_config
from codex_bot.cli import main as codex_bot
from codex_bot.cli.query import answer
from codex_bot.panels.catalog import PANELS
from codex_bot.panels.request import parse_request
from codex_bot.panels.result import PanelResult
from codex_bot.settings import load_settings

pytestmark = pytest.mark.prometheus


@pytest.fixture(scope="module")
def at(fleet: Fleet) -> datetime:
    return fleet.align(fleet.end)


@pytest.fixture(scope="module")
def answers(fleet: Fleet, at: datetime) -> dict[str, PanelResult]:
    settings = load_settings(prometheus_url=fleet.prometheus_url, timezone="Europe/Berlin")
    return {panel.name: answer(settings, parse_request([panel.name, "7d"]), at, None) for panel in PANELS}


def test_every_charted_panel_renders_from_real_answers(answers, chart_renderer):  # noqa: F811
    tz = load_settings(timezone="Europe/Berlin").tz
    configs = {name: chart_config(result, tz) for name, result in answers.items()}
    charted = {name: config for name, config in configs.items() if config is not None}
    assert set(charted) == {panel.name for panel in PANELS if panel.chart_kind != "none"}
    images = chart_renderer.png_many(list(charted.values()))
    assert all(isinstance(image, bytes) for image in images), images
    for name, image in zip(charted, images):
        png = read_png(image)
        assert (png.width, png.height) == (WIDTH, HEIGHT), name
        assert len(set(png.pixels)) > 100, name
    assert len(set(images)) == len(images)


def test_the_planted_p95_spike_is_shaded_on_its_chart(fleet, answers):
    spike = fleet.incident("p95-spike")
    p95 = answers["p95"]
    window = (spike.start, spike.end)
    config = chart_config(p95, load_settings().tz, threshold=p95.figures["p95_seconds"], firing=window)
    found = {d["label"]: d["data"] for d in config["data"]["datasets"]}
    step = timedelta(seconds=p95.range.step_seconds)
    times = [p95.range.start + (i + 1) * step for i in range(len(found["firing"]))]  # the panel's step ends
    assert len(times) == len(config["data"]["labels"])
    shaded = [t for t, hit in zip(times, found["firing"]) if hit]
    assert shaded and all(spike.start - step / 2 <= t <= spike.end + step / 2 for t in shaded)
    inside = [v for v, hit in zip(found["p95"], found["firing"]) if hit and v is not None]
    outside = sorted(v for v, hit in zip(found["p95"], found["firing"]) if not hit and v is not None)
    assert max(inside) > outside[len(outside) // 2]  # the shade sits on the spike


def query(fleet: Fleet, at: datetime, *words: str) -> int:
    return codex_bot(["query", *words, "--at", str(int(at.timestamp())), "--prometheus", fleet.prometheus_url])


def test_query_writes_the_chart(fleet, at, chart_renderer, tmp_path, monkeypatch, capsys):  # noqa: F811
    monkeypatch.setenv("CODEX_BOT_QUICKCHART_URL", chart_renderer.base_url)
    out = tmp_path / "usage.png"
    assert query(fleet, at, "usage", "7d", "--chart", str(out)) == 0
    png = read_png(out.read_bytes())
    assert (png.width, png.height) == (WIDTH, HEIGHT) and len(set(png.pixels)) > 100
    captured = capsys.readouterr()
    assert "Token usage over time" in captured.out and f"chart written to {out}" in captured.err


def test_query_with_the_renderer_down_still_answers(fleet, at, tmp_path, monkeypatch, capsys):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("CODEX_BOT_QUICKCHART_URL", f"http://127.0.0.1:{port}")
    out = tmp_path / "models.png"
    assert query(fleet, at, "models", "7d", "--chart", str(out)) == 1
    captured = capsys.readouterr()
    assert "Model calls by model" in captured.out  # the text went out
    assert "Chart unavailable" in captured.err and "cannot connect" in captured.err
    assert "deploy/chart-renderer" in captured.err and not out.exists()


def test_query_chart_of_a_panel_without_one(fleet, at, tmp_path: Path, capsys):
    out = tmp_path / "tokens.png"
    assert query(fleet, at, "cached", "7d", "--chart", str(out)) == 0
    assert "has no chart" in capsys.readouterr().err and not out.exists()


def test_public_renderer_urls_for_real_answers(answers, chart_renderer):  # noqa: F811
    public = ChartRenderer(chart_renderer.base_url, public_urls=True)
    urls = [public.url(config) for config in (chart_config(answers[p], load_settings().tz) for p in ("usage", "tools"))]
    assert all(url and url.startswith(chart_renderer.base_url) for url in urls)
