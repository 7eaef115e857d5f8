"""Digest slots: the instants a cron schedule fires, in the digest's timezone.

A slot is one local wall-clock time of the schedule.  At a DST fall-back the same wall time
occurs twice; APScheduler fires at both, but it is one slot (the first occurrence).  At a
spring-forward a wall time that does not exist fires once (APScheduler moves it).  Slots are
returned as UTC instants, which is what the ledger stores.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

_TICK = timedelta(microseconds=1)
# How far back to look for the latest slot: widened until one is found (covers yearly and Feb 29 crons).
_LOOKBACKS = (
    timedelta(hours=3),
    timedelta(days=2),
    timedelta(days=9),
    timedelta(days=33),
    timedelta(days=367),
    timedelta(days=1470),
)


def cron_trigger(schedule: str, tz: ZoneInfo) -> CronTrigger:
    """A CronTrigger for a 5-field crontab line in ``tz``; ValueError with the reason when invalid."""
    return CronTrigger.from_crontab(schedule, timezone=tz)


def _repeated_wall_time(moment: datetime) -> bool:
    """True for the second occurrence of an ambiguous local time (DST fall-back)."""
    return moment.fold == 1 and moment.replace(fold=0).utcoffset() != moment.utcoffset()


def slots_between(trigger: CronTrigger, after: datetime, until: datetime) -> Iterator[datetime]:
    """The slots in (after, until], oldest first, as UTC instants."""
    cursor = after.astimezone(UTC) + _TICK  # arithmetic in UTC: local arithmetic loses DST fold
    while True:
        fire = trigger.get_next_fire_time(None, cursor)
        if fire is None or fire > until:
            return
        if not _repeated_wall_time(fire):
            yield fire.astimezone(UTC)
        cursor = fire.astimezone(UTC) + _TICK


def latest_slot(trigger: CronTrigger, now: datetime) -> datetime | None:
    """The most recent slot at or before ``now`` (None if the schedule never fired in 4 years)."""
    now = now.astimezone(UTC)
    for lookback in _LOOKBACKS:
        last = deque(slots_between(trigger, now - lookback, now), maxlen=1)
        if last:
            return last[0]
    return None


def previous_slot(trigger: CronTrigger, slot: datetime) -> datetime | None:
    """The slot just before ``slot``."""
    return latest_slot(trigger, slot.astimezone(UTC) - _TICK)


def next_slot(trigger: CronTrigger, now: datetime) -> datetime | None:
    """The first slot strictly after ``now``."""
    now = now.astimezone(UTC)
    return next(slots_between(trigger, now, now + _LOOKBACKS[-1]), None)
