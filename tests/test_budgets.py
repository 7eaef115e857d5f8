"""Monthly budgets: the file format (problems as file:line), the month and its linear forecast, and the
notices — each threshold once per month, surviving restarts — posted through the outbox to the Slack emulator,
with every figure equal to the synthetic fleet's ground truth read from the real Prometheus.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from slack_emulator import BOT_TOKEN, SlackEmulator
from slack_sdk import WebClient

from codex_bot.access import AccessPolicy
from codex_bot.bot import alert_scheduler, build_parts, rules_for_bot
from codex_bot.budgets.definitions import load_budgets
from codex_bot.budgets.forecast import Month
from codex_bot.budgets.messages import FORECAST_METHOD
from codex_bot.budgets.watch import BudgetWatch
from codex_bot.cli import main as codex_bot
from codex_bot.delivery.outbox import Backoff, Outbox
from codex_bot.formatting import humanize
from codex_bot.metrics.client import PrometheusClient
from codex_bot.metrics.ranges import floor_to_grid
from codex_bot.panels.cost import load_prices
from codex_bot.panels.service import Panels
from codex_bot.settings import load_settings
from codex_bot.slack.blocks import when
from codex_bot.slack.slack_transport import SlackTransport
from codex_bot.store import Store

BERLIN = ZoneInfo("Europe/Berlin")
REPO_BUDGETS = Path(__file__).resolve().parents[1] / "rules" / "budgets.yaml"


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_the_shipped_budgets_file_is_valid():
    budgets = load_budgets(REPO_BUDGETS)
    assert budgets.problems == [] and [b.name for b in budgets.budgets] == ["team-cost", "gpt-5-codex-tokens"]
    assert budgets.budgets[0].thresholds == (50, 80, 100) and budgets.budgets[1].scope == "model=gpt-5-codex"


def test_problems_name_their_file_and_line(tmp_path):
    file = write(
        tmp_path / "budgets.yaml",
        """timezone: Mars/Olympus
budgets:
  - name: team
    limit: 100
    channel: "#eng"
  - name: team
    limit: -3
    thresholds: [50, 2000]
    colour: red
  - name: alice
    measure: dollars
    limit: 10
