"""The foundation check: what a real Prometheus answers about the backfilled fleet equals the ground truth.

Exact equality is right here, not a tolerance: backfill samples every series on a grid of
``step_seconds`` from one step before its first increment (at 0) to the end, so at a grid-aligned
evaluation time ``t`` the 7-day window holds a sample at both ends (or a series' 0-birth inside it),
``increase()`` needs no extrapolation, and it counts exactly the events with ``t-7d < time <= t`` —
the same half-open rule the ground truth uses.  Counts and token sums are integers far below 2**53,
so the float arithmetic is exact too.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from prometheus_fleet import Fleet

from codex_bot.telemetry.contract import (
    CONVERSATIONS,
    MODEL_CALLS,
    PROMPTS,
    TOKENS,
    TOOL_CALLS,
    TOOL_DECISIONS,
    TOOL_DURATION,
)

pytestmark = pytest.mark.prometheus

WINDOW = timedelta(days=7)
TOKEN_MEASURE = {
    "input": "input_tokens",
    "cached_input": "cached_input_tokens",
    "output": "output_tokens",
    "reasoning_output": "reasoning_tokens",
}


def readback(
    fleet: Fleet, series: str, by: tuple[str, ...], at: datetime, selector: str = ""
) -> dict[tuple[str, ...], float]:
    """``sum by (...) (increase(series{selector}[7d]))`` at ``at``, keyed like the truth's breakdowns; zeros dropped."""
    promql = f"sum by ({', '.join(by)}) (increase({series}{{{selector}}}[7d]))"
    return {tuple(labels[d] for d in by): value for labels, value in fleet.query(promql, at) if value}


def truth_by(fleet: Fleet, measure: str, at: datetime, by: tuple[str, ...], where=None) -> dict[tuple[str, ...], int]:
    found = fleet.truth.total(measure, at - WINDOW, at, where=where, by=by)
    return {key: value for key, value in found.items() if value}  # type: ignore[union-attr]


@pytest.fixture(scope="module")
def fleet(backend_fleet):
    """These figure tests run on every metrics backend (Prometheus, VictoriaMetrics): see conftest."""
    return backend_fleet


@pytest.fixture(scope="module", params=["end", "a day earlier"])
def at(request: pytest.FixtureRequest, fleet: Fleet) -> datetime:
    """Grid-aligned evaluation times: the end of the data, and 19.5 hours earlier (mid-day, mid-series)."""
    if request.param == "end":
        return fleet.align(fleet.end)
    return fleet.align(fleet.end - timedelta(hours=19, minutes=30))


def test_the_window_is_grid_aligned_and_inside_the_data(fleet: Fleet, at: datetime) -> None:
    assert at.timestamp() % fleet.step_seconds == 0
    assert fleet.start < at - WINDOW and at <= fleet.end


def test_tokens_per_type(fleet: Fleet, at: datetime) -> None:
    got = readback(fleet, TOKENS.series_name, ("type",), at)
    assert got == {(t,): fleet.truth.total(m, at - WINDOW, at) for t, m in TOKEN_MEASURE.items()}


@pytest.mark.parametrize("dim", ["model", "user"])
def test_tokens_per_type_and_model_or_user(fleet: Fleet, at: datetime, dim: str) -> None:
    for token_type, measure in TOKEN_MEASURE.items():
        got = readback(fleet, TOKENS.series_name, (dim,), at, f'type="{token_type}"')
        assert got == truth_by(fleet, measure, at, (dim,)), token_type


def test_model_calls_per_model_transport_and_success(fleet: Fleet, at: datetime) -> None:
    by = ("model", "transport", "success")
    got = readback(fleet, MODEL_CALLS.series_name, by, at)
    assert got == truth_by(fleet, "model_calls", at, by)
    assert {key[1] for key in got} == {"http", "websocket"} and {key[2] for key in got} == {"true", "false"}


@pytest.mark.parametrize("family, measure", [(CONVERSATIONS, "conversations"), (PROMPTS, "prompts")])
@pytest.mark.parametrize("by", [("user",), ("terminal",), ("model", "user", "terminal")])
def test_conversations_and_prompts_per_user_and_terminal(fleet: Fleet, at: datetime, family, measure, by) -> None:
    assert readback(fleet, family.series_name, by, at) == truth_by(fleet, measure, at, by)


def test_tool_calls_per_tool_model_and_success(fleet: Fleet, at: datetime) -> None:
    by = ("model", "tool", "success")
    assert readback(fleet, TOOL_CALLS.series_name, by, at) == truth_by(fleet, "tool_calls", at, by)


@pytest.mark.parametrize(
    "family, measure, by",
    [
        (TOOL_CALLS, "tool_calls", ("user",)),
        (TOOL_CALLS, "tool_calls", ("user", "tool", "success")),
        (TOOL_DECISIONS, "decisions", ("user",)),
        (TOOL_DECISIONS, "decisions", ("user", "decision", "source")),
    ],
)
def test_tool_calls_and_decisions_per_user(fleet: Fleet, at: datetime, family, measure, by) -> None:
    got = readback(fleet, family.series_name, by, at)
    assert got == truth_by(fleet, measure, at, by)
    assert len({key[0] for key in got}) > 1, "several people made tool calls"


def test_tool_duration_counts_per_tool(fleet: Fleet, at: datetime) -> None:
    got = readback(fleet, f"{TOOL_DURATION.name}_count", ("tool",), at)
    assert got == truth_by(fleet, "tool_calls", at, ("tool",))
    assert len(got) == 5


def test_decisions_per_tool_decision_and_source(fleet: Fleet, at: datetime) -> None:
    by = ("model", "tool", "decision", "source")
    got = readback(fleet, TOOL_DECISIONS.series_name, by, at)
    assert got == truth_by(fleet, "decisions", at, by)
    assert {key[2] for key in got} >= {"approved", "denied"} and {key[3] for key in got} == {"config", "user"}


def test_a_user_who_first_appears_mid_range_reads_back_exactly(fleet: Fleet) -> None:
    truth, at = fleet.truth, fleet.align(fleet.end)
    joined = {u: truth.first_seen("user", u) for u in truth.values("user", "prompts")}
    late = sorted((t, u) for u, t in joined.items() if t is not None and t > at - WINDOW + timedelta(hours=12))
    assert late, "the fleet should have a user who first appears well inside the window"
    _, user = late[0]
    selector = f'user="{user}"'
    for token_type, measure in TOKEN_MEASURE.items():
        got = readback(fleet, TOKENS.series_name, ("user",), at, f'{selector}, type="{token_type}"')
        assert got == {(user,): truth.total(measure, at - WINDOW, at, where={"user": user})}
    prompts = truth.total("prompts", at - WINDOW, at, where={"user": user})
    assert prompts > 0
    assert readback(fleet, PROMPTS.series_name, ("user",), at, selector) == {(user,): prompts}
