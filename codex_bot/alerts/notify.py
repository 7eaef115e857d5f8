"""The Slack lifecycle of alerts, as deliveries in the outbox (never posts directly).

Reconciles what was said with what is true, so it is safe to run any number of times and
after any restart: every open episode that is not silenced has a firing message; a posted
episode that resolved (or whose rule was removed) gets its original message edited and a reply in
its thread; a firing,
unacknowledged, unsilenced episode gets a reminder in its thread every ``repeat``.  Each
delivery and the episode's bookkeeping are written in one transaction, and every outbox key
is derived from the episode id, so nothing is said twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from codex_bot.alerts import messages
from codex_bot.alerts.chart import alert_chart
from codex_bot.alerts.evaluate import Evaluation, StateKey
from codex_bot.alerts.records import AlertRecords, EpisodeRecord
from codex_bot.alerts.routing import Routing
from codex_bot.alerts.rules import Rule
from codex_bot.alerts.sampling import Sampler
from codex_bot.alerts.silences import Silences
from codex_bot.alerts.state import AlertState, group_key
from codex_bot.charts.renderer import ChartRenderer
from codex_bot.dashboard import DashboardLink
from codex_bot.delivery.message import Message
from codex_bot.delivery.outbox import Outbox, Outgoing
from codex_bot.store import Store

log = logging.getLogger(__name__)
FAILING_SINCE = "alerts/evaluation-failing-since"


def firing_key(episode_id: int) -> str:
    return f"alert:{episode_id}:firing"


def silence_key(episode_id: int, silence_id: int) -> str:
    """The thread note of a silence set from the alert's message (its edit is ``…:edit``, its end ``…:ended``)."""
    return f"alert:{episode_id}:silence:{silence_id}"


@dataclass
class NoticeReport:
    posted: list[int] = field(default_factory=list)
    resolved: list[int] = field(default_factory=list)
    reminded: list[int] = field(default_factory=list)
    held: list[int] = field(default_factory=list)  # silenced, or nowhere to send


