"""Planted incidents for the synthetic fleet: a kind and a time window, parsed from ``KIND@START/DURATION``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from codex_bot.errors import UserError

IncidentKind = Literal["success-drop", "p95-spike", "cache-fall", "token-spike"]
INCIDENT_KINDS: tuple[str, ...] = ("success-drop", "p95-spike", "cache-fall", "token-spike")

# What each kind does while active (read by the generator).
FAILURE_RATE_DURING_DROP = 0.45  # share of model calls that fail (normally ~1.5 %)
DURATION_FACTOR_DURING_SPIKE = 12.0  # exec_command durations are multiplied by this
CACHE_FACTOR_DURING_FALL = 0.1  # cached share of input tokens is multiplied by this
TOKEN_FACTOR_DURING_SPIKE = 6.0  # input and output tokens are multiplied by this

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhd])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class BadIncident(UserError):
    pass


@dataclass(frozen=True)
class Incident:
    """One planted incident: ``kind`` is active for event times in ``(start, end]``."""

    kind: IncidentKind
    start: datetime
    end: datetime

    def active(self, time_ms: int) -> bool:
        return self.start_ms < time_ms <= self.end_ms

    @property
    def start_ms(self) -> int:
        return int(self.start.timestamp() * 1000)

    @property
    def end_ms(self) -> int:
        return int(self.end.timestamp() * 1000)

    def spec(self) -> str:
        """The ``KIND@START/DURATION`` text that parses back to this incident."""
        minutes = int((self.end - self.start).total_seconds() // 60)
        return f"{self.kind}@{self.start.strftime('%Y-%m-%dT%H:%M')}/{minutes}m"


def parse_duration(text: str) -> timedelta:
    """``90s``, ``30m``, ``2h``, ``1.5d`` → timedelta."""
    match = _DURATION.match(text.strip())
    if not match or float(match.group(1)) <= 0:
        raise BadIncident(f"bad duration {text!r}: use a positive number with s, m, h or d, e.g. 2h")
    return timedelta(seconds=float(match.group(1)) * _UNIT_SECONDS[match.group(2)])


def parse_incident(text: str) -> Incident:
    """Parse ``KIND@START/DURATION``, e.g. ``success-drop@2026-11-20T10:00/2h`` (START in UTC unless it has an offset)."""
    kind, at, rest = text.partition("@")
    start_text, slash, duration_text = rest.rpartition("/")
    if kind not in INCIDENT_KINDS:
        raise BadIncident(f"unknown incident kind {kind!r}; choose one of {', '.join(INCIDENT_KINDS)}")
    if not at or not slash or not start_text:
        raise BadIncident(f"bad incident {text!r}: write KIND@START/DURATION, e.g. success-drop@2026-11-20T10:00/2h")
    try:
        start = datetime.fromisoformat(start_text)
    except ValueError:
        raise BadIncident(f"bad incident start {start_text!r}: use ISO time, e.g. 2026-11-20T10:00") from None
    if start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    start = start.astimezone(UTC)
    return Incident(kind, start, start + parse_duration(duration_text))  # type: ignore[arg-type]


def active_kinds(incidents: tuple[Incident, ...], time_ms: int) -> frozenset[str]:
    return frozenset(i.kind for i in incidents if i.active(time_ms))
