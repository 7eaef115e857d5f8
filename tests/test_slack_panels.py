"""Every panel through /codex, end to end: a signed slash command to the served app, a real Prometheus
holding the synthetic fleet, the bundled chart renderer, and the Slack emulator receiving the answer.

Each answer must show the figures and rows the same request gives straight through ``Panels`` (and,
for a few, the generator's ground truth), the exact window, and its chart as an uploaded PNG.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from chart_fixtures import chart_renderer, read_png  # noqa: F401 - fixture
from prometheus_fleet import Fleet, free_port
from slack_emulator import Call, ServedApp, SlackEmulator, blocks_of, build_bot

from codex_bot.charts.renderer import HEIGHT, WIDTH, ChartRenderer
from codex_bot.commands.deps import CommandDeps
from codex_bot.delivery.console import blocks_to_text
from codex_bot.formatting import humanize, humanize_change
from codex_bot.metrics.client import PrometheusClient
from codex_bot.panels.catalog import PANELS, find_panel
from codex_bot.panels.cost import load_prices
from codex_bot.panels.request import parse_request
from codex_bot.panels.result import PanelResult
from codex_bot.panels.service import Panels
from codex_bot.slack.blocks import label, table_text, unit_of, window

pytestmark = pytest.mark.prometheus

TZ = ZoneInfo("Europe/Berlin")
LEAD = "U0LEAD"  # may see per-user figures
CHANNEL = "C0GENERAL"


@dataclass
class Setup:
    slack: SlackEmulator
    bot: ServedApp
    deps: CommandDeps
    panels: Panels
    at: datetime

    def ask(self, text: str, name: str, **fields: str) -> Call:
        """Run ``/codex text`` and return its private answer (the response_url post named ``name``)."""
        url = self.slack.response_url(name)
        response = self.bot.command(text, url, user_id=fields.pop("user_id", LEAD), **fields)
        assert response.status_code == 200
        calls = self.slack.wait_for(lambda: [c for c in self.slack.calls_to("response_url") if c.path in url])
        assert calls, f"no answer to /codex {text}"
        return calls[0]

    def direct(self, text: str) -> PanelResult:
        return self.panels.run(parse_request(text), self.at)

    def uploaded_png(self, filename: str) -> tuple[bytes, str]:
        """The bytes uploaded as ``filename`` and the conversation it was shared to (files_upload_v2's 3 steps)."""
        asked = [c for c in self.slack.calls_to("files.getUploadURLExternal") if c.body["filename"] == filename]
        assert asked, f"no upload of {filename}"
        file_id = asked[-1].answer["file_id"]
        completed = [c for c in self.slack.calls_to("files.completeUploadExternal") if file_id in c.body["files"]]
        return self.slack.uploads[file_id], completed[0].body["channel_id"]


@pytest.fixture(scope="module")
def setup(fleet: Fleet, chart_renderer: ChartRenderer) -> Iterator[Setup]:  # noqa: F811
    at = fleet.align(fleet.end)
    with SlackEmulator() as slack:
        app, deps = build_bot(
            slack,
            prometheus_url=fleet.prometheus_url,
            quickchart_url=chart_renderer.base_url,
            timezone=TZ.key,
            personal_data_users=[LEAD],
        )
        deps.clock = lambda: at
        served = ServedApp(app)
        panels = Panels(PrometheusClient(fleet.prometheus_url), TZ, load_prices())
        yield Setup(slack, served, deps, panels, at)
        served.stop()


def shown(call: Call) -> str:
    return blocks_to_text(blocks_of(call.body))


def assert_shows(text: str, result: PanelResult) -> None:
    """The reply ``text`` carries every figure with its change, every row (as rendered), and the window."""
    for key, value in result.figures.items():
        unit = unit_of(key, result)
        assert f"{label(key)}: {humanize(value, unit)}" in text, key
        if result.previous.get(key) is not None and value is not None:
            assert humanize_change(value, result.previous[key], unit) in text, key
    if result.rows:
        assert table_text(result) in text
    assert window(result, TZ) in text


@pytest.mark.parametrize("name", [panel.name for panel in PANELS])
def test_each_panel_answers_with_the_right_figures_and_its_chart(setup: Setup, name: str):
    answer = setup.ask(f"{name} 7d", name)
    expected = setup.direct(f"{name} 7d")
    assert expected.has_data, f"the fleet should give {name} data"
    assert answer.body["response_type"] == "ephemeral"
    assert_shows(shown(answer), expected)

    if expected.chart_kind == "none":
        assert "Chart" not in shown(answer)
        return
    assert "Chart sent to you in a direct message" in shown(answer)
    data, shared_to = setup.uploaded_png(f"{name}-7d.png")
    direct = [c.answer["channel"]["id"] for c in setup.slack.calls_to("conversations.open") if c.body["users"] == LEAD]
    assert shared_to == direct[-1] != CHANNEL, "a private answer's chart goes to the asker's DM, not the channel"
    png = read_png(data)
    assert (png.width, png.height) == (WIDTH, HEIGHT) and len(set(png.pixels[::53])) > 20


def test_tokens_and_sessions_equal_the_ground_truth(fleet: Fleet, setup: Setup):
    start = setup.at - timedelta(days=7)
    truth = {
        "input": fleet.truth.total("input_tokens", start, setup.at),
        "output": fleet.truth.total("output_tokens", start, setup.at),
    }
    text = shown(setup.ask("tokens 7d", "truth-tokens"))
    for key, value in {**truth, "total": truth["input"] + truth["output"]}.items():
        assert f"{label(key)}: {humanize(value, 'tokens')}" in text
    sessions = shown(setup.ask("sessions 7d", "truth-sessions"))
    assert f"Conversations: {humanize(fleet.truth.total('conversations', start, setup.at), 'count')}" in sessions
    assert f"Model calls: {humanize(fleet.truth.total('model_calls', start, setup.at), 'count')}" in sessions


def test_a_filtered_answer_equals_the_ground_truth(fleet: Fleet, setup: Setup):
    start = setup.at - timedelta(days=1)
    by_model = fleet.truth.total("input_tokens", start, setup.at, by=("model",))
    model = max(by_model, key=by_model.get)[0]  # type: ignore[arg-type]
    text = shown(setup.ask(f"tokens 24h model={model}", "filtered"))
    expected = fleet.truth.total("input_tokens", start, setup.at, where={"model": model})
    assert f"Input: {humanize(expected, 'tokens')}" in text and f"model={model}" in text


def test_unknown_filter_value_suggests_existing_ones(fleet: Fleet, setup: Setup):
    model = next(iter(fleet.truth.total("model_calls", fleet.start, fleet.end, by=("model",))))[0]
    text = shown(setup.ask(f"models 7d model={model}x", "bad-value"))
    assert f"Did you mean {model}" in text


def test_public_answer_posts_in_the_channel_with_its_chart(setup: Setup):
    setup.bot.command("models 7d public", setup.slack.response_url("public"), user_id=LEAD)
    posted = setup.slack.wait_calls("chat.postMessage")[-1]
    assert posted.body["channel"] == CHANNEL
    assert_shows(blocks_to_text(blocks_of(posted.body)), setup.direct("models 7d"))
    done = setup.slack.wait_for(
        lambda: [c for c in setup.slack.calls_to("files.completeUploadExternal") if c.body.get("channel_id") == CHANNEL]
    )
    assert done and json.loads(done[0].body["files"])[0]["title"] == f"{find_panel('models').title} · 7d"


def test_rate_limited_public_post_is_retried(setup: Setup):
    before = len(setup.slack.calls_to("chat.postMessage"))
    setup.slack.rate_limit("chat.postMessage", times=1, retry_after=0)
    setup.bot.command("tools 24h public", setup.slack.response_url("ratelimited"), user_id=LEAD)
    calls = setup.slack.wait_calls("chat.postMessage", before + 2)[before:]
    assert [c.status for c in calls] == [429, 200]


def test_public_post_refused_by_slack_is_explained_privately(setup: Setup):
    setup.slack.fail("chat.postMessage", "not_in_channel")
    answer = setup.ask("tools 24h public", "refused")
    assert "invite me with `/invite @codex-bot`" in shown(answer)


def test_a_range_without_data_says_so_without_a_chart(fleet: Fleet, setup: Setup):
    uploads = len(setup.slack.calls_to("files.completeUploadExternal"))
    setup.deps.clock = lambda: fleet.align(fleet.start - timedelta(days=2))
    try:
        text = shown(setup.ask("usage 24h", "no-data"))
    finally:
        setup.deps.clock = lambda: setup.at
    assert "No data in this range." in text and "Chart" not in text
    assert len(setup.slack.calls_to("files.completeUploadExternal")) == uploads


def test_renderer_down_still_answers_with_the_figures(fleet: Fleet, setup: Setup):
    with SlackEmulator() as slack:
        app, deps = build_bot(
            slack,
            prometheus_url=fleet.prometheus_url,
            timezone=TZ.key,
            quickchart_url=f"http://127.0.0.1:{free_port()}",
        )
        deps.clock = lambda: setup.at
        served = ServedApp(app)
        try:
            served.command("usage 7d", slack.response_url(), user_id=LEAD)
            text = shown(slack.wait_calls("response_url")[0])
        finally:
            served.stop()
    assert_shows(text, setup.direct("usage 7d"))
    assert "Chart unavailable" in text and not slack.calls_to("files.getUploadURLExternal")
