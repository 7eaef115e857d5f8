"""Alert rule files: conditions, validation, `file:line: reason` problems, routing, `codex-bot rules check`."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from codex_bot.alerts.conditions import Baseline, ConditionError, parse_condition
from codex_bot.alerts.loader import load_rules
from codex_bot.alerts.routing import Routing
from codex_bot.alerts.rules import Rule
from codex_bot.cli import main as codex_bot

REPO_RULES = Path(__file__).resolve().parents[1] / "rules"
GOOD = """\
rules:
  - name: success-rate-drop
    figure: success.success_rate_pct
    group_by: [model]
    window: 30m
    condition: below 95
    resolve: above 97
    for: 10m
    min_volume: {figure: success.requests, at_least: 50}
    severity: critical
    runbook: https://example.com/runbook
routing:
  default: "#codex-alerts"
"""


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "op", "amount", "baseline"),
    [
        ("below 95", "below", 95, None),
        ("above 30", "above", 30, None),
        ("drops 20% vs 1d", "below", 0.8, Baseline(timedelta(days=1))),
        ("rises 50% vs 7d", "above", 1.5, Baseline(timedelta(days=7))),
        ("rises 2x vs 7d median", "above", 2, Baseline(timedelta(days=7), median=True)),
        ("drops 2x vs 1d", "below", 0.5, Baseline(timedelta(days=1))),
        ("above 90% of 1d", "above", 0.9, Baseline(timedelta(days=1))),
        ("Below  1.5X of 7d median", "below", 1.5, Baseline(timedelta(days=7), median=True)),
    ],
)
def test_condition_forms(text, op, amount, baseline):
    condition = parse_condition(text)
    assert (condition.op, condition.baseline) == (op, baseline)
    assert condition.amount == pytest.approx(amount)


def test_relative_threshold_and_median_offsets():
    condition = parse_condition("rises 2x vs 7d median")
    assert condition.threshold(100.0) == 200.0
    assert condition.threshold(0.0) is None and condition.threshold(None) is None
    assert [o.days for o in condition.baseline.offsets()] == [1, 2, 3, 4, 5, 6, 7]
    assert parse_condition("drops 20% vs 1d").holds(79.0, parse_condition("drops 20% vs 1d").threshold(100.0))


@pytest.mark.parametrize(
    "text",
    ["bellow 3", "drops 120% vs 1d", "rises 1x vs 1d", "rises 2x vs 12h median", "above", "drops 20% vs", "below 5 %"],
)
def test_bad_conditions_say_what_is_accepted(text):
    with pytest.raises(ConditionError, match=r"below 95|between 0 and 100|greater than 1|whole days|not a condition"):
        parse_condition(text)


def test_a_good_file_loads(tmp_path):
    write(tmp_path, "a.yaml", GOOD)
    rules = load_rules(tmp_path)
    assert rules.problems == []
    (rule,) = rules.rules
    assert (str(rule.figure), rule.group_by, rule.for_, rule.severity) == (
        "success.success_rate_pct",
        ("model",),
        timedelta(minutes=10),
        "critical",
    )
    assert rule.resolve_condition.text == "above 97"
    assert rules.routing.channel_for(rule, {"model": "x"}) == "#codex-alerts"


def test_every_problem_has_its_file_and_line_and_a_bad_file_never_half_loads(tmp_path):
    write(tmp_path, "good.yaml", GOOD)
    bad = write(
        tmp_path,
        "bad.yaml",
        """\
rules:
  - name: fine-rule
    figure: tokens.total
    condition: above 10
  - name: broken
    figure: success.nope
    window: yesterday
    condition: bellow 3
    for: 5 minutes
    extra: 1
  - name: wrong-side
    figure: success.success_rate_pct
    condition: below 95
    resolve: above 90
