"""Composing a digest: every panel it includes for one period (and its charts), plus the alerts that fired.

Panels run concurrently and each chart is rendered as soon as its panel answers, so a full digest
takes about as long as its slowest panel plus one chart.  The period is the digest's ``range`` as of
the slot, or by default the time since the previous slot (a Monday digest of a Mon–Fri schedule
covers Friday to Monday; a day across a DST change is 23 or 25 hours).  Change figures compare
with the previous period of equal length, as every panel does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from codex_bot.access import AccessDenied, AccessPolicy
from codex_bot.alerts.records import AlertRecords, EpisodeRecord
from codex_bot.charts.renderer import ChartRenderer
from codex_bot.charts.spec import chart_config
from codex_bot.delivery.message import ChartImage
from codex_bot.digests.definitions import DigestDefinition
from codex_bot.digests.shared import SharedQueries
from codex_bot.digests.slots import latest_slot, previous_slot
from codex_bot.errors import ChartUnavailable, UserError
from codex_bot.formatting import humanize_change
from codex_bot.metrics.ranges import TimeRange, parse_range
from codex_bot.panels.catalog import find_panel
from codex_bot.panels.combined import combined_reads
from codex_bot.panels.request import PanelRequest
from codex_bot.panels.result import PanelResult
from codex_bot.panels.service import Panels
from codex_bot.slack.blocks import label
from codex_bot.slack.replies import chart_filename

# Headline figures in reading order: (panel, figure key, label). Other figures of included panels follow.
HEADLINE: tuple[tuple[str, str, str], ...] = (
    ("tokens", "input", "Input tokens"),
    ("tokens", "output", "Output tokens"),
    ("cached", "cached_input", "Cached tokens"),
    ("cache-rate", "cache_rate_pct", "Cache rate"),
    ("sessions", "conversations", "Conversations"),
    ("sessions", "model_calls", "Model calls"),
    ("success", "success_rate_pct", "Success rate"),
    ("success", "failed", "Failed calls"),
    ("p95", "p95_seconds", "Command P95"),
    ("cost", "total_usd", "Est. cost"),
)
LEFT_OUT = {("tokens", "total"), ("success", "requests")}  # repeated elsewhere in the headline
PEOPLE_HIDDEN = (
    "Top users left out: per-user figures are personal data and this channel is not allowed to see them "
    "(CODEX_BOT_PERSONAL_DATA_CHANNELS)."
)


@dataclass(frozen=True)
class Headline:
    panel: str
    key: str
    label: str
    unit: str
    value: float | None
    previous: float | None

    @property
    def change(self) -> str:
        return humanize_change(self.value, self.previous, self.unit)


@dataclass
class Digest:
    """Everything a digest shows, before layout; ``results`` by panel name in the definition's order."""

    definition: DigestDefinition
    window: TimeRange
    results: dict[str, PanelResult]
    alerts: list[EpisodeRecord] = field(default_factory=list)
    charts: list[ChartImage] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # chart problems, hidden sections

    def headline(self) -> list[Headline]:
        """The headline figures of the included panels, known ones first, each with its previous value."""
        labels = {(panel, key): text for panel, key, text in HEADLINE}
        known = [(panel, key) for panel, key, _ in HEADLINE if key in self.figures(panel)]
        others = [
            (panel, key)
            for panel in self.results
            for key in self.figures(panel)
            if (panel, key) not in labels and (panel, key) not in LEFT_OUT
        ]
        return [self._headline(p, k, labels.get((p, k)) or label(k)) for p, k in [*known, *others]]

    def figures(self, panel: str) -> dict[str, float | None]:
        return self.results[panel].figures if panel in self.results else {}

    def _headline(self, panel: str, key: str, label: str) -> Headline:
        result = self.results[panel]
        return Headline(
            panel, key, label, result.units.get(key, result.unit), result.figures[key], result.previous.get(key)
        )

    def rows(self, panel: str) -> list[dict[str, Any]]:
        return self.results[panel].rows if panel in self.results else []

    def to_json(self) -> dict[str, Any]:
        d = self.definition
        return {
            "digest": d.name,
            "channel": d.channel,
            "timezone": d.timezone,
            "range": {
                "start": self.window.start.isoformat(),
                "end": self.window.end.isoformat(),
                "label": self.window.label,
            },
            "previous": {"start": self.window.previous().start.isoformat(), "end": self.window.start.isoformat()},
            "filters": dict(d.filters),
            "headline": [
                {
                    "panel": h.panel,
                    "figure": h.key,
                    "label": h.label,
                    "unit": h.unit,
                    "value": h.value,
                    "previous": h.previous,
                    "change": h.change,
                }
                for h in self.headline()
            ],
            "top": {
                name: self.rows(name)[: getattr(d.top, name)]
                for name in ("users", "models", "tools")
                if name in self.results
            },
            "decisions": self.rows("decisions"),
            "alerts": [_alert_json(a) for a in self.alerts],
            "charts": [c.filename for c in self.charts],
            "notes": list(self.notes),
        }


def _alert_json(alert: EpisodeRecord) -> dict[str, Any]:
    return {
        "rule": alert.rule,
        "labels": alert.labels,
        "severity": alert.severity,
        "fired_at": alert.fired_at.isoformat(),
        "value": alert.value,
        "threshold": alert.threshold,
        "resolved_at": alert.resolved_at.isoformat() if alert.resolved_at else None,
    }


