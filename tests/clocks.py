"""A clock the test sets by hand, so waits (backoff, schedules) cost no real time."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Generic, TypeVar

T = TypeVar("T", float, datetime)


class ManualClock(Generic[T]):
    """``clock()`` is ``clock.now``: Unix seconds (float) or a datetime, moved only by the test."""

    def __init__(self, now: T) -> None:
        self.now = now

    def __call__(self) -> T:
        return self.now

    def advance(self, **delta: float) -> None:
        step = timedelta(**delta)
        self.now = self.now + (step if isinstance(self.now, datetime) else step.total_seconds())  # type: ignore[assignment]
