"""Freshness: a slash command's range ends at now (to the second); alert cycles every whole minute(s) run
1 s past the minute, so the minute they evaluate as of holds what Prometheus scraped until then."""

from datetime import UTC, datetime, timedelta

from codex_bot.alerts.scheduler import cycle_trigger
from codex_bot.metrics.ranges import parse_range


def test_a_command_sees_up_to_the_second_it_was_asked():
    asked = datetime(2026, 12, 4, 9, 0, 41, 250_000, tzinfo=UTC)
    window = parse_range("1h", asked, UTC)
    assert window.end == datetime(2026, 12, 4, 9, 0, 42, tzinfo=UTC)
    assert window.end - asked < timedelta(seconds=1)


def test_minute_cycles_run_just_past_the_minute():
    first = datetime(2026, 12, 4, 9, 0, 41, 500_000, tzinfo=UTC)  # the first cycle runs at start
    assert cycle_trigger(60).get_next_fire_time(first, first) == datetime(2026, 12, 4, 9, 1, 1, tzinfo=UTC)
    five = cycle_trigger(300)
    assert five.get_next_fire_time(first, first) == datetime(2026, 12, 4, 9, 5, 1, tzinfo=UTC)
    ran = datetime(2026, 12, 4, 9, 5, 1, tzinfo=UTC)
    assert five.get_next_fire_time(ran, ran + timedelta(seconds=3)) == datetime(2026, 12, 4, 9, 10, 1, tzinfo=UTC)
    hourly = cycle_trigger(3600)  # an hour divides an hour too: on the hour, not "*/60" (which cron refuses)
    assert hourly.get_next_fire_time(first, first) == datetime(2026, 12, 4, 10, 0, 1, tzinfo=UTC)
    # other intervals (7 minutes, or seconds in tests) run every interval from the first cycle
    assert cycle_trigger(420).get_next_fire_time(first, first) == first + timedelta(minutes=7)
    assert cycle_trigger(1).get_next_fire_time(first, first) == first + timedelta(seconds=1)
