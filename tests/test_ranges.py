"""Range words → exact UTC windows: rolling, calendar (DST, weeks from Monday), steps, bad input."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from codex_bot.errors import BadRange
from codex_bot.metrics.ranges import MAX_POINTS, looks_like_range, parse_instant, parse_range

UTC = UTC
BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2025, 3, 31, 10, 17, 33, 500000, tzinfo=UTC)  # a Monday, the day after Berlin's spring-forward
END = datetime(2025, 3, 31, 10, 17, 34, tzinfo=UTC)  # now, rounded up to the second: no minute of lag


@pytest.mark.parametrize(
    ("text", "length"),
    [
        ("30m", timedelta(minutes=30)),
        ("6h", timedelta(hours=6)),
        ("24h", timedelta(hours=24)),
        ("7d", timedelta(days=7)),
        ("2w", timedelta(weeks=2)),
        ("30d", timedelta(days=30)),
        ("45m", timedelta(minutes=45)),
        (" 3D ", timedelta(days=3)),
        ("366d", timedelta(days=366)),
    ],
)
def test_rolling_ranges_end_now_to_the_second(text, length):
    window = parse_range(text, NOW, BERLIN)
    assert window.end == END
    assert window.end - window.start == length  # absolute time: 7d is 168 h even across the DST change
    assert window.seconds == length.total_seconds()
    assert window.label == text.strip().lower()
    assert window.start.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("text", "start_local", "end_local", "hours"),
    [
        ("today", datetime(2025, 3, 31), None, None),
        ("yesterday", datetime(2025, 3, 30), datetime(2025, 3, 31), 23),  # spring forward: a 23 h day
        ("this week", datetime(2025, 3, 31), None, None),  # Monday starts the week
        ("last week", datetime(2025, 3, 24), datetime(2025, 3, 31), 167),
        ("Last  Week", datetime(2025, 3, 24), datetime(2025, 3, 31), 167),
    ],
)
def test_calendar_ranges_follow_the_timezone(text, start_local, end_local, hours):
    window = parse_range(text, NOW, BERLIN)
    assert window.start == start_local.replace(tzinfo=BERLIN)
    assert window.end == (end_local.replace(tzinfo=BERLIN) if end_local else END)
    if hours:
        assert window.seconds == hours * 3600


def test_autumn_day_is_25_hours_and_week_starts_on_monday():
    sunday_after = datetime(2025, 10, 27, 9, 0, tzinfo=UTC)  # Monday after the fall-back
    yesterday = parse_range("yesterday", sunday_after, BERLIN)
    assert yesterday.seconds == 25 * 3600
    assert yesterday.start.astimezone(BERLIN).weekday() == 6
    last_week = parse_range("last week", sunday_after, BERLIN)
    assert last_week.start.astimezone(BERLIN).weekday() == 0
    assert last_week.seconds == 7 * 86400 + 3600


def test_today_in_a_timezone_ahead_of_utc():
    tokyo = ZoneInfo("Asia/Tokyo")
    window = parse_range("today", datetime(2025, 1, 1, 20, 0, tzinfo=UTC), tokyo)  # 05:00 on 2 Jan in Tokyo
    assert window.start == datetime(2025, 1, 2, tzinfo=tokyo)
    assert window.seconds == 5 * 3600


def test_skipped_midnight_starts_at_the_first_real_instant():
    santiago = ZoneInfo("America/Santiago")  # clocks jump from 00:00 to 01:00 on 2025-09-07
    window = parse_range("yesterday", datetime(2025, 9, 8, 12, 0, tzinfo=UTC), santiago)
    assert window.start.astimezone(santiago).hour == 1
    assert window.seconds == 23 * 3600


@pytest.mark.parametrize(
    "text", ["30m", "6h", "24h", "7d", "2w", "30d", "today", "yesterday", "this week", "last week"]
)
def test_step_gives_a_chartable_number_of_points(text):
    window = parse_range(text, NOW, BERLIN)
    assert window.step_seconds % 60 == 0
    points = window.seconds // window.step_seconds
    assert points <= MAX_POINTS
    assert points >= 30 or window.step_seconds == 60


def test_previous_period_has_equal_length_and_touches_the_start():
    window = parse_range("yesterday", NOW, BERLIN)
    previous = window.previous()
    assert previous.end == window.start
    assert previous.seconds == window.seconds


@pytest.mark.parametrize(
    "text", ["", "7", "d", "7 days", "0d", "-1d", "367d", "1.5h", "7y", "next week", "7d7d", "１d", "∞", "a" * 500]
)
def test_bad_ranges_list_the_valid_forms(text):
    with pytest.raises(BadRange) as raised:
        parse_range(text, NOW, BERLIN)
    message = str(raised.value)
    assert "30m" in message or "out of bounds" in message


def test_today_at_midnight_has_not_started():
    with pytest.raises(BadRange, match="has not started yet"):
        parse_range("today", datetime(2025, 3, 31, 0, 0, 0, tzinfo=BERLIN), BERLIN)
    assert parse_range("today", datetime(2025, 3, 31, 0, 0, 0, 1000, tzinfo=BERLIN), BERLIN).seconds == 1


def test_a_grid_instant_stays_on_the_grid():
    on_grid = datetime(2025, 3, 31, 10, 16, tzinfo=UTC)
    assert parse_range("7d", on_grid, BERLIN).end == on_grid


def test_looks_like_range():
    assert looks_like_range("7d") and looks_like_range("This Week") and looks_like_range("999999m")
    assert not looks_like_range("tokens") and not looks_like_range("model=x")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-01-31T12:00:00Z", datetime(2025, 1, 31, 12, tzinfo=UTC)),
        ("2025-01-31T13:00:00+01:00", datetime(2025, 1, 31, 12, tzinfo=UTC)),
        ("1738324800", datetime(2025, 1, 31, 12, tzinfo=UTC)),
        ("1738324800.5", datetime(2025, 1, 31, 12, 0, 0, 500000, tzinfo=UTC)),
    ],
)
def test_parse_instant(text, expected):
    assert parse_instant(text) == expected


@pytest.mark.parametrize("text", ["yesterday", "2025-01-31T12:00:00", "12:00", "1e10", "99999999999999999999"])
def test_bad_instants(text):
    with pytest.raises(BadRange, match="RFC 3339"):
        parse_instant(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7d", "previous 7d"),
        ("30m", "previous 30m"),
        ("yesterday", "the day before"),
        ("last week", "the week before"),
        ("today", "the same length of time before"),
    ],
)
def test_the_previous_period_is_named_as_people_say_it(text, expected):
    now = datetime(2026, 11, 25, 15, 7, tzinfo=UTC)
    window = parse_range(text, now, ZoneInfo("Europe/Berlin"))
    assert window.previous_label == expected
    assert window.previous().label == expected
    assert window.previous().end == window.start and window.previous().seconds == window.seconds
