"""Numbers for people: compact figures, durations, percent, money and change strings."""

import pytest

from codex_bot.change import change
from codex_bot.formatting import humanize, humanize_change


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (0, "tokens", "0"),
        (999, "count", "999"),
        (12_345, "tokens", "12.3k"),
        (123_456, "tokens", "123k"),
        (999_999, "count", "1.0M"),
        (4_500_000, "tokens", "4.5M"),
        (2.5e9, "tokens", "2.5B"),
        (0.25, "count", "0.25"),
        (0.35, "seconds", "350 ms"),
        (1.234, "seconds", "1.2 s"),
        (150, "seconds", "2.5 min"),
        (97.34, "percent", "97.3 %"),
        (12.345, "usd", "$12.35"),
        (1234.5, "usd", "$1,234.50"),
        (None, "usd", "—"),
        (float("nan"), "count", "—"),
    ],
)
def test_humanize(value, unit, text):
    assert humanize(value, unit) == text


@pytest.mark.parametrize(
    ("current", "previous", "unit", "text"),
    [
        (11_234, 10_000, "tokens", "+12.3 % (+1.2k)"),
        (0.3, 0.5, "seconds", "-40.0 % (-200 ms)"),
        (95.0, 97.0, "percent", "-2.1 % (-2.0 pp)"),
        (5, 0, "count", "new (+5)"),
        (0, 0, "count", "no change"),
        (5, None, "count", "—"),
        (12.0, 10.0, "usd", "+20.0 % (+$2.00)"),
    ],
)
def test_humanize_change(current, previous, unit, text):
    assert humanize_change(current, previous, unit) == text


def test_change_numbers():
    assert change(150, 100).absolute == 50
    assert change(150, 100).percent == 50
    assert change(1, 0).percent is None
    assert change(None, 3).absolute is None
