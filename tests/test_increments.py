"""Event → increments: the exact figures of a real Codex run, and each rule of the mapping."""

from __future__ import annotations

from collections import defaultdict

import pytest
from promhelpers import SAMPLE_FILES, sample_request

from codex_bot.telemetry import contract
from codex_bot.telemetry.events import CodexEvent
from codex_bot.telemetry.increments import increments, number
from codex_bot.telemetry.labels import UserLabelRule, user_label
from codex_bot.telemetry.otlp_json import events_from_json

RULE = UserLabelRule()
MODEL = "gpt-5.1-codex"


def totals(events: list[CodexEvent]) -> dict[tuple[str, tuple[str, ...]], list[float]]:
    found: dict[tuple[str, tuple[str, ...]], list[float]] = defaultdict(list)
    for event in events:
        for increment in increments(event, RULE):
            found[(increment.family.name, increment.labels)].append(increment.value)
    return found


def test_the_real_codex_run_counts_exactly() -> None:
    """001 + 005 of one `codex exec`: 2 model calls, 2 responses' tokens, 1 tool call that took 466 ms."""
    events = [e for path in SAMPLE_FILES for e in events_from_json(sample_request(path))]
    found = {key: sum(values) for key, values in totals(events).items()}
    assert found == {
        ("codex_tokens", (MODEL, "unknown", "input")): 2700,
        ("codex_tokens", (MODEL, "unknown", "cached_input")): 2200,
        ("codex_tokens", (MODEL, "unknown", "output")): 42,
        ("codex_tokens", (MODEL, "unknown", "reasoning_output")): 14,
        ("codex_model_calls", (MODEL, "http", "true")): 2,
        ("codex_conversations", (MODEL, "unknown", "xterm")): 1,
        ("codex_prompts", (MODEL, "unknown", "xterm")): 1,
        ("codex_tool_calls", (MODEL, "unknown", "exec_command", "true")): 1,
        ("codex_tool_duration_seconds", (MODEL, "exec_command")): 0.466,
        ("codex_tool_decisions", (MODEL, "unknown", "exec_command", "approved", "config")): 1,
    }
    assert totals(events)[("codex_tool_duration_seconds", (MODEL, "exec_command"))] == [0.466]  # one observation


def event(name: str, **attributes: object) -> CodexEvent:
    return CodexEvent(name, 1, {"event.name": name, "model": "m", **attributes}, {})


def families(e: CodexEvent) -> list[tuple[str, tuple[str, ...], float]]:
    return [(i.family.name, i.labels, i.value) for i in increments(e, RULE)]


def test_tokens_need_response_completed_with_counts() -> None:
    assert families(event("codex.sse_event", **{"event.kind": "response.completed"})) == []
    assert families(event("codex.sse_event", **{"event.kind": "response.created", "input_token_count": "5"})) == []
    counted = families(event("codex.sse_event", **{"event.kind": "response.completed", "output_token_count": 9}))
    assert [(labels[2], value) for _, labels, value in counted] == [
        ("input", 0),
        ("cached_input", 0),
        ("output", 9),
        ("reasoning_output", 0),
    ]


def test_model_calls_by_endpoint_and_transport() -> None:
    assert families(event("codex.api_request", endpoint="/models")) == []
    assert families(event("codex.api_request", endpoint="/v1/responses", success=True)) == [
        ("codex_model_calls", ("m", "http", "true"), 1)
    ]
    assert families(event("codex.api_request", **{"http.response.status_code": 503})) == [
        ("codex_model_calls", ("m", "http", "false"), 1)
    ]
    assert families(event("codex.websocket_request", success="false")) == [
        ("codex_model_calls", ("m", "websocket", "false"), 1)
    ]


def test_tool_result_and_decision() -> None:
    assert families(
        event(
            "codex.tool_result", tool_name="apply_patch", duration_ms="1250", success="False", **{"user.email": "a@x"}
        )
    ) == [
        ("codex_tool_calls", ("m", "a@x", "apply_patch", "false"), 1),
        ("codex_tool_duration_seconds", ("m", "apply_patch"), 1.25),  # no user: 36 series per label set
    ]
    assert families(event("codex.tool_decision", tool_name="exec_command", decision="Denied", source="User")) == [
        ("codex_tool_decisions", ("m", "unknown", "exec_command", "denied", "user"), 1)
    ]


@pytest.mark.parametrize("mode", ["email", "account_id", "hash", "none"])
@pytest.mark.parametrize(
    "attributes, resource",
    [
        ({"user.email": "a@x", "user.account_id": "acct-1"}, {}),
        (
            {"user.account_id": "acct-1"},
            {"user.email": "r@x"},
        ),  # e-mail only on the resource (OTEL_RESOURCE_ATTRIBUTES)
        ({}, {}),
    ],
)
def test_tool_calls_and_decisions_carry_the_same_user_as_prompts(
    mode: str, attributes: dict[str, str], resource: dict[str, str]
) -> None:
    """One user-label rule for every per-person family, in each CODEX_BOT_USER_LABEL mode."""
    rule = UserLabelRule(mode, salt="s")  # type: ignore[arg-type]

    def user_of(name: str, family: contract.MetricFamily) -> str:
        found = [
            i
            for i in increments(CodexEvent(name, 1, {"event.name": name, **attributes}, resource), rule)
            if i.family is family
        ]
        return found[0].labels[family.labels.index("user")]

    expected = user_of("codex.user_prompt", contract.PROMPTS)
    assert expected == user_label(attributes, resource, rule)
    assert user_of("codex.tool_result", contract.TOOL_CALLS) == expected
    assert user_of("codex.tool_decision", contract.TOOL_DECISIONS) == expected


def test_conversations_and_prompts_carry_user_and_terminal() -> None:
    attrs = {"user.email": "a@x", "terminal.type": "vscode"}
    assert families(event("codex.conversation_starts", **attrs)) == [("codex_conversations", ("m", "a@x", "vscode"), 1)]
    assert families(event("codex.user_prompt", **attrs)) == [("codex_prompts", ("m", "a@x", "vscode"), 1)]


def test_unknown_and_unnamed_events_count_nothing() -> None:
    assert families(event("codex.turn_ttft", duration_ms="5")) == []
    assert families(CodexEvent("", 1, {}, {})) == []


def test_number_parsing() -> None:
    assert [number(v) for v in ("1200", 1000, "2.5", None, "", "abc", -3, "-3", True, float("nan"), float("inf"))] == [
        1200,
        1000,
        2.5,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
    ]


def test_every_family_is_reachable() -> None:
    produced = {
        name for name, _ in totals([e for path in SAMPLE_FILES for e in events_from_json(sample_request(path))])
    }
    assert produced == {family.name for family in contract.FAMILIES}
