"""Combined reads against the real Prometheus: each member query's share of one combined read equals
what the query answers alone, a digest reads each counter once for both its periods, and panels of
rows alone ask nothing about the previous period."""

from __future__ import annotations

import threading
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from codex_bot.charts.spec import chart_config
from codex_bot.digests.compose import DigestComposer
from codex_bot.digests.definitions import DigestDefinition
from codex_bot.metrics.client import PrometheusClient, Sample
from codex_bot.metrics.increase import window_increase
from codex_bot.metrics.promql import one_of
from codex_bot.panels.catalog import PANELS, find_panel
from codex_bot.panels.combined import combined_reads
from codex_bot.panels.cost import load_prices
from codex_bot.panels.queries import Increase
from codex_bot.panels.request import PanelRequest
from codex_bot.panels.service import Panels
from codex_bot.telemetry.contract import TOKENS

pytestmark = pytest.mark.prometheus
UTC = ZoneInfo("UTC")


class RecordingClient(PrometheusClient):
    """The real client, noting every instant query's PromQL and every range query's (PromQL, steps)."""

    def __init__(self, url: str) -> None:
        super().__init__(url, timeout=30)
        self.instant: list[str] = []
        self.ranges: list[tuple[str, int]] = []
        self._lock = threading.Lock()

    def query(self, promql: str, at):  # type: ignore[override]
        with self._lock:
            self.instant.append(promql)
        return super().query(promql, at)

    def query_range(self, promql: str, start, end, step_seconds: int):  # type: ignore[override]
        with self._lock:
            self.ranges.append((promql, int((end - start).total_seconds()) // step_seconds + 1))
        return super().query_range(promql, start, end, step_seconds)

    def clear(self) -> None:
        self.instant.clear()
        self.ranges.clear()


@pytest.fixture(scope="module")
def client(fleet):
    client = RecordingClient(fleet.prometheus_url)
    yield client
    client.close()


def as_set(samples: list[Sample]) -> set[tuple[tuple[tuple[str, str], ...], float]]:
    return {(tuple(sorted(s.labels.items())), s.value) for s in samples}


@pytest.mark.parametrize("filters", [{}, {"model": "gpt-5-codex"}])
def test_each_member_gets_what_it_would_have_answered_alone(fleet, client, filters):
    at, seconds = fleet.align(fleet.end), 3 * 86400
    queries = [q for panel in PANELS for q in [*panel.queries.values(), *(s.query for s in panel.series)]]
    reads = combined_reads(queries)
    assert {query.family.name for query in reads} >= {"codex_tokens", "codex_model_calls", "codex_conversations"}
    for query, read in reads.items():
        alone = client.query(query.promql(filters, seconds), at)
        shared = read.answer(query, client.query(read.promql(filters, seconds), at))
        assert alone, query  # a busy fleet: every query has an answer to compare
        assert as_set(shared) == as_set(alone), query


def test_a_combined_read_only_reads_the_values_its_members_fix():
    members = [Increase(TOKENS, (("type", "input"),)), Increase(TOKENS, (("type", "output"),), ("user",))]
    (read,) = set(combined_reads(members).values())
    series = 'codex_tokens_total{model="a\\"b",type=~"input|output"}'
    assert read.promql({"model": 'a"b'}, 3600) == f"sum by (type, user) ({window_increase(series, 3600)})"


def test_one_of_takes_plain_words_only():
    assert one_of("type", ["output", "input", "input"]) == 'type=~"input|output"'
    with pytest.raises(ValueError):
        one_of("type", ["a.*"])


def test_a_digest_reads_each_counter_once_for_both_periods_and_still_equals_the_truth(fleet, client):
    end = fleet.align(fleet.end)
    definition = DigestDefinition(name="daily", channel="#eng", schedule=f"0 {end.hour} * * *", charts=[])
    client.clear()
    digest = DigestComposer(Panels(client, UTC, load_prices()), None).build(definition, end)
    token_reads = [q for q in client.instant if "codex_tokens_total" in q]
    token_ranges = [(q, steps) for q, steps in client.ranges if "codex_tokens_total" in q]
    assert token_reads == [] and len(token_ranges) == 1, (token_reads, token_ranges)
    assert token_ranges[0][1] == 2  # this day and the day before, in one range query of two steps
    assert len(client.instant) + len(client.ranges) <= 10  # prompts, tools and decisions need this day only
    start, before = end - timedelta(days=1), end - timedelta(days=2)
    headline = {h.key: (h.value, h.previous) for h in digest.headline()}
    assert headline["input"] == (
        fleet.truth.total("input_tokens", start, end),
        fleet.truth.total("input_tokens", before, start),
    )
    assert headline["cached_input"][0] == fleet.truth.total("cached_input_tokens", start, end)
    users = {row["user"]: row["tokens"] for row in digest.rows("users")}
    truth = fleet.truth.total("input_tokens", start, end, by=("user",))
    busiest = max(truth, key=truth.get)
    output = fleet.truth.total("output_tokens", start, end, {"user": busiest[0]})
    assert users[busiest[0]] == truth[busiest] + output


def test_a_panel_of_rows_alone_asks_nothing_about_the_previous_period(fleet, client):
    end = fleet.align(fleet.end)
    client.clear()
    result = Panels(client, UTC, load_prices()).run(PanelRequest("users", "1d"), end)
    assert result.previous == {} and result.rows
    assert len(client.instant) == len(find_panel("users").queries)  # the day itself, nothing before


class MovingFrontend(RecordingClient):
    """The real Prometheus behind a query frontend that moves range queries' steps onto its own grid (as
    caching frontends align them to the step): here always 4 minutes early, whatever the hour now."""

    MOVED = timedelta(minutes=4)  # off the 10-minute steps of a day, on the fleet's 2-minute grid

    def query_range(self, promql: str, start, end, step_seconds: int):  # type: ignore[override]
        return super().query_range(promql, start - self.MOVED, end - self.MOVED, step_seconds)


def test_a_frontend_that_moves_the_steps_gets_instant_queries_instead(fleet):
    end = fleet.align(fleet.end)
    client = MovingFrontend(fleet.prometheus_url)
    definition = DigestDefinition(
        name="daily", channel="#eng", schedule=f"0 {end.hour} * * *", charts=[], panels=["tokens", "sessions"]
    )
    digest = DigestComposer(Panels(client, UTC, load_prices()), None).build(definition, end)
    client.close()
    start, before = end - timedelta(days=1), end - timedelta(days=2)
    headline = {h.key: (h.value, h.previous) for h in digest.headline()}
    assert headline["input"] == (
        fleet.truth.total("input_tokens", start, end),
        fleet.truth.total("input_tokens", before, start),
    )
    assert headline["conversations"][1] == fleet.truth.total("conversations", before, start)
    assert any("codex_tokens_total" in q for q in client.instant), (client.instant, client.ranges)  # the fallback ran


def test_a_chart_keeps_the_steps_a_frontend_moved_and_their_figures(fleet):
    end = fleet.align(fleet.end)
    client = MovingFrontend(fleet.prometheus_url)
    result = Panels(client, UTC, load_prices()).run(PanelRequest("usage", "1d"), end)
    client.close()
    (series, _) = result.series
    step = timedelta(seconds=result.range.step_seconds)
    assert len(series.points) == 86400 // result.range.step_seconds  # every step, none lost to the move
    for moment, value in series.points:
        assert (end - moment) % step == MovingFrontend.MOVED % step  # the frontend's grid
        assert value == fleet.truth.total("input_tokens", moment - step, moment), moment
    chart = chart_config(result, UTC)
    assert len(chart["data"]["labels"]) == len(series.points)  # one bar per step, no gaps in between