def rolling_text(length: timedelta) -> str:
    """A period length as a rolling range: 24h → ``1d``, 23 h → ``23h``, 90 min → ``90m``."""
    minutes = int(length.total_seconds() // 60)
    if minutes % 1440 == 0:
        return f"{minutes // 1440}d"
    return f"{minutes // 60}h" if minutes % 60 == 0 else f"{minutes}m"


def period(definition: DigestDefinition, at: datetime, range_text: str | None = None) -> tuple[str, datetime]:
    """(range text, as-of instant) of the digest for ``at``: an explicit range or the definition's,
    else the time between the two latest slots at or before ``at``."""
    if range_text or definition.range:
        return (range_text or definition.range), at  # type: ignore[return-value]
    slot = latest_slot(definition.trigger, at)
    before = previous_slot(definition.trigger, slot) if slot else None
    if slot is None or before is None:
        raise UserError(f"The digest {definition.name} has no complete period before {at.isoformat()}; give a range.")
    return rolling_text(slot - before), slot


class DigestComposer:
    """Builds :class:`Digest` data; ``renderer`` None → no charts, ``alerts`` None → no alert history."""

    def __init__(
        self,
        panels: Panels,
        renderer: ChartRenderer | None,
        *,
        alerts: AlertRecords | None = None,
        access: AccessPolicy | None = None,
    ) -> None:
        self.panels = panels
        self.renderer = renderer
        self.alerts = alerts
        self.access = access

    def build(
        self,
        definition: DigestDefinition,
        at: datetime,
        range_text: str | None = None,
        channel: str | None = None,
        channel_name: str | None = None,
    ) -> Digest:
        """The digest for the period ending at ``at`` (see :func:`period`), as posted to ``channel``
        (id or name; default the definition's) — per-user figures only where they are allowed."""
        text, moment = period(definition, at, range_text)
        shown = self._allowed_panels(definition, channel or definition.channel, channel_name)
        hidden = set(definition.panels) - set(shown)
        charts = [name for name in definition.charts if not (hidden and find_panel(name).personal)]
        names = list(dict.fromkeys([*shown, *charts]))
        requests = [PanelRequest(name, text, dict(definition.filters)) for name in names]
        answers = dict(zip(names, self._run(requests, moment, set(charts), definition)))
        window = answers[names[0]][0].range
        digest = Digest(definition, window, {name: answers[name][0] for name in shown})
        if hidden:
            digest.notes.append(PEOPLE_HIDDEN)
        for name in charts:
            chart = answers[name][1]
            if isinstance(chart, ChartImage):
                digest.charts.append(chart)
            elif isinstance(chart, ChartUnavailable):
                digest.notes.append(f"{find_panel(name).title} chart left out: {chart}")
        if definition.alerts and self.alerts is not None:
            digest.alerts = matching(self.alerts.fired_between(window.start, window.end), definition.filters)
        return digest

    def _allowed_panels(self, definition: DigestDefinition, channel: str, channel_name: str | None) -> list[str]:
        """The definition's panels, without per-user ones when the channel may not see them."""
        if self.access is None:
            return list(definition.panels)
        try:
            self.access.check_personal("", channel.lstrip("#"), (channel_name or channel).lstrip("#"), public=True)
            return list(definition.panels)
        except AccessDenied:
            if "user" in definition.filters:
                raise AccessDenied(
                    f"The digest {definition.name} is filtered by user, and {channel} may not "
                    "see per-user figures (CODEX_BOT_PERSONAL_DATA_CHANNELS)."
                ) from None
            return [name for name in definition.panels if not find_panel(name).personal]

    def _run(
        self, requests: Sequence[PanelRequest], at: datetime, charted: set[str], definition: DigestDefinition
    ) -> list[tuple[PanelResult, ChartImage | ChartUnavailable | None]]:
        """Every panel concurrently: identical queries run once, the queries of one counter read it once,
        a figure and its previous value come from one query; each chart rendered as soon as its panel answered."""
        base = self.panels  # calendar ranges follow the digest's timezone
        combined = combined_reads(query for request in requests for query in find_panel(request.panel).queries.values())
        shared = SharedQueries(base.client)
        panels = Panels(shared, definition.tz, base.prices, combined=combined)  # type: ignore[arg-type]
        window = parse_range(requests[0].range_text, at, definition.tz)
        compared = {promql for request in requests for promql in panels.compared_reads(request, window)}
        shared.read_together(window, compared)

        def one(request: PanelRequest) -> tuple[PanelResult, ChartImage | ChartUnavailable | None]:
            result = panels.run(request, at)
            return result, self._chart(result, definition) if request.panel in charted else None

        order = sorted(range(len(requests)), key=lambda i: not find_panel(requests[i].panel).series)  # series first
        with ThreadPoolExecutor(max_workers=len(requests), thread_name_prefix="digest") as pool:
            answers = dict(zip(order, pool.map(one, [requests[i] for i in order])))
        return [answers[i] for i in range(len(requests))]

    def _chart(self, result: PanelResult, definition: DigestDefinition) -> ChartImage | ChartUnavailable | None:
        config = chart_config(result, definition.tz) if self.renderer is not None else None
        if config is None or self.renderer is None:
            return None
        try:
            png = self.renderer.png(config)
        except ChartUnavailable as exc:
            return exc
        title = f"{result.title} · {definition.name}"
        return ChartImage(png, chart_filename(result), title, f"{result.title} chart")


def matching(alerts: Sequence[EpisodeRecord], filters: Mapping[str, str]) -> list[EpisodeRecord]:
    """The alerts a filtered digest concerns: those whose labels do not contradict its filters."""
    return [a for a in alerts if all(a.labels.get(k, v) == v for k, v in filters.items())]
