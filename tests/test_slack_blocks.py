"""Panel replies rendered without Slack: Block Kit content for every panel, charts, notes, and no data."""

from __future__ import annotations

import json
from dataclasses import replace
from zoneinfo import ZoneInfo

import pytest
from chart_fixtures import chart_renderer, every_panel, read_png  # noqa: F401 - fixture
from prometheus_fleet import free_port

from codex_bot.charts.renderer import ChartRenderer
from codex_bot.delivery.console import blocks_to_text
from codex_bot.formatting import humanize, humanize_change
from codex_bot.panels.catalog import find_panel
from codex_bot.slack.blocks import label, panel_blocks, table_text, unit_of, when
from codex_bot.slack.replies import PanelReplies, chart_filename, source_label

TZ = ZoneInfo("Europe/Berlin")
SOURCE = "Prometheus at 127.0.0.1:9090"


def panel(name: str):
    """The fixture result of ``name`` with the units the panels service attaches."""
    result = every_panel()[name]
    result.units = find_panel(name).units()
    return result


def rendered(blocks) -> str:
    return json.dumps([b.to_dict() for b in blocks], ensure_ascii=False)  # to_dict() validates Slack's limits


@pytest.mark.parametrize("name", sorted(every_panel()))
def test_every_panel_renders_figures_rows_and_exact_context(name: str):
    result = panel(name)
    result.previous = {key: value * 0.8 for key, value in result.figures.items() if value}
    blocks = panel_blocks(result, TZ, source=SOURCE)
    text = rendered(blocks)

    assert blocks[0].to_dict()["text"]["text"] == f"{result.title} · 7d"
    for key, value in result.figures.items():
        unit = result.units[key]
        assert f"*{label(key)}*\\n{humanize(value, unit)}" in text
        assert humanize_change(value, result.previous[key], unit) in text
    for row in result.rows[:15]:
        assert str(next(iter(row.values()))) in text
    assert f"{when(result.range.start, TZ)} → {when(result.range.end, TZ)} Europe/Berlin" in text
    assert SOURCE in text


def test_units_and_labels():
    success = panel("success")
    assert [unit_of(k, success) for k in success.figures] == ["percent", "count", "count"]
    assert unit_of("unknown", success) == "percent"
    assert [label(k) for k in ("cache_rate_pct", "p95_seconds", "model_calls")] == ["Cache rate", "P95", "Model calls"]


def test_breakdown_table_is_aligned_and_capped():
    users = panel("users")
    rows = users.rows
    lines = table_text(users, limit=5).splitlines()
    assert lines[0].split() == ["user", "prompts", "conversations", "tokens"]
    assert len(lines) == 1 + 5 + 1 and lines[-1] == f"… and {len(rows) - 5} more"
    assert len({len(line) for line in lines[1:-1]}) == 1, "rows of one width (numbers right-aligned)"
    assert lines[1].split()[-1] == humanize(rows[0]["tokens"], "tokens")


def test_notes_and_estimates_are_shown():
    text = rendered(panel_blocks(panel("cost"), TZ, source=SOURCE, notes=["Chart unavailable: x"]))
    assert ":warning: estimate · Chart unavailable: x" in text


def test_no_data_says_so_and_still_gives_the_window():
    empty = replace(panel("tokens"), figures={"input": 0, "output": 0, "total": 0})
    text = blocks_to_text([b.to_dict() for b in panel_blocks(empty, TZ, source=SOURCE)])
    assert "No data in this range." in text and "Europe/Berlin" in text and "Input" not in text


def test_filters_appear_in_the_context_line():
    result = replace(panel("tokens"), filters={"model": "gpt-5-codex"})
    assert "`model=gpt-5-codex`" in rendered(panel_blocks(result, TZ, source=SOURCE))


def test_source_label_hides_credentials_and_paths():
    assert source_label("https://bob:secret@prom.example:9443/prometheus") == "Prometheus at prom.example:9443"
    assert chart_filename(panel("model-tokens")) == "model-tokens-7d.png"


def test_compose_uploads_a_real_png_per_chartable_panel(chart_renderer: ChartRenderer):  # noqa: F811
    replies = PanelReplies(TZ, chart_renderer, source=SOURCE)
    message = replies.compose(panel("usage"))
    (chart,) = message.charts
    png = read_png(chart.png)
    assert (png.width, png.height) == (800, 400) and len(set(png.pixels[::97])) > 5
    assert chart.filename == "usage-7d.png" and message.text.startswith("Token usage over time (7d)")
    assert not any(b.type == "image" for b in message.blocks)


def test_compose_uses_an_image_block_when_chart_urls_are_public(chart_renderer: ChartRenderer):  # noqa: F811
    public = ChartRenderer(chart_renderer.base_url, public_urls=True)
    message = PanelReplies(TZ, public, source=SOURCE).compose(panel("models"))
    images = [b.to_dict() for b in message.blocks if b.type == "image"]
    assert not message.charts and images[0]["image_url"].startswith(chart_renderer.base_url + "/chart")


def test_renderer_down_keeps_the_text_with_a_short_note():
    down = ChartRenderer(f"http://127.0.0.1:{free_port()}", timeout=2)
    message = PanelReplies(TZ, down, source=SOURCE).compose(panel("tokens"))
    text = blocks_to_text(message.blocks_json())
    assert not message.charts and "Chart unavailable" in text and humanize(4_550_000, "tokens") in text


def test_data_and_typed_text_are_escaped_in_mrkdwn():
    users = replace(panel("users"), filters={"model": "<!here>"})
    users.rows = [{**users.rows[0], "user": "<@U0BOSS> & co"}]
    text = rendered(panel_blocks(users, TZ, source=SOURCE, notes=["unpriced: <b>"]))
    assert "<!here>" not in text and "<@U0BOSS>" not in text and "<b>" not in text
    assert "&lt;@U0BOSS&gt; &amp; co" in text and "`model=&lt;!here&gt;`" in text and "&lt;b&gt;" in text
