"""The panel catalog: every dashboard panel, in one place.

A panel is its names, how it is shown (title, unit, shape, chart kind), which filters it
takes, its PromQL (queries over the metric contract) and how figures, rows and series
come out of the answers.  Adding a panel means adding one entry to ``PANELS``.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from codex_bot.errors import BadFilter, UnknownPanel
from codex_bot.formatting import Unit
from codex_bot.panels.cost import CostRows, cost_notes, total_usd
from codex_bot.panels.figures import Figure, measure, percent, percent_not, total
from codex_bot.panels.measured import Measured
from codex_bot.panels.queries import Increase, Quantile, Query
from codex_bot.panels.result import ChartKind, Shape
from codex_bot.panels.rows import Breakdown, Column
from codex_bot.telemetry.contract import (
    CONVERSATIONS,
    MODEL_CALLS,
    PROMPTS,
    TOKENS,
    TOOL_CALLS,
    TOOL_DECISIONS,
    TOOL_DURATION,
    MetricFamily,
)


@dataclass(frozen=True)
class SeriesSpec:
    """A line of a time series: ``query`` over each step, one point per step (at the step's end)."""

    name: str
    query: Query


@dataclass(frozen=True)
class Panel:
    name: str
    aliases: tuple[str, ...]
    title: str
    description: str  # one line for help texts
    unit: Unit  # the unit of the panel's main number
    shape: Shape
    chart_kind: ChartKind
    filters: tuple[str, ...]  # filter keys it takes (labels every one of its queries carries)
    queries: Mapping[str, Query]  # evaluated over the whole range, and over the previous period
    figures: tuple[Figure, ...] = ()
    rows: Breakdown | CostRows | None = None
    series: tuple[SeriesSpec, ...] = ()
    notes: Callable[[Measured], list[str]] | None = None
    personal: bool = False  # rows name people

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)

    @property
    def example(self) -> str:
        """A request people can copy, e.g. ``tokens 7d model=gpt-5-codex``."""
        first_filter = f" {self.filters[0]}={_EXAMPLE_VALUES[self.filters[0]]}" if self.filters else ""
        return f"{self.name} 7d{first_filter}"

    def units(self) -> dict[str, Unit]:
        """The unit of every figure key and row column."""
        units = {figure.key: figure.unit for figure in self.figures}
        return {**units, **(self.rows.units() if self.rows else {})}

    def families(self) -> tuple[MetricFamily, ...]:
        queries = [*self.queries.values(), *(spec.query for spec in self.series)]
        return tuple(dict.fromkeys(query.family for query in queries))

    def check_filter_keys(self, keys: Iterable[str]) -> None:
        """:class:`BadFilter` naming this panel's filters when a key is not one of them."""
        for key in keys:
            if key not in self.filters:
                valid = ", ".join(f"{name}=" for name in self.filters) or "none"
                raise BadFilter(f"The {self.name} panel has no filter {key!r}; its filters: {valid}.")


_EXAMPLE_VALUES = {"model": "gpt-5-codex", "user": "alice@example.com", "tool": "shell", "terminal": "vscode"}
P95_NOTE = "P95 from histogram buckets: interpolated inside the bucket that holds it"


def _tokens(kind: str, by: tuple[str, ...] = ()) -> Increase:
    return Increase(TOKENS, (("type", kind),), by)


def _count(key: str, formula: str, parts: tuple[str, ...] | None = None, unit: Unit = "count") -> Column:
    return Column(key, unit, parts or (key,), formula)


_TOKEN_SUM = "input + output tokens (reasoning is inside output)"
_INPUT_OUTPUT = {"input": _tokens("input"), "output": _tokens("output")}
_BY_MODEL_TOKENS = {"input": _tokens("input", ("model",)), "output": _tokens("output", ("model",))}
_P95 = Quantile(0.95, TOOL_DURATION)

