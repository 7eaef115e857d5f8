"""One alert cycle end to end: evaluate → record states and episodes → enqueue messages → deliver.

The engine holds no state of its own between cycles: everything is in the state database, so a
new process over the same database carries on exactly (no duplicate post, no lost resolution).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from codex_bot.alerts.evaluate import Evaluation, StateKey, evaluate
from codex_bot.alerts.loader import RuleSet
from codex_bot.alerts.notify import NoticeReport, Notifier
from codex_bot.alerts.records import AlertRecords
from codex_bot.alerts.rules import Rule
from codex_bot.alerts.sampling import Sampler
from codex_bot.alerts.state import AlertState
from codex_bot.charts.renderer import ChartRenderer
from codex_bot.dashboard import DashboardLink
from codex_bot.delivery.outbox import FlushReport, Outbox, Transport
from codex_bot.metrics.client import PrometheusClient
from codex_bot.panels.cost import PriceTable
from codex_bot.store import Store

log = logging.getLogger(__name__)
UNNOTIFIED = "alerts/unnotified-at"  # a cycle recorded its states as of this time; its messages are not all enqueued


@dataclass
class CycleReport:
    evaluation: Evaluation
    notices: NoticeReport
    delivered: FlushReport | None


class AlertEngine:
    def __init__(
        self,
        rules: RuleSet,
        client: PrometheusClient,
        prices: PriceTable,
        store: Store,
        outbox: Outbox,
        tz: ZoneInfo,
        *,
        interval: timedelta = timedelta(minutes=1),
        renderer: ChartRenderer | None = None,
        transport: Transport | None = None,
        dashboard: DashboardLink | None = None,
    ) -> None:
        self.rules = rules
        self.client = client
        self.prices = prices
        self.store = store
        self.outbox = outbox
        self.interval = interval
        self.transport = transport
        self.records = AlertRecords(store)
        self.notifier = Notifier(store, outbox, tz, renderer, self.sampler, dashboard)

    def sampler(self) -> Sampler:
        return Sampler(self.client, self.prices)

    def run_cycle(self, at: datetime | None = None) -> CycleReport:
        """Evaluate every rule as of ``at`` (default now), record, notify and deliver what is due."""
        moment = at or datetime.now(UTC)
        by_name = {rule.name: rule for rule in self.rules.rules}
        previous = self.records.states()
        self._notify_interrupted(by_name, previous)
        evaluation = evaluate(self.rules.rules, moment, self.sampler(), previous, self.interval)
        removed = self._removed(by_name, previous)
        with self.store.transaction() as tx:
            if removed:
                self.records.forget(tx, removed)
            self.records.save(tx, evaluation.states, evaluation.transitions, by_name)
            self.store.put_value(tx, UNNOTIFIED, evaluation.at.isoformat())
        for name, reason in evaluation.failures.items():
            log.warning("rule %s could not be evaluated: %s", name, reason)
        states = {(s.rule, s.key): s for s in evaluation.states}
        notices = self.notifier.notify(by_name, self.rules.routing, evaluation.at, states)
        self.notifier.health(evaluation, len(self.rules.rules), self.rules.routing)
        with self.store.transaction() as tx:
            self.store.put_value(tx, UNNOTIFIED, None)
        delivered = self.outbox.flush(self.transport) if self.transport is not None else None
        return CycleReport(evaluation, notices, delivered)

    def _removed(self, rules: dict[str, Rule], states: dict[StateKey, AlertState]) -> set[str]:
        """Rules with stored states that the rule files no longer define.  None while a rule file has
        problems: its rules are missing for now, not removed, and their alerts carry on once it is fixed."""
        gone = {rule for rule, _ in states} - set(rules)
        return set() if self.rules.problems else gone

    def _notify_interrupted(self, rules: dict[str, Rule], states: dict[StateKey, AlertState]) -> None:
        """Finish the notices of a cycle that recorded its states but stopped before enqueueing them all.

        Without this, an alert recorded as firing by a cycle that then crashed (or failed) and resolved
        by the next cycle would never be posted: the notifier only announces open episodes.
        """
        since = self.store.value(UNNOTIFIED)
        if since is None:
            return
        log.warning("the alert cycle of %s stopped before notifying; notifying now", since)
        try:
            self.notifier.notify(rules, self.rules.routing, datetime.fromisoformat(since), states)
        except Exception:  # a notifier that keeps failing must not stop evaluation too
            log.exception("notifying for the alert cycle of %s failed", since)
