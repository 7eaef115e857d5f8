"""Runs alert cycles on APScheduler 3 every ``alert_interval_seconds``, and retries pending deliveries.

The scheduler only schedules: each cycle is :meth:`AlertEngine.run_cycle`.  Jobs live in memory
(everything worth keeping is in the state database); with several bot processes on one
database, a lease lets one of them evaluate at a time.
"""

from __future__ import annotations

import logging
import os
import uuid
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from codex_bot.alerts.engine import AlertEngine
from codex_bot.budgets.watch import BudgetWatch
from codex_bot.delivery.outbox import Outbox, Transport

log = logging.getLogger(__name__)
LEASE = "alerts/cycle"
RETRY_SECONDS = 5  # how often due deliveries (retries) are sent between cycles
CYCLE_JOB, DELIVER_JOB = "alerts-cycle", "alerts-deliver"


class AlertScheduler:
    def __init__(
        self,
        engine: AlertEngine,
        outbox: Outbox,
        transport: Transport,
        interval: timedelta = timedelta(minutes=1),
        budgets: BudgetWatch | None = None,
        scheduler: BaseScheduler | None = None,
    ) -> None:
        """``scheduler``: the process's one APScheduler, started and stopped by its owner (``codex-bot serve``
        shares one with the digest schedules); without it the alert loop runs its own."""
        self.engine = engine
        self.outbox = outbox
        self.transport = transport
        self.interval = interval
        self.budgets = budgets  # checked after each alert cycle
        self.owner = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._owns_scheduler = scheduler is None
        self.scheduler = scheduler or BackgroundScheduler(timezone=UTC)

    def start(self) -> None:
        """Add the cycle and delivery jobs (kept in memory: they are re-added at every start); start the
        scheduler if it is this loop's own."""
        seconds = self.interval.total_seconds()
        once = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 30, "replace_existing": True}
        self.scheduler.add_job(
            self.cycle, cycle_trigger(seconds), id=CYCLE_JOB, next_run_time=datetime.now(UTC), **once
        )
        self.scheduler.add_job(self.deliver, "interval", seconds=RETRY_SECONDS, id=DELIVER_JOB, **once)
        if self._owns_scheduler:
            self.scheduler.start()

    def shutdown(self) -> None:
        """Stop after the running cycle, and hand the lease over at once (another replica need not wait it out)."""
        if self._owns_scheduler:  # a shared scheduler is shut down by its owner first
            self.scheduler.shutdown(wait=True)
        self.engine.store.release(LEASE, self.owner)

    def cycle(self) -> None:
        """One evaluation cycle, if this process holds the lease (never raises: the next cycle retries)."""
        if not self.engine.store.lease(LEASE, self.owner, self.interval.total_seconds() * 3):
            return
        try:
            report = self.engine.run_cycle()
            log.info(
                "alert cycle at %s: %d states, %d changes, %d queries",
                report.evaluation.at,
                len(report.evaluation.states),
                len(report.evaluation.transitions),
                report.evaluation.queries,
            )
        except Exception:
            log.exception("alert cycle failed")
        if self.budgets is not None:
            self.check_budgets()

    def check_budgets(self) -> None:
        """Check every budget and send what it announces (never raises: the next cycle checks again)."""
        assert self.budgets is not None
        try:
            report = self.budgets.check()
            self.outbox.flush(self.transport)
            log.info("budgets checked: %d, announced: %s", len(report.standings), ", ".join(report.announced) or "none")
        except Exception:
            log.exception("budget check failed")

    def deliver(self) -> None:
        try:
            self.outbox.flush(self.transport)
        except Exception:
            log.exception("delivering alert messages failed")


def cycle_trigger(seconds: float) -> BaseTrigger:
    """When the cycles after the first one run: 1 s past the minute when the interval is a whole number of
    minutes dividing an hour (a cycle evaluates as of its minute, so it then holds what Prometheus scraped
    until a second before it ran); every ``seconds`` from the first one otherwise."""
    minutes, rest = divmod(int(seconds), 60)
    if seconds == int(seconds) and not rest and minutes and 60 % minutes == 0:
        return CronTrigger(minute="0" if minutes == 60 else f"*/{minutes}", second=1, timezone=UTC)
    return IntervalTrigger(seconds=seconds)
