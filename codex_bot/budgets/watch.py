"""Checking budgets on the alert schedule: each threshold is announced once per budget and month.

A threshold is recorded in ``budget_notices`` in the same transaction as the outbox delivery that
announces it, so a restart (or a second bot process) never announces it again and a crash never
loses it.  When one check finds several new thresholds passed (the bot was down, or the month
started fast), one message names them all.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import RowMapping

from codex_bot.budgets.definitions import BudgetFile
from codex_bot.budgets.forecast import Standing, standing
from codex_bot.budgets.messages import budget_message
from codex_bot.dashboard import DashboardLink
from codex_bot.delivery.outbox import Outbox, Outgoing
from codex_bot.errors import UserError
from codex_bot.panels.service import PanelRunner
from codex_bot.store import Params, Store, add_migration

log = logging.getLogger(__name__)

add_migration(
    "budgets/001-notices",
    """CREATE TABLE budget_notices (
        budget TEXT NOT NULL,
        month TEXT NOT NULL,           -- e.g. 2026-12, in the budgets' timezone
        threshold {real} NOT NULL,     -- percent of the limit
        spent {real} NOT NULL,         -- the month's figure when it was passed
        delivery_key TEXT NOT NULL,    -- the outbox delivery that announced it
        noticed_at {real} NOT NULL,
        PRIMARY KEY (budget, month, threshold)
    )""",
)


@dataclass
class BudgetReport:
    standings: list[Standing] = field(default_factory=list)
    announced: list[str] = field(default_factory=list)  # outbox keys
    failures: dict[str, str] = field(default_factory=dict)  # budget name → reason


@dataclass
class BudgetWatch:
    budgets: BudgetFile
    panels: PanelRunner
    store: Store
    outbox: Outbox
    source: str
    dashboard: DashboardLink | None = None

    def __post_init__(self) -> None:
        self.store.migrate()

    def check(self, at: datetime | None = None) -> BudgetReport:
        """Every budget as of ``at`` (default now); enqueue a notice for thresholds newly passed."""
        moment = at or datetime.now(UTC)
        report = BudgetReport()
        for budget in self.budgets.budgets:
            try:
                now = standing(self.panels, budget, moment, self.budgets.tz)
            except UserError as exc:  # Prometheus down or slow: the next check tries again
                log.warning("budget %s could not be checked: %s", budget.name, exc)
                report.failures[budget.name] = str(exc)
                continue
            if now is None:
                continue
            report.standings.append(now)
            key = self._announce(now)
            if key:
                report.announced.append(key)
        return report

    def noticed(self, budget: str, month: str) -> list[float]:
        """The thresholds of ``budget`` announced in ``month`` (e.g. 2026-12)."""
        return _noticed(self.store.fetchall, budget, month)

    def _announce(self, now: Standing) -> str | None:
        """Record and enqueue, in one write transaction (BEGIN IMMEDIATE: read and write are not
        interleaved with another process; on PostgreSQL the primary key makes a second writer's insert
        wait, then fail and roll back), the thresholds not announced yet; their outbox key."""
        budget, month = now.budget, now.month.label
        with self.store.transaction() as tx:
            done = _noticed(tx.all, budget.name, month)
            new = [t for t in now.crossed() if t not in done]
            if not new:
                return None
            key = f"budget:{budget.name}:{month}:{new[-1]:g}"
            tx.execute(
                "INSERT INTO budget_notices (budget, month, threshold, spent, delivery_key, noticed_at)"
                " VALUES (:budget, :month, :threshold, :spent, :key, :at)",
                [
                    {
                        "budget": budget.name,
                        "month": month,
                        "threshold": t,
                        "spent": now.spent,
                        "key": key,
                        "at": now.at.timestamp(),
                    }
                    for t in new
                ],
            )
            message = budget_message(now, new, self.budgets.tz, self.source, self.dashboard)
            self.outbox.enqueue(tx, Outgoing(key, budget.channel, message))
        return key


def _noticed(fetchall: Callable[[str, Params], list[RowMapping]], budget: str, month: str) -> list[float]:
    rows = fetchall(
        "SELECT threshold FROM budget_notices WHERE budget = :budget AND month = :month ORDER BY threshold",
        {"budget": budget, "month": month},
    )
    return [row["threshold"] for row in rows]
