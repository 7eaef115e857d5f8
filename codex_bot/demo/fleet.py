"""The demo's fleet: a simulated team with incidents planted where the demo will look, backfilled into a TSDB.

Incidents sit on working hours of recent weekdays (in the fleet's time zone): the one the alert
cycles replay (a success-rate drop) inside the period the daily digest covers, so the digest lists
it; a command-duration spike on the latest weekday, inside ``/codex p95 24h`` when it can be; a
runaway token loop and a prompt-cache fall earlier in the week, visible in the 7-day panels.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from codex_bot.simulate.fleet import FleetConfig, simulate
from codex_bot.simulate.incidents import Incident, IncidentKind
from codex_bot.simulate.output import OutputSummary, write_files
from codex_bot.telemetry.backfill import BackfillReport, backfill
from codex_bot.telemetry.labels import UserLabelRule

ALERT_KIND: IncidentKind = "success-drop"
ALERT_HOURS = (10, 2)  # local start hour and length of the replayed incident
RESOLVE_AFTER = timedelta(hours=1, minutes=30)  # replay this long after the incident: the rule's 1 h window is clean
OTHERS: tuple[tuple[IncidentKind, int, int], ...] = (  # kind, local start hour, hours; on the latest weekdays
    ("p95-spike", 14, 2),
    ("token-spike", 15, 2),
    ("cache-fall", 10, 3),
)


@dataclass(frozen=True)
class DemoFleet:
    """What was simulated, and the instants the demo evaluates at (all on the backfill grid)."""

    config: FleetConfig
    at: datetime  # "now" of the demo: commands and the digest are answered as of this
    alert_incident: Incident  # the alert cycles are replayed from its start …
    resolve_by: datetime  # … until its alert resolved, at the latest until this

    @property
    def incidents(self) -> tuple[Incident, ...]:
        return self.config.incidents


def plan(
    developers: int, days: float, seed: int, at: datetime, timezone: str, digest_period: tuple[datetime, datetime]
) -> DemoFleet:
    """The fleet ending at ``at``, its incidents, and the alert replay's end."""
    tz = ZoneInfo(timezone)
    alert = _alert_incident(tz, digest_period, at)
    others = _other_incidents(tz, at, busy=alert.start.astimezone(tz).date())
    config = FleetConfig(
        developers=developers, days=days, end=at, seed=seed, timezone=timezone, incidents=(alert, *others)
    )
    return DemoFleet(config, at, alert, alert.end + RESOLVE_AFTER)


def _local(day: date, hour: int, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(hour), tz)


def _alert_incident(tz: ZoneInfo, period: tuple[datetime, datetime], at: datetime) -> Incident:
    """The first weekday working-hours slot inside ``period`` with room to fire and resolve before its end;
    without one (a period too short), the latest such slot before ``at``."""
    hour, hours = ALERT_HOURS
    start, end = period
    day = start.astimezone(tz).date()
    while day <= end.astimezone(tz).date():
        begin = _local(day, hour, tz)
        if day.weekday() < 5 and begin >= start and begin + timedelta(hours=hours) + RESOLVE_AFTER <= end:
            return Incident(ALERT_KIND, begin, begin + timedelta(hours=hours))
        day += timedelta(days=1)
    day = _weekdays_before(at, tz, hour + hours + 2)[0]
    return Incident(ALERT_KIND, _local(day, hour, tz), _local(day, hour + hours, tz))


def _other_incidents(tz: ZoneInfo, at: datetime, busy: date) -> list[Incident]:
    """One incident of each other kind on the latest weekdays (cache-fall not on the alert's day)."""
    days = _weekdays_before(at, tz, 18)
    picked = [days[0], days[1], next(d for d in days[2:] if d != busy)]
    return [
        Incident(kind, _local(day, hour, tz), _local(day, hour + hours, tz))
        for (kind, hour, hours), day in zip(OTHERS, picked, strict=True)
    ]


def _weekdays_before(at: datetime, tz: ZoneInfo, until_hour: int) -> list[date]:
    """Weekdays, latest first, whose local ``until_hour`` o'clock is at or before ``at`` (two weeks' worth)."""
    day = at.astimezone(tz).date()
    found: list[date] = []
    while len(found) < 10:
        if day.weekday() < 5 and _local(day, until_hour, tz) <= at:
            found.append(day)
        day -= timedelta(days=1)
    return found


def build(fleet: DemoFleet, workdir: Path, step: int, rule: UserLabelRule) -> tuple[OutputSummary, BackfillReport]:
    """Simulate the fleet's OTLP exports into ``workdir/otlp`` and backfill them into ``workdir/tsdb``."""
    written = write_files(simulate(fleet.config), workdir / "otlp", jsonl=True)
    report = backfill(written.paths, workdir / "tsdb", step=step, end=fleet.at.timestamp(), rule=rule)
    return written, report