""",
    )
    rules = load_rules(tmp_path)
    assert [r.name for r in rules.rules] == ["success-rate-drop"]  # nothing of bad.yaml, not even fine-rule
    found = {(p.file, p.line) for p in rules.problems}
    assert found == {(bad, 6), (bad, 7), (bad, 8), (bad, 9), (bad, 10), (bad, 11)}
    text = "\n".join(map(str, rules.problems))
    assert f"{bad}:6: figure: the success panel has no figure 'nope'" in text
    assert "unknown key 'extra'" in text and "healthy side" in text


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("rules: [\n  {name: x, figure: tokens.total, condition: above 1\n", "not valid YAML"),
        (
            "rules:\n  - name: a\n    name: b\n    figure: tokens.total\n    condition: above 1\n",
            "duplicate key 'name'",
        ),
        ("rule: []\n", "unknown key 'rule'"),
        ("rules:\n  - name: a\n    figure: tokens.total\n", "missing 'condition'"),
        (
            (
                "rules:\n  - name: a\n    figure: success.success_rate_pct\n    condition: below 9\n"
                "    filters: {terminal: vscode}\n"
            ),
            "has no filter 'terminal'",
        ),
        (
            "rules:\n  - name: a\n    figure: tokens.total\n    condition: above 9\n    group_by: [tool]\n",
            "cannot be grouped by 'tool'",
        ),
    ],
)
def test_problems_are_explained(tmp_path, text, reason):
    write(tmp_path, "r.yaml", text)
    rules = load_rules(tmp_path)
    assert rules.rules == [] and any(reason in p.reason for p in rules.problems), rules.problems
    assert all(p.line >= 1 for p in rules.problems)


def test_duplicate_rule_names_and_two_routings_are_problems(tmp_path):
    write(tmp_path, "a.yaml", GOOD)
    second = write(tmp_path, "b.yaml", GOOD)
    rules = load_rules(tmp_path)
    reasons = [p.reason for p in rules.problems if p.file == second]
    assert any("defined more than once" in r for r in reasons) and any(
        "routing is already defined" in r for r in reasons
    )


def test_a_rule_without_a_channel_is_a_problem(tmp_path):
    write(tmp_path, "a.yaml", "rules:\n  - name: a\n    figure: tokens.total\n    condition: above 1\n")
    assert "has no channel" in load_rules(tmp_path).problems[0].reason


def test_routing_order_rule_then_label_then_severity_then_default():
    routing = Routing(default="#all", by_severity={"critical": "#oncall"}, by_label={"model": {"o4-mini": "#mini"}})
    base = {"name": "r", "figure": "tokens.total", "condition": "above 1", "group_by": ["model"]}
    plain, critical = Rule.model_validate(base), Rule.model_validate({**base, "severity": "critical"})
    own = Rule.model_validate({**base, "channel": "#mine"})
    assert routing.channel_for(own, {"model": "o4-mini"}) == "#mine"
    assert routing.channel_for(critical, {"model": "o4-mini"}) == "#mini"
    assert routing.channel_for(critical, {"model": "gpt-5-codex"}) == "#oncall"
    assert routing.channel_for(plain, {"model": "gpt-5-codex"}) == "#all"


def test_the_digest_file_is_not_a_rules_file(tmp_path):
    write(tmp_path, "a.yaml", GOOD)
    digests = write(tmp_path, "digests.yaml", "digests: []\n")
    assert load_rules(tmp_path, exclude=[digests]).problems == []


def test_shipped_rules_are_valid():
    rules = load_rules(REPO_RULES, exclude=[REPO_RULES / "digests.yaml", REPO_RULES / "budgets.yaml"])
    assert rules.problems == []
    names = {r.name for r in rules.rules}
    assert {"success-rate-drop", "command-p95-spike", "cache-rate-fall", "token-spike", "cost-spike"} <= names
    assert all(r.min_volume is not None for r in rules.rules)


def test_rules_check_cli(tmp_path, capsys, monkeypatch):
    write(tmp_path / "ok", "a.yaml", GOOD)
    assert codex_bot(["rules", "check", "--dir", str(tmp_path / "ok")]) == 0
    assert "1 rules in 1 files: OK" in capsys.readouterr().out
    bad = write(tmp_path / "bad", "a.yaml", "rules:\n  - name: a\n    figure: tokens.total\n    condition: nope\n")
    assert codex_bot(["rules", "check", "--dir", str(tmp_path / "bad")]) == 1
    assert capsys.readouterr().out.startswith(f"{bad}:4: condition: 'nope' is not a condition")


def test_rules_check_checks_the_digests_file_too(tmp_path, capsys, monkeypatch):
    write(tmp_path / "ok", "a.yaml", GOOD)
    digests = write(
        tmp_path, "digests.yaml", "digests:\n  - name: daily\n    channel: '#eng'\n    schedule: '0 9 * * *'\n"
    )
    monkeypatch.setenv("CODEX_BOT_DIGESTS_FILE", str(digests))
    assert codex_bot(["rules", "check", "--dir", str(tmp_path / "ok")]) == 0
    assert f"1 digests in {digests}: OK" in capsys.readouterr().out
    digests.write_text("digests:\n  - name: daily\n    channel: '#eng'\n    schedule: '0 25 * * *'\n")
    assert codex_bot(["rules", "check", "--dir", str(tmp_path / "ok")]) == 1
    assert capsys.readouterr().out.startswith(f"{digests}:4: schedule:")
