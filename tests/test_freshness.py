"""Freshness: a slash command's range ends at now (to the second); alert cycles on whole minutes run
1 s past the minute, so the minute they evaluate as of holds what Prometheus scraped until then."""

from datetime import datetime, timedelta, timezone

from codex_bot.alerts.scheduler import _cycle_grid
from codex_bot.metrics.ranges import parse_range

UTC = timezone.utc


def test_a_command_sees_up_to_the_second_it_was_asked():
    asked = datetime(2026, 12, 4, 9, 0, 41, 250_000, tzinfo=UTC)
    window = parse_range("1h", asked, UTC)
    assert window.end == datetime(2026, 12, 4, 9, 0, 42, tzinfo=UTC)
    assert window.end - asked < timedelta(seconds=1)


def test_minute_cycles_run_just_past_the_minute():
    started = datetime(2026, 12, 4, 9, 0, 41, tzinfo=UTC)
    assert _cycle_grid(started, 60) == datetime(2026, 12, 4, 9, 1, 1, tzinfo=UTC)
    assert _cycle_grid(started, 300) == datetime(2026, 12, 4, 9, 1, 1, tzinfo=UTC)
    assert _cycle_grid(started, 1) == started  # sub-minute intervals (tests) are not aligned
