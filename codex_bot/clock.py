"""The bot's clock: "now" in UTC, the default of every command and scheduler (tests and the demo pin their own)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)
