"""A budget's month so far and its linear forecast to the month's end.

The month is the calendar month in the budgets' timezone (DST-safe: its ends are built from
calendar dates).  The figure is the budget's panel figure over the month so far, read as a rolling
range of whole minutes ending at ``at`` (so no new query path: the panel service answers it).
Forecast (linear): the month-so-far average rate, held until the month ends:
``spent × month length / elapsed``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

from codex_bot.budgets.definitions import Budget
from codex_bot.metrics.ranges import floor_to_grid
from codex_bot.panels.request import PanelRequest
from codex_bot.panels.service import PanelRunner


@dataclass(frozen=True)
class Month:
    start: datetime  # UTC
    end: datetime  # UTC, the first instant of the next month
    label: str  # "2026-12"

    @classmethod
    def of(cls, at: datetime, tz: tzinfo) -> Month:
        local = at.astimezone(tz)
        first = datetime(local.year, local.month, 1, tzinfo=tz)
        following = datetime(local.year + local.month // 12, local.month % 12 + 1, 1, tzinfo=tz)
        return cls(first.astimezone(UTC), following.astimezone(UTC), f"{local:%Y-%m}")


@dataclass(frozen=True)
class Standing:
    """Where a budget stands at ``at``: spent so far this month and the forecast for the whole month."""

    budget: Budget
    month: Month
    at: datetime
    spent: float
    forecast: float

    @property
    def percent(self) -> float:
        return 100 * self.spent / self.budget.limit

    @property
    def forecast_percent(self) -> float:
        return 100 * self.forecast / self.budget.limit

    def crossed(self) -> list[float]:
        """The thresholds the month's figure has reached."""
        return [t for t in self.budget.thresholds if self.spent >= self.budget.limit * t / 100]

    def runs_out(self) -> datetime | None:
        """When the limit is reached at the month-so-far rate (to the minute), if that is before the month ends."""
        elapsed = (self.at - self.month.start).total_seconds()
        if self.spent <= 0 or self.spent >= self.budget.limit:
            return None
        moment = floor_to_grid(self.month.start + timedelta(seconds=elapsed * self.budget.limit / self.spent))
        return moment if moment < self.month.end else None


def standing(panels: PanelRunner, budget: Budget, at: datetime, tz: tzinfo) -> Standing | None:
    """The budget's standing as of ``at`` (floored to the minute); None in a month's first minute."""
    end = floor_to_grid(at)
    month = Month.of(end, tz)
    minutes = int((end - month.start).total_seconds() // 60)
    if minutes < 1:
        return None
    panel, key, _ = budget.figure
    result = panels.run(PanelRequest(panel, f"{minutes}m", budget.filters), at=end)
    spent = result.figures.get(key) or 0.0
    forecast = spent * (month.end - month.start).total_seconds() / (end - month.start).total_seconds()
    return Standing(budget, month, end, spent, forecast)