""",
    )
    problems = {str(p) for p in load_budgets(file).problems}
    assert problems == {
        f"{file}:1: timezone: unknown timezone 'Mars/Olympus' (use an IANA name such as Europe/Berlin)",
        f"{file}:7: limit: Input should be greater than 0",
        f"{file}:8: thresholds: thresholds are percentages of the limit, each above 0 and at most 1000, e.g. [50, 80, 100]",
        f"{file}:9: colour: unknown key 'colour'",
        f"{file}:6: channel: missing 'channel'",
        f"{file}:11: measure: Input should be 'cost' or 'tokens'",
        f"{file}:10: channel: missing 'channel'",
    }
    assert load_budgets(file).budgets == []


def test_a_users_budget_needs_a_channel_allowed_for_personal_data(tmp_path):
    file = write(
        tmp_path / "budgets.yaml",
        "budgets:\n  - name: alice\n    user: alice@example.com\n    limit: 10\n    channel: '#general'\n",
    )
    budgets = load_budgets(file)
    assert [str(p) for p in budgets.access_problems(AccessPolicy())] == [
        f"{file}:2: budget 'alice' posts per-user figures to #general, which is not in CODEX_BOT_PERSONAL_DATA_CHANNELS"
    ]
    assert budgets.access_problems(AccessPolicy(personal_data_channels=frozenset({"general"}))) == []


def test_rules_check_checks_the_budgets_file(tmp_path, capsys, monkeypatch):
    (tmp_path / "rules").mkdir()
    file = write(tmp_path / "budgets.yaml", "budgets:\n  - name: team\n    limit: 100\n    channel: '#eng'\n")
    monkeypatch.setenv("CODEX_BOT_BUDGETS_FILE", str(file))
    monkeypatch.setenv("CODEX_BOT_DIGESTS_FILE", str(tmp_path / "none.yaml"))
    assert codex_bot(["rules", "check", "--dir", str(tmp_path / "rules")]) == 0
    assert f"1 budgets in {file}: OK" in capsys.readouterr().out
    file.write_text("budgets:\n  - name: team\n    limit: 100\n    chanel: '#eng'\n")
    assert codex_bot(["rules", "check", "--dir", str(tmp_path / "rules")]) == 1
    assert f"{file}:4: chanel: unknown key 'chanel'" in capsys.readouterr().out.splitlines()


def test_a_month_follows_the_timezone():
    month = Month.of(datetime(2026, 11, 30, 23, 30, tzinfo=UTC), BERLIN)  # already December in Berlin
    assert (month.label, month.start, month.end) == (
        "2026-12",
        datetime(2026, 11, 30, 23, tzinfo=UTC),
        datetime(2026, 12, 31, 23, tzinfo=UTC),
    )
    assert Month.of(datetime(2026, 3, 15, tzinfo=UTC), BERLIN).end == datetime(2026, 3, 31, 22, tzinfo=UTC)  # DST


def month_with_data(fleet) -> tuple[Month, datetime]:
    """The month of the fleet's end and the fleet's end; the month before when this one has under 2 days."""
    at = fleet.align(fleet.end)
    month = Month.of(at, BERLIN)
    if at - month.start < timedelta(days=2):
        at = month.start - timedelta(hours=1)
        month = Month.of(at, BERLIN)
    return month, at


@pytest.mark.prometheus
def test_each_threshold_is_posted_once_per_month_with_the_true_figures(tmp_path, fleet):
    month, at = month_with_data(fleet)

    def tokens(end: datetime) -> float:
        return sum(fleet.truth.total(m, month.start, end) for m in ("input_tokens", "output_tokens"))

    limit = round(tokens(at) / 1.05)  # 105 % of the limit by the end
    middle = next(
        month.start + timedelta(hours=h)
        for h in range(1, 800)
        if tokens(month.start + timedelta(hours=h)) >= 0.6 * tokens(at)
    )
    assert 50 <= 100 * tokens(middle) / limit < 80, "between the first two thresholds in the middle"
    file = write(
        tmp_path / "budgets.yaml",
        f"timezone: Europe/Berlin\nbudgets:\n  - name: team-tokens\n"
        f"    measure: tokens\n    limit: {limit}\n    channel: C0BUDGETS\n",
    )
    with SlackEmulator() as slack:

        def watch() -> tuple[BudgetWatch, Outbox, SlackTransport]:
            store = Store.open(tmp_path / "state.sqlite")
            outbox = Outbox(store, backoff=Backoff(first=0, cap=0))
            panels = Panels(PrometheusClient(fleet.prometheus_url), BERLIN, load_prices())
            transport = SlackTransport(WebClient(token=BOT_TOKEN, base_url=slack.base_url))
            return BudgetWatch(load_budgets(file), panels, store, outbox, "Prometheus"), outbox, transport

        first, outbox, transport = watch()
        assert first.check(middle).announced == [f"budget:team-tokens:{month.label}:50"]
        outbox.flush(transport)
        assert first.check(middle + timedelta(minutes=5)).announced == []
        first.store.close()
        again, outbox, transport = watch()  # a restart: the same state database
        assert again.check(at).announced == [f"budget:team-tokens:{month.label}:100"]
        assert again.check(at).announced == []
        outbox.flush(transport)
        assert again.noticed("team-tokens", month.label) == [50, 80, 100]
        posts = slack.calls_to("chat.postMessage")
    assert [p.body["channel"] for p in posts] == ["C0BUDGETS", "C0BUDGETS"]
    half, full = (json.dumps(p.body["blocks"], ensure_ascii=False) for p in posts)
    elapsed = (middle - month.start) / (month.end - month.start)
    spent = humanize(tokens(middle), "tokens")
    assert (
        posts[0]
        .body["text"]
        .startswith(
            f":money_with_wings: Budget team-tokens (team) passed 50.0 %: {spent} of "
            f"{humanize(limit, 'tokens')} ({humanize(100 * tokens(middle) / limit, 'percent')})"
        )
    )
    forecast = tokens(middle) / elapsed
    assert f"{humanize(forecast, 'tokens')} ({humanize(100 * forecast / limit, 'percent')} of the limit)" in half
    assert FORECAST_METHOD in half
    runs_out = floor_to_grid(month.start + (middle - month.start) * limit / tokens(middle))
    if runs_out < month.end:
        assert f"At this rate the limit is reached on {when(runs_out, BERLIN)} Europe/Berlin." in half
    else:
        assert "At this rate" not in half
    assert f"Budget team-tokens passed 80.0 % and 100.0 % · {month.label}" in full
    assert (
        posts[1]
        .body["text"]
        .startswith(
            f":rotating_light: Budget team-tokens (team) passed 80.0 % and 100.0 %: {humanize(tokens(at), 'tokens')} of"
        )
    )
    assert f"{when(month.start, BERLIN)} → {when(month.end, BERLIN)} Europe/Berlin" in full


@pytest.mark.prometheus
def test_budgets_are_checked_on_the_alert_schedule(tmp_path, fleet):
    file = write(tmp_path / "budgets.yaml", "budgets:\n  - name: team-cost\n    limit: 0.01\n    channel: C0BUDGETS\n")
    (tmp_path / "rules").mkdir()
    with SlackEmulator() as slack:
        settings = load_settings(
            prometheus_url=fleet.prometheus_url,
            budgets_file=file,
            rules_dir=tmp_path / "rules",
            digests_file=tmp_path / "none.yaml",
            state_db=tmp_path / "state.sqlite",
        )
        store = Store.open(settings.state_db)
        transport = SlackTransport(WebClient(token=BOT_TOKEN, base_url=slack.base_url))
        scheduler = alert_scheduler(build_parts(settings, transport, store), rules_for_bot(settings))
        scheduler.cycle()
        scheduler.cycle()
        posts = slack.calls_to("chat.postMessage")
    assert len(posts) == 1 and posts[0].body["channel"] == "C0BUDGETS"
    assert "Budget team-cost passed 50.0 %, 80.0 % and 100.0 %" in json.dumps(posts[0].body["blocks"])


@pytest.mark.prometheus
def test_a_models_cost_and_a_users_tokens_equal_the_ground_truth(tmp_path, fleet):
    month, at = month_with_data(fleet)
    prices = load_prices()
    models = sorted(m for m in fleet.truth.values("model", "input_tokens") if prices.get(m) is not None)
    model = models[0]
    user = sorted(fleet.truth.values("user", "input_tokens"))[0]
    file = write(
        tmp_path / "budgets.yaml",
        f"timezone: Europe/Berlin\nbudgets:\n"
        f"  - {{name: model-cost, model: {model}, limit: 1000000, channel: C0B}}\n"
        f"  - {{name: user-tokens, measure: tokens, user: '{user}', limit: 1e12, channel: C0LEADS}}\n",
    )
    store = Store.open(tmp_path / "state.sqlite")
    panels = Panels(PrometheusClient(fleet.prometheus_url), BERLIN, load_prices())
    report = BudgetWatch(load_budgets(file), panels, store, Outbox(store), "Prometheus").check(at)
    cost, tokens = (s.spent for s in report.standings)
    where = {"model": model}
    total = lambda measure, **w: fleet.truth.total(measure, month.start, at, where=w)
    expected = prices.get(model).usd(
        total("input_tokens", **where), total("cached_input_tokens", **where), total("output_tokens", **where)
    )
    assert cost == pytest.approx(expected, rel=1e-9) and expected > 0
    assert tokens == total("input_tokens", user=user) + total("output_tokens", user=user) > 0
    assert report.announced == [] and report.failures == {}
    store.close()
