"""Digest layout within Slack's limits, and the digest period, without Prometheus.

The digest data here are the hand-made panel results of the chart tests (one per catalog panel), with
hundreds of alerts and long user names, so the digest is larger than one Slack message.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from chart_fixtures import END, WEEK, every_panel

from codex_bot.alerts.records import EpisodeRecord
from codex_bot.digests.compose import Digest, period, rolling_text
from codex_bot.digests.definitions import DEFAULT_PANELS, DigestDefinition
from codex_bot.digests.layout import (
    MAIN_ALERTS,
    MAX_BLOCKS,
    alert_line,
    digest_messages,
    main_blocks,
    text_sections,
)
from codex_bot.metrics.ranges import parse_range
from codex_bot.slack.mrkdwn import MAX_HEADER
from codex_bot.slack.mrkdwn import MAX_TEXT as MAX_SECTION_TEXT

BERLIN = ZoneInfo("Europe/Berlin")


def definition(**fields) -> DigestDefinition:
    return DigestDefinition(
        **{"name": "daily", "channel": "#eng", "schedule": "0 9 * * *", "timezone": "Europe/Berlin", **fields}
    )


def alerts(count: int) -> list[EpisodeRecord]:
    start = END - timedelta(days=6)
    return [
        EpisodeRecord(
            i,
            f"rule-{i:03d}",
            {"model": f"model-{i % 7}"},
            ("critical", "warning", "info")[i % 3],
            start + timedelta(minutes=30 * i),
            start + timedelta(minutes=30 * i + 5),
            80.0 + i % 10,
            95.0,
            None if i % 4 == 0 else start + timedelta(minutes=30 * i + 20),
            96.0,
            "recovered",
            None,
            None,
            None,
            None,
            None,
        )
        for i in range(count)
    ]


def digest(count: int, **fields) -> Digest:
    results = every_panel()
    definition_ = definition(**fields)
    return Digest(definition_, WEEK, {name: results[name] for name in definition_.panels}, alerts(count))


def texts(blocks: list[dict]) -> list[str]:
    found = []
    for block in blocks:
        if "text" in block:
            found.append(block["text"]["text"])
        found += [f["text"] for f in block.get("fields") or []]
        found += [e["text"] for e in block.get("elements") or [] if "text" in e]
    return found


def check_limits(blocks: list[dict]) -> None:
    assert 0 < len(blocks) <= MAX_BLOCKS
    for block in blocks:
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= MAX_HEADER
        if block["type"] == "section":
            assert len(block.get("text", {}).get("text", "")) <= MAX_SECTION_TEXT
            assert len(block.get("fields") or []) <= 10
    json.dumps(blocks)


def test_a_small_digest_is_one_message_with_every_section():
    messages = digest_messages(digest(3), source="Prometheus at test")
    assert messages.thread == []
    blocks = messages.main.blocks_json()
    check_limits(blocks)
    text = "\n".join(texts(blocks))
    for label in (
        "Input tokens",
        "Output tokens",
        "Cached tokens",
        "Cache rate",
        "Conversations",
        "Model calls",
        "Success rate",
        "Command P95",
        "Est. cost",
        "Top users",
        "Top models",
        "Top tools",
        "Decisions",
        "Alerts fired (3)",
        "rule-002",
        "estimate",
    ):
        assert label in text, label
    assert "dev05@example.com" not in text and "dev04@example.com" in text  # top 5 users
    assert "… and 9 more" in text


def test_a_digest_larger_than_one_message_splits_into_its_thread():
    big = digest(2000, top={"users": 25, "models": 25, "tools": 25})
    messages = digest_messages(big, source="Prometheus at test")
    main = messages.main.blocks_json()
    thread = [reply.blocks_json() for reply in messages.thread]
    for blocks in [main, *thread]:
        check_limits(blocks)
    main_text = "\n".join(texts(main))
    assert sum(line.count("*rule-") for line in main_text.splitlines()) == MAIN_ALERTS
    assert f"… and {2000 - MAIN_ALERTS} more in the thread." in main_text
    thread_lines = [line for blocks in thread for t in texts(blocks) for line in t.splitlines() if "*rule-" in line]
    assert thread_lines == [alert_line(a, BERLIN) for a in big.alerts]  # every alert once, in order, no line split
    assert len(thread) >= 2  # ~200 kB of alert lines: more than 50 full sections, so several replies
    assert [reply.text for reply in messages.thread] == [
        f"Codex digest: daily: details {i} of {len(thread)}" for i in range(1, len(thread) + 1)
    ]


def test_when_the_main_post_overflows_its_blocks_continue_in_the_thread_in_order():
    big = digest(40)
    full = [b.to_dict() for b in main_blocks(big, "Prometheus at test")]
    messages = digest_messages(big, source="Prometheus at test", max_blocks=6)
    main = messages.main.blocks_json()
    thread = [reply.blocks_json() for reply in messages.thread]
    assert len(main) == 6 and texts([main[-1]]) == ["Continued in the thread."]
    assert all(len(blocks) <= 6 for blocks in thread)
    moved = [b for blocks in thread for b in blocks]
    assert main[:-1] + moved[: len(full) - 5] == full  # nothing lost or reordered
    assert [t for t in texts(moved[len(full) - 5 :]) if "*rule-" in t]  # then the full alert list


def test_long_names_shrink_the_top_table_to_fit_a_section():
    long_users = digest(0, top={"users": 25})
    for i, row in enumerate(long_users.results["users"].rows):
        row["user"] = f"{'x' * 250}-{i}@example.com"
    blocks = digest_messages(long_users, source="s").main.blocks_json()
    check_limits(blocks)
    users = next(t for t in texts(blocks) if t.startswith("*Top users*"))
    assert len(users) <= MAX_SECTION_TEXT and "more" in users


def test_text_sections_never_split_a_line():
    lines = [f"line {i} " + "y" * (i % 200) for i in range(500)]
    sections = text_sections(lines, "Title")
    assert all(len(s.text.text) <= MAX_SECTION_TEXT for s in sections)
    assert "\n".join(s.text.text for s in sections).split("\n") == ["*Title*", *lines]


def test_mrkdwn_control_characters_in_labels_are_escaped():
    hostile = digest(1)
    hostile.alerts[0] = EpisodeRecord(**{**hostile.alerts[0].__dict__, "labels": {"model": "<!channel> & co"}})
    text = "\n".join(texts(digest_messages(hostile, source="s").main.blocks_json()))
    assert "<!channel>" not in text and "&lt;!channel&gt; &amp; co" in text


# --- the period a digest covers ---------------------------------------------------------------------------


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


def test_an_alert_line_reads_in_its_figure_unit():
    (episode,) = alerts(1)
    line = alert_line(EpisodeRecord(**{**episode.__dict__, "value": 67.34, "threshold": 75.0, "unit": "percent"}), UTC)
    assert "at 67.3 % (threshold 75.0 %)" in line
    seconds = alert_line(
        EpisodeRecord(**{**episode.__dict__, "value": 41.2, "threshold": 30.0, "unit": "seconds"}), UTC
    )
    assert "at 41.2 s (threshold 30 s)" in seconds


@pytest.mark.parametrize(
    ("at", "schedule", "expected"),
    [
        (berlin(2026, 11, 24, 9), "0 9 * * *", "1d"),
        (berlin(2027, 3, 28, 9), "0 9 * * *", "23h"),  # spring forward: the day has 23 hours
        (berlin(2026, 10, 25, 9), "0 9 * * *", "25h"),  # fall back: 25 hours
        (berlin(2026, 11, 23, 9), "0 9 * * MON-FRI", "3d"),  # Monday's digest covers Friday to Monday
        (berlin(2026, 11, 23, 8), "0 8 * * MON", "7d"),
        (berlin(2026, 11, 24, 9, 45), "0 9 * * *", "1d"),  # as of later that day: the last complete period
    ],
)
def test_default_period_is_the_time_since_the_previous_slot(at, schedule, expected):
    text, moment = period(definition(schedule=schedule), at.astimezone(UTC))
    assert text == expected
    assert moment.astimezone(BERLIN).hour == int(schedule.split()[1]) and moment.minute == 0
    window = parse_range(text, moment, BERLIN)
    assert window.end == moment and window.start.astimezone(BERLIN).hour == moment.astimezone(BERLIN).hour


def test_an_explicit_range_is_taken_as_of_the_slot():
    at = berlin(2026, 11, 23, 8).astimezone(UTC)
    assert period(definition(range="last week"), at) == ("last week", at)
    assert period(definition(), at, "7d") == ("7d", at)


def test_rolling_text():
    assert [rolling_text(timedelta(minutes=m)) for m in (90, 60, 1380, 1440, 10080)] == ["90m", "1h", "23h", "1d", "7d"]


def test_default_panels_cover_the_issue():
    assert set(DEFAULT_PANELS) >= {
        "tokens",
        "cached",
        "cache-rate",
        "sessions",
        "success",
        "p95",
        "cost",
        "users",
        "models",
        "tools",
        "decisions",
    }