PANELS: tuple[Panel, ...] = (
    Panel(
        "tokens",
        ("token", "total-tokens"),
        "Total token usage",
        "input, output and total tokens",
        "tokens",
        "figures",
        "stacked_bar",
        ("model", "user"),
        _INPUT_OUTPUT,
        figures=(
            Figure("input", "tokens", "input tokens (cached included)", measure("input")),
            Figure("output", "tokens", "output tokens (reasoning included)", measure("output")),
            Figure("total", "tokens", "input + output", total("input", "output")),
        ),
    ),
    Panel(
        "cached",
        ("cached-tokens",),
        "Cached input tokens",
        "input tokens served from the prompt cache",
        "tokens",
        "figures",
        "none",
        ("model", "user"),
        {"cached_input": _tokens("cached_input")},
        figures=(Figure("cached_input", "tokens", "cached input tokens", measure("cached_input")),),
    ),
    Panel(
        "cache-rate",
        ("cache", "cache-hit", "cached-rate"),
        "Cache hit rate",
        "share of input tokens that were cached",
        "percent",
        "figures",
        "doughnut",
        ("model", "user"),
        {"cached_input": _tokens("cached_input"), "input": _tokens("input")},
        figures=(Figure("cache_rate_pct", "percent", "100 × cached input / input", percent("cached_input", "input")),),
    ),
    Panel(
        "sessions",
        ("calls", "session"),
        "Sessions and model calls",
        "conversations started and model API calls",
        "count",
        "figures",
        "hbar",
        ("model",),
        {"conversations": Increase(CONVERSATIONS), "model_calls": Increase(MODEL_CALLS)},
        figures=(
            Figure("conversations", "count", "conversations started", measure("conversations")),
            Figure("model_calls", "count", "model API calls, HTTP and WebSocket", measure("model_calls")),
        ),
    ),
    Panel(
        "p95",
        ("duration", "latency", "durations"),
        "Tool call duration (P95)",
        "95th percentile of tool/command durations, overall and per step",
        "seconds",
        "timeseries",
        "line",
        ("model", "tool"),
        {"p95": _P95},
        figures=(Figure("p95_seconds", "seconds", "histogram_quantile(0.95) of tool durations", measure("p95")),),
        series=(SeriesSpec("p95", _P95),),
        notes=lambda measured: [P95_NOTE],
    ),
    Panel(
        "usage",
        ("token-usage", "usage-over-time"),
        "Token usage over time",
        "input and output tokens per step",
        "tokens",
        "timeseries",
        "stacked_bar",
        ("model", "user"),
        _INPUT_OUTPUT,
        figures=(Figure("total", "tokens", "input + output", total("input", "output")),),
        series=(SeriesSpec("input", _tokens("input")), SeriesSpec("output", _tokens("output"))),
    ),
    Panel(
        "conversations",
        ("conversation", "conversations-over-time"),
        "Conversations over time",
        "conversations started, in total and per step",
        "count",
        "timeseries",
        "line",
        ("model", "user", "terminal"),
        {"conversations": Increase(CONVERSATIONS)},
        figures=(Figure("conversations", "count", "conversations started", measure("conversations")),),
        series=(SeriesSpec("conversations", Increase(CONVERSATIONS)),),
    ),
    Panel(
        "success",
        ("success-rate", "errors", "failures"),
        "Model call success rate",
        "share of model calls that succeeded",
        "percent",
        "figures",
        "doughnut",
        ("model",),
        {"requests": Increase(MODEL_CALLS), "failed": Increase(MODEL_CALLS, (("success", "false"),))},
        figures=(
            Figure(
                "success_rate_pct", "percent", "100 × (requests − failed) / requests", percent_not("failed", "requests")
            ),
            Figure("requests", "count", "model API calls", measure("requests")),
            Figure("failed", "count", "model API calls with success=false", measure("failed")),
        ),
    ),
    Panel(
        "terminals",
        ("terminal",),
        "Conversations by terminal",
        "conversations per terminal type and their share",
        "count",
        "breakdown",
        "doughnut",
        ("model", "user"),
        {"conversations": Increase(CONVERSATIONS, by=("terminal",))},
        rows=Breakdown("terminal", (_count("conversations", "conversations started"),), share=True),
    ),
    Panel(
        "users",
        ("user", "people", "requests-per-user"),
        "Requests per user",
        "prompts, conversations and tokens per user",
        "count",
        "table",
        "hbar",
        ("model", "user"),
        {
            "prompts": Increase(PROMPTS, by=("user",)),
            "conversations": Increase(CONVERSATIONS, by=("user",)),
            "input": _tokens("input", ("user",)),
            "output": _tokens("output", ("user",)),
        },
        rows=Breakdown(
            "user",
            (
                _count("prompts", "user prompts"),
                _count("conversations", "conversations started"),
                _count("tokens", _TOKEN_SUM, ("input", "output"), "tokens"),
            ),
        ),
        personal=True,
    ),
    Panel(
        "models",
        ("model", "model-distribution"),
        "Model calls by model",
        "model API calls per model and their share",
        "count",
        "breakdown",
        "doughnut",
        ("model",),
        {"model_calls": Increase(MODEL_CALLS, by=("model",))},
        rows=Breakdown("model", (_count("model_calls", "model API calls"),), share=True),
    ),
    Panel(
        "model-tokens",
        ("tokens-by-model",),
        "Tokens by model",
        "input + output tokens per model and their share",
        "tokens",
        "breakdown",
        "doughnut",
        ("model", "user"),
        _BY_MODEL_TOKENS,
        rows=Breakdown("model", (_count("tokens", _TOKEN_SUM, ("input", "output"), "tokens"),), share=True),
    ),
    Panel(
        "tools",
        ("tool", "tool-types"),
        "Tool calls by tool",
        "tool calls per tool and their share",
        "count",
        "breakdown",
        "hbar",
        ("model", "user", "tool"),
        {"calls": Increase(TOOL_CALLS, by=("tool",))},
        rows=Breakdown("tool", (_count("calls", "tool calls"),), share=True),
    ),
    Panel(
        "decisions",
        ("decision", "approvals"),
        "Tool approval decisions",
        "approval decisions and their share",
        "count",
        "breakdown",
        "doughnut",
        ("model", "user", "tool"),
        {"count": Increase(TOOL_DECISIONS, by=("decision",))},
        rows=Breakdown("decision", (_count("count", "tool decisions"),), share=True),
    ),
    Panel(
        "cost",
        ("costs", "spend", "usd"),
        "Estimated cost",
        "estimated USD by model from the price table",
        "usd",
        "breakdown",
        "hbar",
        ("model", "user"),
        {**_BY_MODEL_TOKENS, "cached_input": _tokens("cached_input", ("model",))},
        figures=(Figure("total_usd", "usd", "sum of usd over the priced models", total_usd),),
        rows=CostRows(
            Column(
                "usd",
                "usd",
                ("input", "cached_input", "output"),
                "((input − cached) × input price + cached × cached price + output × output price) / 1M",
            )
        ),
        notes=cost_notes,
    ),
)

_BY_NAME = {name: panel for panel in PANELS for name in panel.names}


def _canonical(text: str) -> str:
    return "-".join(text.strip().lower().replace("_", "-").split())


def find_panel(text: str) -> Panel:
    """The panel named or aliased ``text`` (case, spaces and _ don't matter); :class:`UnknownPanel` otherwise."""
    panel = _BY_NAME.get(_canonical(text))
    if panel:
        return panel
    close = difflib.get_close_matches(_canonical(text), list(_BY_NAME), n=3, cutoff=0.6)
    suggestion = " or ".join(dict.fromkeys(_BY_NAME[name].name for name in close))
    hint = f" Did you mean {suggestion}?" if suggestion else ""
    shown = text if len(text) <= 40 else text[:40] + "…"
    names = ", ".join(panel.name for panel in PANELS)
    raise UnknownPanel(f"There is no panel {shown!r}.{hint} Panels: {names}.")
