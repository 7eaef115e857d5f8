"""The metric contract: every Prometheus series codex-bot's ingest and backfill produce.

Panels, alerts and digests query only these names.  Counters are cumulative, start at 0
when a series is first seen (so ``increase()`` keeps the first increment) and carry
only low-cardinality labels.  Durations are in seconds.

The ``user`` label (one value per developer, see :mod:`codex_bot.telemetry.labels`) is on every
counter whose event says who acted: tokens, conversations, prompts, tool calls and tool decisions,
so ``/codex me`` can show each of them per person.  It is deliberately not on the tool-duration
histogram: every label set of a histogram is 34 bucket series (33 bounds and ``+Inf``) plus
``_sum`` and ``_count``, so a ``user`` label would multiply its 36 series per (model, tool) by the
number of developers, for a figure (a per-person P95) nobody asks for.  Per person, tool *calls*
answer "how much do I use tools".  Model calls carry no ``user`` either: their figures (success
rate, calls per model) are the team's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["counter", "histogram"]


@dataclass(frozen=True)
class MetricFamily:
    name: str  # family name; counters are exposed as ``name + "_total"``
    kind: Kind
    labels: tuple[str, ...]
    help: str

    @property
    def series_name(self) -> str:
        """The name PromQL selects (``_total`` for counters, the family for histograms)."""
        return self.name + "_total" if self.kind == "counter" else self.name


TOKEN_TYPES = ("input", "cached_input", "output", "reasoning_output")

TOKENS = MetricFamily(
    "codex_tokens",
    "counter",
    ("model", "user", "type"),
    "Tokens of completed model responses; type=input includes cached_input, output includes reasoning_output.",
)
MODEL_CALLS = MetricFamily(
    "codex_model_calls",
    "counter",
    ("model", "transport", "success"),
    "Model API calls: codex.api_request to /responses (transport=http) or codex.websocket_request (transport=websocket).",
)
CONVERSATIONS = MetricFamily(
    "codex_conversations",
    "counter",
    ("model", "user", "terminal"),
    "Conversations started (codex.conversation_starts).",
)
PROMPTS = MetricFamily(
    "codex_prompts",
    "counter",
    ("model", "user", "terminal"),
    "User prompts (codex.user_prompt).",
)
TOOL_CALLS = MetricFamily(
    "codex_tool_calls",
    "counter",
    ("model", "user", "tool", "success"),
    "Tool calls (codex.tool_result); success is about the tool call, not a command's exit code.",
)
TOOL_DURATION = MetricFamily(
    "codex_tool_duration_seconds",
    "histogram",
    ("model", "tool"),
    "Tool call duration in seconds (codex.tool_result duration_ms).",
)  # no user label: see the module docstring (series per developer × 36)
TOOL_DECISIONS = MetricFamily(
    "codex_tool_decisions",
    "counter",
    ("model", "user", "tool", "decision", "source"),
    "Approval decisions on tool calls (codex.tool_decision), lower-cased.",
)

FAMILIES: tuple[MetricFamily, ...] = (
    TOKENS,
    MODEL_CALLS,
    CONVERSATIONS,
    PROMPTS,
    TOOL_CALLS,
    TOOL_DURATION,
    TOOL_DECISIONS,
)

# Bucket bounds in seconds: Codex's own duration buckets (ms) converted, so P95s agree with Codex's.
TOOL_DURATION_BUCKETS: tuple[float, ...] = (
    0.005,
    0.01,
    0.025,
    0.05,
    0.075,
    0.1,
    0.25,
    0.5,
    0.75,
    1.0,
    1.25,
    1.5,
    1.75,
    2.0,
    2.25,
    2.5,
    3.0,
    3.5,
    4.0,
    4.5,
    5.0,
    6.0,
    7.0,
    7.5,
    8.0,
    9.0,
    10.0,
    12.0,
    15.0,
    20.0,
    30.0,
    60.0,
    120.0,
)

UNKNOWN = "unknown"  # label value when an event lacks the attribute
