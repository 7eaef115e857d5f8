"""A synthetic Codex fleet: the log events N developers' Codex processes would export over D days.

Deterministic by seed.  Attribute names, value types (string-typed numbers) and event order copy
real Codex 0.169.0 exports.  Traffic follows working hours and weekdays in the fleet's time zone;
planted :mod:`incidents <codex_bot.simulate.incidents>` change behaviour inside their windows.
:func:`simulate` yields events in time order, a day at a time, so memory stays small.
"""

from __future__ import annotations

import math
import random
from bisect import bisect_left
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from codex_bot.simulate.event import SimEvent
from codex_bot.simulate.incidents import Incident
from codex_bot.simulate.people import MODELS, Developer, make_developers, pick
from codex_bot.simulate.session import Session

# Relative traffic per local hour of day (0..23): working hours, a lunch dip, very little at night.
HOUR_WEIGHTS = (
    0.01,
    0.005,
    0.005,
    0.005,
    0.005,
    0.01,
    0.03,
    0.2,
    0.6,
    1.0,
    1.0,
    1.0,
    0.55,
    0.8,
    1.0,
    1.0,
    0.9,
    0.6,
    0.3,
    0.15,
    0.1,
    0.08,
    0.04,
    0.02,
)
WEEKEND_FACTOR = 0.07  # weekend traffic relative to a weekday


@dataclass(frozen=True)
class FleetConfig:
    developers: int = 20
    days: float = 7.0
    end: datetime = field(default_factory=lambda: next_full_hour(datetime.now(UTC)))
    seed: int = 1
    timezone: str = "UTC"  # working hours and weekends are local to this zone
    incidents: tuple[Incident, ...] = ()
    conversations_per_day: float = 2.5  # per developer per working day, on average
    late_joiner_share: float = 0.15  # share of developers who first appear mid-range

    def __post_init__(self) -> None:
        if self.developers < 1 or self.days <= 0:
            raise ValueError("a fleet needs at least one developer and a positive number of days")
        if self.end.tzinfo is None:
            raise ValueError("FleetConfig.end must be timezone-aware")

    @property
    def start(self) -> datetime:
        return self.end - timedelta(days=self.days)


def next_full_hour(now: datetime) -> datetime:
    return now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)


RUNAWAY_SESSION_EVERY = timedelta(minutes=10)


def simulate(config: FleetConfig) -> Iterator[SimEvent]:
    """Every event of the fleet with ``config.start < time <= config.end``, in time order."""
    tz = ZoneInfo(config.timezone)
    start_ms, end_ms = _ms(config.start), _ms(config.end)
    developers = make_developers(config.developers, config.days, config.seed, config.late_joiner_share)
    first_days = {d.index: _first_day(config, d, tz) for d in developers}
    pending: list[SimEvent] = []
    for day in _local_days(config.start, config.end, tz):
        for developer in developers:
            if day >= first_days[developer.index]:
                joining = developer.joins_day > 0 and day == first_days[developer.index]
                pending.extend(_developer_day(config, developer, day, tz, joining))
        pending.sort(key=_time_key)
        next_midnight = _ms(_local_midnight(day + timedelta(days=1), tz))
        cut = bisect_left(pending, next_midnight, key=_time_key)
        yield from (e for e in pending[:cut] if start_ms < e.time_ms <= end_ms)
        del pending[:cut]
    yield from (e for e in pending if start_ms < e.time_ms <= end_ms)


def _first_day(config: FleetConfig, developer: Developer, tz: ZoneInfo) -> date:
    """The local day a developer starts; people who join mid-range start on a working day."""
    day = (config.start + timedelta(days=developer.joins_day)).astimezone(tz).date()
    while developer.joins_day > 0 and day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def _developer_day(config: FleetConfig, developer: Developer, day: date, tz: ZoneInfo, joining: bool) -> list[SimEvent]:
    """A developer's conversations starting on ``day`` (at least one on the day they join)."""
    rng = random.Random(f"{config.seed}:{developer.index}:{day.isoformat()}")
    weekend = day.weekday() >= 5
    mean = config.conversations_per_day * developer.activity * (WEEKEND_FACTOR if weekend else 1.0)
    midnight = _local_midnight(day, tz)
    events: list[SimEvent] = []
    for _ in range(max(_poisson(rng, mean), 1 if joining else 0)):
        hour = rng.choices(range(24), HOUR_WEIGHTS)[0] + rng.random() + developer.shift_hours
        begin = _ms(midnight + timedelta(hours=min(max(hour, 0.0), 23.999)))
        model = developer.model if rng.random() < 0.8 else pick(rng, MODELS)
        events.extend(Session(developer, rng, begin, model, config.incidents).run())
    for begin in _runaway_starts(config, developer, day, tz):
        events.extend(Session(developer, rng, begin, developer.model, config.incidents, tool_mean=0).run())
    return events


def _runaway_starts(config: FleetConfig, developer: Developer, day: date, tz: ZoneInfo) -> list[int]:
    """A token spike is a runaway agent loop: developer 0 starts a model-only session every 10 minutes.

    So a spike shows whatever the regular traffic at that hour happens to be (night, weekend, few people),
    and it leaves the other incidents' figures (tool durations) alone.
    """
    if developer.index != 0:
        return []
    starts = []
    for incident in config.incidents:
        if incident.kind != "token-spike" or incident.start.astimezone(tz).date() != day:
            continue
        moment = incident.start
        while moment < incident.end:
            starts.append(_ms(moment) + 1)
            moment += RUNAWAY_SESSION_EVERY
    return starts


def _poisson(rng: random.Random, mean: float) -> int:
    limit, k, p = math.exp(-mean), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def _local_days(start: datetime, end: datetime, tz: ZoneInfo) -> Iterator[date]:
    day, last = start.astimezone(tz).date(), end.astimezone(tz).date()
    while day <= last:
        yield day
        day += timedelta(days=1)


def _local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=tz)


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _time_key(event: SimEvent) -> int:
    return event.time_ms