@dataclass
class Notifier:
    store: Store
    outbox: Outbox
    tz: ZoneInfo
    renderer: ChartRenderer | None = None
    sampler: Callable[[], Sampler] | None = None  # a fresh sampler for chart history
    dashboard: DashboardLink | None = None  # CODEX_BOT_DASHBOARD_URL_TEMPLATE, linked from each alert

    def __post_init__(self) -> None:
        self.records = AlertRecords(self.store)
        self.silences = Silences(self.store)

    def notify(
        self,
        rules: Mapping[str, Rule],
        routing: Routing,
        at: datetime,
        states: Mapping[StateKey, AlertState] | None = None,
    ) -> NoticeReport:
        """Enqueue every message the episodes need as of ``at``."""
        report = NoticeReport()
        states = states or {}
        for episode in self.records.needing_notice():
            rule = rules.get(episode.rule)
            if rule is None:
                if not episode.open and episode.posted_key is not None:
                    self._retire(episode, report)
                continue
            channel = routing.channel_for(rule, episode.labels) or self._posted_channel(episode)
            if channel is None:
                log.error("alert %s has no channel: set routing.default or the rule's channel", rule.name)
                report.held.append(episode.id)
            elif not episode.open:
                self._resolve(rule, episode, channel, report)
            elif self.silences.covering(rule.name, episode.labels, at) is not None:
                report.held.append(episode.id)
            elif episode.posted_key is None:
                self._fire(rule, episode, channel, at, report)
            else:
                self._unsilence(rule, episode, channel, at)
                self._remind(rule, episode, channel, at, states.get((rule.name, group_key(episode.labels))), report)
        return report

    def _posted_channel(self, episode: EpisodeRecord) -> str | None:
        """Where the episode's firing message went (its replies follow it there, see the outbox)."""
        return self.outbox.channel_of(episode.posted_key) if episode.posted_key else None

    def _fire(self, rule: Rule, episode: EpisodeRecord, channel: str, at: datetime, report: NoticeReport) -> None:
        sampler = self.sampler() if self.sampler else None
        chart, note = (
            alert_chart(
                rule, episode.labels, episode.threshold, episode.started_at, at, sampler, self.renderer, self.tz
            )
            if sampler
            else (None, "")
        )
        message = messages.firing_message(rule, episode, self.tz, chart, note, dashboard=self.dashboard)
        key = firing_key(episode.id)
        with self.store.transaction() as tx:
            self.outbox.enqueue(tx, Outgoing(key, channel, message))
            self.records.mark(tx, episode.id, posted_key=key, last_notified_at=at)
        report.posted.append(episode.id)

    def _resolve(self, rule: Rule, episode: EpisodeRecord, channel: str, report: NoticeReport) -> None:
        self._close_thread(
            episode,
            channel,
            messages.resolved_message(rule, episode, self.tz),
            messages.resolved_reply(rule, episode),
            report,
        )

    def _retire(self, episode: EpisodeRecord, report: NoticeReport) -> None:
        """Close the Slack thread of an alert whose rule was removed, in the channel its firing message went to."""
        channel = self._posted_channel(episode)
        if channel is not None:
            self._close_thread(
                episode, channel, messages.retired_message(episode, self.tz), messages.retired_reply(episode), report
            )

    def _close_thread(
        self, episode: EpisodeRecord, channel: str, edited: Message, reply: Message, report: NoticeReport
    ) -> None:
        """Edit the firing message into ``edited`` and say ``reply`` in its thread."""
        parent = episode.posted_key
        assert parent is not None
        with self.store.transaction() as tx:
            self.outbox.enqueue(tx, Outgoing(f"alert:{episode.id}:resolved-edit", channel, edited, edit_of=parent))
            key = f"alert:{episode.id}:resolved"
            self.outbox.enqueue(tx, Outgoing(key, channel, reply, thread_of=parent))
            self.records.mark(tx, episode.id, resolution_key=key)
        report.resolved.append(episode.id)

    def _unsilence(self, rule: Rule, episode: EpisodeRecord, channel: str, at: datetime) -> None:
        """Once a silence that edited a still firing alert's message ends, edit it back (Silence buttons again)."""
        ended = [
            s
            for s in self.silences.ended(rule.name, episode.labels, episode.fired_at, at)
            if self.outbox.status(silence_key(episode.id, s.id) + ":edit") is not None
        ]
        if ended and episode.posted_key is not None:
            message = messages.firing_message(rule, episode, self.tz, dashboard=self.dashboard)
            self.outbox.put(
                Outgoing(silence_key(episode.id, ended[-1].id) + ":ended", channel, message, edit_of=episode.posted_key)
            )

    def _remind(
        self,
        rule: Rule,
        episode: EpisodeRecord,
        channel: str,
        at: datetime,
        state: AlertState | None,
        report: NoticeReport,
    ) -> None:
        if not rule.repeat or episode.acknowledged_by or episode.posted_key is None:
            return
        last = episode.last_notified_at or episode.fired_at
        if at - last < rule.repeat:
            return
        number = int((at - episode.fired_at) / rule.repeat)
        value = state.value if state else episode.value
        with self.store.transaction() as tx:
            self.outbox.enqueue(
                tx,
                Outgoing(
                    f"alert:{episode.id}:reminder:{number}",
                    channel,
                    messages.reminder_message(rule, episode, value, at),
                    thread_of=episode.posted_key,
                ),
            )
            self.records.mark(tx, episode.id, last_notified_at=at)
        report.reminded.append(episode.id)

    # --- evaluation health: one notice per outage, one reply when it ends ---

    def health(self, evaluation: Evaluation, rule_count: int, routing: Routing) -> None:
        since_text = self.store.value(FAILING_SINCE)
        failing = bool(evaluation.failures) and len(evaluation.failures) == rule_count
        if failing and since_text is None and routing.default:
            reason = next(iter(evaluation.failures.values()))
            with self.store.transaction() as tx:
                self.store.put_value(tx, FAILING_SINCE, evaluation.at.isoformat())
                self.outbox.enqueue(
                    tx,
                    Outgoing(
                        _failing_key(evaluation.at),
                        routing.default,
                        messages.failing_notice(reason, evaluation.at, self.tz),
                    ),
                )
        elif not failing and since_text is not None:
            since = datetime.fromisoformat(since_text)
            with self.store.transaction() as tx:
                self.store.put_value(tx, FAILING_SINCE, None)
                if routing.default:
                    self.outbox.enqueue(
                        tx,
                        Outgoing(
                            f"{_failing_key(since)}:recovered",
                            routing.default,
                            messages.recovered_notice(since, evaluation.at),
                            thread_of=_failing_key(since),
                        ),
                    )


def _failing_key(since: datetime) -> str:
    return f"alerts:evaluation-failing:{int(since.timestamp())}"
