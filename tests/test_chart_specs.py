"""Chart.js configs from hand-built panel results: structure, labels, colours, overlays, empty results."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from chart_fixtures import WEEK, every_panel, result, shares

from codex_bot.charts import palette
from codex_bot.charts.scales import time_labels
from codex_bot.charts.spec import chart_config
from codex_bot.formatting import humanize
from codex_bot.panels.result import Series

BERLIN = ZoneInfo("Europe/Berlin")
PANELS = every_panel()


def config(panel: str, **kwargs: object) -> dict:
    chart = chart_config(PANELS[panel], BERLIN, **kwargs)  # type: ignore[arg-type]
    assert chart is not None
    return chart


def datasets(chart: dict) -> dict[str, dict]:
    return {d["label"]: d for d in chart["data"]["datasets"]}


@pytest.mark.parametrize("panel", sorted(p for p, r in PANELS.items() if r.chart_kind != "none"))
def test_every_chart_is_plain_json_with_title_and_range(panel):
    chart = config(panel)
    assert json.loads(json.dumps(chart, allow_nan=False)) == chart  # no functions, no NaN
    title = chart["options"]["plugins"]["title"]["text"]
    assert PANELS[panel].title in title and "7d" in title
    assert "Europe/Berlin" in chart["options"]["plugins"]["subtitle"]["text"]
    assert chart["options"]["animation"] is False


def test_token_figures_are_one_bar_split_into_input_and_output():
    tokens = PANELS["tokens"].figures
    chart = config("tokens")
    assert chart["type"] == "bar" and chart["options"]["indexAxis"] == "y"
    found = datasets(chart)
    assert list(found) == [
        f"input {humanize(tokens['input'], 'tokens')}",
        f"output {humanize(tokens['output'], 'tokens')}",
    ]
    assert [d["data"] for d in found.values()] == [[tokens["input"]], [tokens["output"]]]
    assert chart["options"]["scales"]["x"]["stacked"] and chart["options"]["scales"]["y"]["stacked"]


def test_token_series_are_stacked_bars_over_time():
    usage = PANELS["usage"]
    chart = config("usage")
    found = datasets(chart)
    assert chart["type"] == "bar" and list(found) == ["input", "output"]
    assert len(chart["data"]["labels"]) == len(usage.series[0].points)
    assert found["input"]["data"] == [v for _, v in usage.series[0].points]
    assert chart["options"]["scales"]["y"]["stacked"] is True
    assert chart["options"]["scales"]["y"]["title"]["text"] == "tokens"


def test_token_types_and_models_keep_their_colour_across_panels():
    by_figures = {label.split()[0]: d["backgroundColor"] for label, d in datasets(config("tokens")).items()}
    by_series = {label: d["backgroundColor"] for label, d in datasets(config("usage")).items()}
    assert by_figures == by_series == {"input": palette.colour("input"), "output": palette.colour("output")}

    def model_colours(chart: dict) -> dict[str, str]:
        names = [label.split(" · ")[0] for label in chart["data"]["labels"]]
        return dict(zip(names, chart["data"]["datasets"][0]["backgroundColor"]))

    doughnut, bars = model_colours(config("models")), model_colours(config("cost"))
    assert doughnut == bars and len(set(doughnut.values())) == len(doughnut) == 4


def test_colours_are_distinct_within_a_chart_even_when_names_collide():
    taken = palette.colour("alpha")
    twin = next(f"user{i}" for i in range(10_000) if palette.colour(f"user{i}") == taken)
    first, second = palette.colours(["alpha", twin])
    assert first == taken and second != taken
    assert palette.colours([twin]) == [taken]  # alone, the name keeps its own colour


def test_doughnut_labels_carry_value_and_share():
    rows = PANELS["terminals"].rows
    chart = config("terminals")
    total = sum(r["conversations"] for r in rows)
    first = rows[0]
    share = 100 * first["conversations"] / total
    expected = f"{first['terminal']} · {humanize(first['conversations'], 'count')} ({share:.1f} %)"
    assert chart["type"] == "doughnut" and chart["data"]["labels"][0] == expected


def test_doughnut_gathers_the_long_tail_into_other():
    counts = {f"tool{i}": 100 - i for i in range(12)}
    tools = replace(result("tools", rows=shares("tool", "calls", counts)), chart_kind="doughnut")
    chart = chart_config(tools, BERLIN)
    data = chart["data"]["datasets"][0]["data"]
    assert len(data) == 8 and chart["data"]["labels"][-1].startswith("other · ")
    assert sum(data) == sum(counts.values()) and data[-1] == sum(sorted(counts.values())[:5])
    assert chart["data"]["datasets"][0]["backgroundColor"][-1] == palette.OTHER


def test_top_users_are_horizontal_bars_largest_first():
    users = PANELS["users"].rows
    chart = config("users")
    values = chart["data"]["datasets"][0]["data"]
    assert chart["options"]["indexAxis"] == "y" and len(values) == 10
    assert values == sorted((r["prompts"] for r in users), reverse=True)[:10]
    assert chart["data"]["labels"][0] == f"{users[0]['user']} · {users[0]['prompts']}"
    assert "top 10 of 14" in chart["options"]["plugins"]["subtitle"]["text"]
    assert chart["options"]["scales"]["x"]["title"]["text"] == "prompts"


def test_rows_are_sized_by_the_column_of_the_panel_unit():
    chart = chart_config(replace(PANELS["users"], unit="tokens"), BERLIN)  # users' "tokens" column is in tokens
    assert chart["data"]["datasets"][0]["data"][0] == PANELS["users"].rows[0]["tokens"]
    assert chart["options"]["scales"]["x"]["ticks"]["format"]["notation"] == "compact"


def test_cost_is_in_dollars_and_says_estimate():
    chart = config("cost")
    assert chart["options"]["scales"]["x"]["ticks"]["format"]["currency"] == "USD"
    assert "estimate" in chart["options"]["plugins"]["subtitle"]["text"]
    top = max(PANELS["cost"].rows, key=lambda r: r["usd"])
    assert chart["data"]["labels"][0] == f"{top['model']} · {humanize(top['usd'], 'usd')}"


@pytest.mark.parametrize(("panel", "key"), [("success", "success_rate_pct"), ("cache-rate", "cache_rate_pct")])
def test_a_single_percentage_is_a_half_doughnut_gauge(panel, key):
    percent = PANELS[panel].figures[key]
    chart = config(panel)
    assert chart["options"]["circumference"] == 180
    assert chart["data"]["datasets"][0]["data"] == [percent, pytest.approx(100 - percent)]
    assert chart["data"]["labels"][0].endswith(humanize(percent, "percent"))


def test_value_axes_carry_units():
    assert config("p95")["options"]["scales"]["y"]["ticks"]["format"]["unit"] == "second"
    assert config("conversations")["options"]["scales"]["y"]["title"]["text"] == "conversations"


def test_area_charts_fill_and_stack():
    single = chart_config(replace(PANELS["conversations"], chart_kind="area"), BERLIN)
    assert datasets(single)["conversations"]["fill"] == "origin"
    stacked = chart_config(replace(PANELS["usage"], chart_kind="area"), BERLIN)
    double = datasets(stacked)
    assert (double["input"]["fill"], double["output"]["fill"]) == ("origin", "-1")
    assert stacked["type"] == "line" and stacked["options"]["scales"]["y"]["stacked"] is True


def test_threshold_line_and_firing_window():
    start, end = WEEK.end - timedelta(hours=30), WEEK.end - timedelta(hours=20)
    chart = config("p95", threshold=2.5, firing=(start, end))
    found = datasets(chart)
    line = found[f"threshold {humanize(2.5, 'seconds')}"]
    points = len(chart["data"]["labels"])
    assert line["data"] == [2.5] * points and line["borderDash"]
    shade = found["firing"]
    times = [t for t, _ in PANELS["p95"].series[0].points]
    hits = [t for t, flag in zip(times, shade["data"]) if flag]
    assert hits == [t for t in times if start - timedelta(minutes=30) <= t <= end + timedelta(minutes=30)]
    axis = chart["options"]["scales"][shade["yAxisID"]]
    assert axis["display"] is False and (axis["min"], axis["max"]) == (0, 1)


def test_firing_window_outside_the_range_draws_no_shade():
    chart = config("p95", firing=(WEEK.end + timedelta(days=1), WEEK.end + timedelta(days=2)))
    assert "firing" not in datasets(chart)


def test_overlays_stack_apart_from_stacked_data():
    chart = config("usage", threshold=40_000, firing=(WEEK.start, WEEK.start + timedelta(hours=3)))
    found = datasets(chart)
    assert found["threshold 40.0k"]["stack"] != found["input"].get("stack")
    assert found["firing"]["grouped"] is False  # does not squeeze the data bars


def test_no_data_means_no_chart():
    empty = replace(PANELS["usage"], figures={"total": 0}, series=[Series("input", []), Series("output", [])])
    assert chart_config(empty, BERLIN) is None
    assert chart_config(PANELS["cached"], BERLIN) is None  # chart kind "none"
    zeros = replace(PANELS["models"], rows=[{"model": "gpt-5", "model_calls": 0, "share_pct": None}])
    assert chart_config(zeros, BERLIN) is None


def test_missing_and_nan_points_are_gaps():
    t0 = WEEK.start
    series = [
        Series("p95", [(t0, 1.0), (t0 + timedelta(hours=1), float("nan")), (t0 + timedelta(hours=3), 2.0)]),
        Series("p50", [(t0 + timedelta(hours=2), 0.5)]),
    ]
    chart = chart_config(replace(PANELS["p95"], series=series), BERLIN)
    found = datasets(chart)
    assert found["p95"]["data"][:4] == [1.0, None, None, 2.0] and found["p50"]["data"][:4] == [None, None, 0.5, None]
    json.dumps(chart, allow_nan=False)


def test_steps_without_points_keep_their_place_on_the_time_axis():
    sparse = Series("p95", [(WEEK.start + timedelta(hours=h), 1.0) for h in (1, 100)])  # quiet days in between
    chart = chart_config(replace(PANELS["p95"], series=[sparse]), BERLIN)
    data = chart["data"]["datasets"][0]["data"]
    assert len(data) == len(chart["data"]["labels"]) == WEEK.seconds // WEEK.step_seconds
    assert (data[0], data[99]) == (1.0, 1.0) and data.count(None) == len(data) - 2


def test_filters_and_notes_show_in_the_subtitle():
    chart = chart_config(replace(PANELS["p95"], filters={"model": "gpt-5-codex"}, notes=["partial data"]), BERLIN)
    assert "model=gpt-5-codex" in chart["options"]["plugins"]["subtitle"]["text"]
    assert "partial data" in chart["options"]["plugins"]["subtitle"]["text"]


def test_time_labels_are_wall_clock_in_the_timezone_and_few():
    start = datetime(2025, 3, 29, 23, 0, tzinfo=UTC)  # midnight in Berlin; clocks go forward at 02:00
    labels = time_labels([start + timedelta(minutes=10 * i) for i in range(145)], BERLIN)
    assert len(labels) == 145
    assert [label for label in labels if label] == ["00:00", "06:00", "12:00", "18:00", "00:00"]


def test_week_labels_name_the_days():
    labels = time_labels([t for t, _ in PANELS["usage"].series[0].points], BERLIN)
    shown = [label for label in labels if label]
    assert shown == ["Tue 04", "Wed 05", "Thu 06", "Fri 07", "Sat 08", "Sun 09", "Mon 10"]
