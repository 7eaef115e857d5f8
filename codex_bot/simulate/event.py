"""The synthetic fleet's unit: one Codex LogRecord, as Codex exports it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

AttrValue = str | int | bool


@dataclass(frozen=True, slots=True)
class SimEvent:
    """One Codex LogRecord: ``name`` is its ``event.name`` ("" for Codex's debug records, which have none)."""

    time_ms: int  # the event.timestamp (Codex sets no timeUnixNano)
    name: str
    attributes: dict[str, AttrValue]  # event-specific attributes, in Codex's order
    common: Mapping[str, AttrValue]  # attributes Codex puts on every event of the conversation
    resource: Mapping[str, str]  # resource attributes of the exporting process
    body: str | None = None

    @property
    def time(self) -> datetime:
        return datetime.fromtimestamp(self.time_ms / 1000, tz=UTC)

    def all_attributes(self) -> dict[str, AttrValue]:
        """Every attribute of the record, ``event.name`` and ``event.timestamp`` included."""
        if not self.name:
            return dict(self.attributes)
        return {"event.name": self.name, **self.attributes, "event.timestamp": iso_ms(self.time_ms), **self.common}


def iso_ms(time_ms: int) -> str:
    """RFC 3339 UTC with milliseconds, as Codex writes ``event.timestamp``."""
    seconds, ms = divmod(time_ms, 1000)
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{ms:03d}Z"
