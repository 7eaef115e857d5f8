"""Every panel's chart through the bundled renderer (real Chart.js + skia), and renderer failures."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from zoneinfo import ZoneInfo

import pytest
import requests
from chart_fixtures import WEEK, chart_renderer, every_panel, hourly, read_png  # noqa: F401 - fixture
from loopback import InThread

from codex_bot.charts import palette
from codex_bot.charts.renderer import MAX_URL_LENGTH, ChartRenderer
from codex_bot.charts.spec import chart_config
from codex_bot.errors import ChartUnavailable
from codex_bot.settings import SettingsError, load_settings

BERLIN = ZoneInfo("Europe/Berlin")
PANELS = every_panel()
CHARTED = {name: chart_config(r, BERLIN) for name, r in PANELS.items()}
CHARTED = {name: config for name, config in CHARTED.items() if config is not None}
WIDTH, HEIGHT = 600, 300


def rgba(hex_colour: str) -> bytes:
    return bytes.fromhex(hex_colour[1:]) + b"\xff"


@pytest.fixture(scope="module")
def rendered(chart_renderer: ChartRenderer) -> dict[str, bytes]:  # noqa: F811
    images = chart_renderer.png_many(list(CHARTED.values()), WIDTH, HEIGHT)
    assert all(isinstance(image, bytes) for image in images), images
    return dict(zip(CHARTED, images))  # type: ignore[arg-type]


def test_every_charted_panel_is_covered():
    assert len(CHARTED) == 14 and set(PANELS) - set(CHARTED) == {"cached"}


@pytest.mark.parametrize("panel", sorted(CHARTED))
def test_each_chart_is_a_real_png(rendered, panel):
    image = read_png(rendered[panel])
    assert (image.width, image.height) == (WIDTH, HEIGHT)
    assert len(set(image.pixels)) > 100  # text, axes, data: not a blank or single-colour canvas
    assert image.pixels[0] == b"\xff\xff\xff\xff"  # the background plugin filled the corner white


def test_charts_differ_between_panels(rendered):
    assert len(set(rendered.values())) == len(rendered)


def test_series_are_drawn_in_their_palette_colours(rendered):
    pixels = set(read_png(rendered["usage"]).pixels)
    assert {rgba(palette.colour("input")), rgba(palette.colour("output"))} <= pixels


def test_alert_overlays_are_drawn(chart_renderer):  # noqa: F811
    window = (WEEK.end - timedelta(hours=30), WEEK.end - timedelta(hours=20))
    config = chart_config(PANELS["p95"], BERLIN, threshold=2.5, firing=window)
    pixels = set(read_png(chart_renderer.png(config, WIDTH, HEIGHT)).pixels)
    assert {rgba(palette.FIRING_FILL), rgba(palette.THRESHOLD)} <= pixels
    plain = set(read_png(chart_renderer.png(CHARTED["p95"], WIDTH, HEIGHT)).pixels)
    assert rgba(palette.FIRING_FILL) not in plain


def test_public_urls_serve_the_chart(chart_renderer):  # noqa: F811
    public = ChartRenderer(chart_renderer.base_url, public_urls=True, timeout=10)
    short_config = CHARTED["models"]
    many_lines = replace(PANELS["p95"], series=[hourly(f"tool{i}", 1 + i) for i in range(6)])
    long_config = chart_config(many_lines, BERLIN)
    direct, shortened = public.url(short_config), public.url(long_config)
    assert direct.startswith(chart_renderer.base_url + "/chart?c=") and len(direct) <= MAX_URL_LENGTH
    assert "/chart/render/" in shortened and len(shortened) < 100
    for url in (direct, shortened):
        answer = requests.get(url, timeout=10)
        assert answer.status_code == 200 and read_png(answer.content).width == 800
    assert chart_renderer.url(short_config) is None  # public URLs off: callers upload the PNG


def test_renderer_rejects_a_bad_config_with_its_reason(chart_renderer):  # noqa: F811
    with pytest.raises(ChartUnavailable) as caught:
        chart_renderer.png({"data": {}})
    assert "chart config must be an object with a type" in str(caught.value)


def test_renderer_down_is_chart_unavailable():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    down = ChartRenderer(f"http://127.0.0.1:{port}", timeout=2)
    with pytest.raises(ChartUnavailable, match="cannot connect"):
        down.png(CHARTED["models"])
    results = down.png_many([CHARTED["models"], CHARTED["tools"]])
    assert [type(r) for r in results] == [ChartUnavailable, ChartUnavailable]


class _Stub(BaseHTTPRequestHandler):
    """A renderer that hangs until ``server.answer`` is set, then answers 200 with text instead of a PNG."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["content-length"]))
        if not self.server.answer.wait(5):  # type: ignore[attr-defined]
            return  # hang: the client gives up first
        self.send_response(200)
        self.send_header("content-type", "text/html")
        self.end_headers()
        self.wfile.write(b"<html>captive portal</html>")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def stub() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Stub)
    server.answer = threading.Event()  # type: ignore[attr-defined]
    with InThread(server, "chart-stub"):
        yield server
        server.answer.set()  # type: ignore[attr-defined]  # release handlers still waiting, then stop


def test_a_non_png_answer_is_chart_unavailable(stub):
    stub.answer.set()
    with pytest.raises(ChartUnavailable, match="not a PNG"):
        ChartRenderer(f"http://127.0.0.1:{stub.server_port}").png(CHARTED["models"])


def test_a_slow_renderer_times_out(stub):
    with pytest.raises(ChartUnavailable, match=r"no answer within 0.3 s"):
        ChartRenderer(f"http://127.0.0.1:{stub.server_port}", timeout=0.3).png(CHARTED["models"])


def test_renderer_from_settings():
    renderer = ChartRenderer.from_settings(
        load_settings(quickchart_url="https://charts.example.org:8443", chart_public_urls=True, chart_timeout=3)
    )
    assert (renderer.scheme, renderer.host, renderer.public_urls, renderer.timeout) == (
        "https",
        "charts.example.org:8443",
        True,
        3,
    )
    with pytest.raises(SettingsError, match="CODEX_BOT_QUICKCHART_URL"):
        ChartRenderer("charts.example.org/qc")
