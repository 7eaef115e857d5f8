"""Ground truth of a synthetic fleet, counted straight from its events with deliberately simple code.

It shares only the label-value functions (:mod:`codex_bot.telemetry.labels`) with the real pipeline,
so comparing it with what Prometheus answers checks parsing, aggregation, backfill and queries.
Windows are half-open, ``start < time <= end``, like ``increase(x[r])`` at a grid-aligned time.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from datetime import UTC, datetime

from codex_bot.simulate.event import AttrValue, SimEvent
from codex_bot.telemetry import labels
from codex_bot.telemetry.labels import UserLabelRule

TOKEN_MEASURES = {  # measure -> attribute of the response.completed sse_event
    "input_tokens": "input_token_count",
    "cached_input_tokens": "cached_token_count",
    "output_tokens": "output_token_count",
    "reasoning_tokens": "reasoning_token_count",
}
MEASURES = (*TOKEN_MEASURES, "model_calls", "failed_model_calls", "conversations", "prompts", "tool_calls", "decisions")
_EXTRA_DIMS = {  # dims besides model, user, terminal (which every measure has)
    "model_calls": ("transport", "success"),
    "tool_calls": ("tool", "success"),
    "decisions": ("tool", "decision", "source"),
}
Where = Mapping[str, str | Collection[str]]
Row = tuple[int, int, dict[str, str]]  # time_ms, amount, dims


class GroundTruth:
    """Totals and raw durations of simulated events; feed it with the constructor or :meth:`add`."""

    def __init__(self, events: Iterable[SimEvent] = (), user_rule: UserLabelRule = UserLabelRule()) -> None:
        self.user_rule = user_rule
        self._rows: dict[str, list[Row]] = defaultdict(list)
        self._durations: list[tuple[int, float, dict[str, str]]] = []
        self._first_ms: dict[tuple[str, str], int] = {}  # (dim, value) -> first time counted
        for event in events:
            self.add(event)

    def add(self, event: SimEvent) -> None:
        attrs = event.all_attributes()
        base = {
            "model": labels.model_label(attrs),
            "user": labels.user_label(attrs, event.resource, self.user_rule),
            "terminal": labels.terminal_label(attrs),
        }
        name, t = event.name, event.time_ms
        if name == "codex.sse_event" and attrs.get("event.kind") == "response.completed" and _has_tokens(attrs):
            for measure, key in TOKEN_MEASURES.items():
                self._count(measure, t, _number(attrs.get(key)), base)
        elif name == "codex.websocket_request" or (name == "codex.api_request" and _responses_endpoint(attrs)):
            dims = {**base, "transport": labels.transport_label(name), "success": labels.success_label(attrs)}
            self._count("model_calls", t, 1, dims)
        elif name == "codex.conversation_starts":
            self._count("conversations", t, 1, base)
        elif name == "codex.user_prompt":
            self._count("prompts", t, 1, base)
        elif name == "codex.tool_result":
            dims = {**base, "tool": labels.tool_label(attrs), "success": labels.success_label(attrs)}
            self._count("tool_calls", t, 1, dims)
            self._durations.append((t, _number(attrs.get("duration_ms")) / 1000, dims))
        elif name == "codex.tool_decision":
            dims = {
                **base,
                "tool": labels.tool_label(attrs),
                "decision": labels.decision_label(attrs),
                "source": labels.source_label(attrs),
            }
            self._count("decisions", t, 1, dims)

    def _count(self, measure: str, time_ms: int, amount: int, dims: dict[str, str]) -> None:
        self._rows[measure].append((time_ms, amount, dims))
        first = self._first_ms
        for pair in dims.items():
            if time_ms < first.get(pair, time_ms + 1):
                first[pair] = time_ms

    def total(
        self, measure: str, start: datetime, end: datetime, where: Where | None = None, by: tuple[str, ...] = ()
    ) -> int | dict[tuple[str, ...], int]:
        """Sum of ``measure`` over events with ``start < time <= end`` matching ``where``;
        with ``by``, a dict from label-value tuples (in ``by`` order) to sums."""
        rows = self._select(measure, start, end, where, by)
        if not by:
            return sum(amount for _, amount, _ in rows)
        sums: dict[tuple[str, ...], int] = defaultdict(int)
        for _, amount, dims in rows:
            sums[tuple(dims[d] for d in by)] += amount
        return dict(sums)

    def durations(self, start: datetime, end: datetime, where: Where | None = None) -> list[float]:
        """Raw tool-call durations in seconds (for P95 checks) of tool results in the window."""
        _check_dims("tool_calls", where or {})
        lo, hi = _ms(start), _ms(end)
        return [s for t, s, dims in self._durations if lo < t <= hi and _matches(dims, where)]

    def values(self, dim: str, measure: str = "model_calls") -> set[str]:
        """Every label value ``dim`` takes for ``measure`` over all events."""
        _check_dims(measure, {dim: ""})
        return {dims[dim] for _, _, dims in self._rows[_base(measure)]}

    def first_seen(self, dim: str, value: str) -> datetime | None:
        """When the label value first appears in any counted event (e.g. a user who joins mid-range)."""
        first = self._first_ms.get((dim, value))
        return None if first is None else datetime.fromtimestamp(first / 1000, tz=UTC)

    def summary(self, start: datetime, end: datetime) -> dict[str, object]:
        """Totals of every measure, overall and by each of its dims, as JSON-ready data (``truth.json``)."""
        return {
            "start": start.isoformat(),
            "end": end.isoformat(),
            "totals": {m: self.total(m, start, end) for m in MEASURES},
            "by": {
                m: {
                    d: {k[0]: v for k, v in sorted(self.total(m, start, end, by=(d,)).items())}  # type: ignore[union-attr]
                    for d in dims_of(m)
                }
                for m in MEASURES
            },
        }

    def _select(
        self, measure: str, start: datetime, end: datetime, where: Where | None, by: tuple[str, ...]
    ) -> list[Row]:
        _check_dims(measure, {**(where or {}), **{d: "" for d in by}})
        if measure == "failed_model_calls":
            where = {**(where or {}), "success": "false"}
        lo, hi = _ms(start), _ms(end)
        return [row for row in self._rows[_base(measure)] if lo < row[0] <= hi and _matches(row[2], where)]


def dims_of(measure: str) -> tuple[str, ...]:
    """The dims ``measure`` can be filtered or broken down by."""
    if measure not in MEASURES:
        raise ValueError(f"unknown measure {measure!r}; choose one of {', '.join(MEASURES)}")
    return ("model", "user", "terminal", *_EXTRA_DIMS.get(_base(measure), ()))


def _check_dims(measure: str, dims: Mapping[str, object]) -> None:
    allowed = dims_of(measure)
    wrong = [d for d in dims if d not in allowed]
    if wrong:
        raise ValueError(f"{measure} has no dim {', '.join(wrong)}; it has {', '.join(allowed)}")


def _base(measure: str) -> str:
    return "model_calls" if measure == "failed_model_calls" else measure


def _matches(dims: Mapping[str, str], where: Where | None) -> bool:
    if not where:
        return True
    for dim, wanted in where.items():
        accepted = (wanted,) if isinstance(wanted, str) else wanted
        if dims[dim] not in accepted:
            return False
    return True


def _has_tokens(attrs: Mapping[str, AttrValue]) -> bool:
    return any(attrs.get(key) not in (None, "") for key in TOKEN_MEASURES.values())


def _responses_endpoint(attrs: Mapping[str, AttrValue]) -> bool:
    endpoint = attrs.get("endpoint")
    return endpoint is None or str(endpoint).endswith("/responses")


def _number(value: AttrValue | None) -> int:
    return int(value) if value not in (None, "") else 0


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)
