"""The one semantic mapping: a Codex event → increments of contract series.

Ingest (live) and backfill (files) both call :func:`increments`; nothing else decides what an
event counts for.  Unknown event names, records without ``event.name``, the second
``response.completed`` without token counts and non-``/responses`` API requests give no increments.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import NamedTuple

from codex_bot.telemetry import contract
from codex_bot.telemetry.contract import MetricFamily
from codex_bot.telemetry.events import AttrValue, CodexEvent
from codex_bot.telemetry.labels import (
    UserLabelRule,
    decision_label,
    model_label,
    source_label,
    success_label,
    terminal_label,
    tool_label,
    transport_label,
    user_label,
)


class Increment(NamedTuple):
    family: MetricFamily
    labels: tuple[str, ...]  # values in ``family.labels`` order
    value: float  # counters: amount added; histograms: one observation


# token type → the response.completed attribute carrying it
TOKEN_ATTRIBUTES: tuple[tuple[str, str], ...] = (
    ("input", "input_token_count"),
    ("cached_input", "cached_token_count"),
    ("output", "output_token_count"),
    ("reasoning_output", "reasoning_token_count"),
)


def number(value: AttrValue) -> int | float:
    """A count attribute (int, or a decimal string as Codex often sends); missing, invalid or negative → 0."""
    if isinstance(value, bool) or value is None:
        return 0
    if isinstance(value, str):
        try:
            value = int(value)
        except ValueError:
            try:
                value = float(value)
            except ValueError:
                return 0
    if not isinstance(value, (int, float)) or not value > 0:  # also drops NaN
        return 0
    return value if value != float("inf") else 0


def _tokens(event: CodexEvent, rule: UserLabelRule) -> list[Increment]:
    attributes = event.attributes
    if attributes.get("event.kind") != "response.completed":
        return []
    if not any(attributes.get(key) is not None for _, key in TOKEN_ATTRIBUTES):
        return []
    model, user = model_label(attributes), user_label(attributes, event.resource, rule)
    return [
        Increment(contract.TOKENS, (model, user, kind), number(attributes.get(key))) for kind, key in TOKEN_ATTRIBUTES
    ]


def _api_request(event: CodexEvent, rule: UserLabelRule) -> list[Increment]:
    endpoint = event.attributes.get("endpoint")
    if endpoint is not None and not (isinstance(endpoint, str) and endpoint.endswith("/responses")):
        return []
    return _model_call(event, rule)


def _model_call(event: CodexEvent, rule: UserLabelRule) -> list[Increment]:
    attributes = event.attributes
    labels = (model_label(attributes), transport_label(event.name), success_label(attributes))
    return [Increment(contract.MODEL_CALLS, labels, 1)]


def _per_terminal(family: MetricFamily) -> Callable[[CodexEvent, UserLabelRule], list[Increment]]:
    def count(event: CodexEvent, rule: UserLabelRule) -> list[Increment]:
        attributes = event.attributes
        labels = (model_label(attributes), user_label(attributes, event.resource, rule), terminal_label(attributes))
        return [Increment(family, labels, 1)]

    return count


def _tool_result(event: CodexEvent, rule: UserLabelRule) -> list[Increment]:
    attributes = event.attributes
    model, tool = model_label(attributes), tool_label(attributes)
    user = user_label(attributes, event.resource, rule)
    seconds = number(attributes.get("duration_ms")) / 1000
    return [
        Increment(contract.TOOL_CALLS, (model, user, tool, success_label(attributes)), 1),
        Increment(contract.TOOL_DURATION, (model, tool), seconds),  # per tool, not per person (see contract)
    ]


def _tool_decision(event: CodexEvent, rule: UserLabelRule) -> list[Increment]:
    attributes = event.attributes
    labels = (
        model_label(attributes),
        user_label(attributes, event.resource, rule),
        tool_label(attributes),
        decision_label(attributes),
        source_label(attributes),
    )
    return [Increment(contract.TOOL_DECISIONS, labels, 1)]


MAPPERS: Mapping[str, Callable[[CodexEvent, UserLabelRule], list[Increment]]] = {
    "codex.sse_event": _tokens,
    "codex.api_request": _api_request,
    "codex.websocket_request": _model_call,
    "codex.conversation_starts": _per_terminal(contract.CONVERSATIONS),
    "codex.user_prompt": _per_terminal(contract.PROMPTS),
    "codex.tool_result": _tool_result,
    "codex.tool_decision": _tool_decision,
}


def increments(event: CodexEvent, rule: UserLabelRule) -> list[Increment]:
    """What ``event`` adds to the contract series (empty when it counts for nothing)."""
    mapper = MAPPERS.get(event.name)
    return mapper(event, rule) if mapper is not None else []
