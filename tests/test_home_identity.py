"""Slack user → telemetry ``user`` label under every CODEX_BOT_USER_LABEL mode, against what ingest gives the
same person's simulated events; and the App Home view's Slack limits.  No Slack, no Prometheus."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from codex_bot.errors import UserError
from codex_bot.identity import Identities, NoPersonalData, load_accounts
from codex_bot.panels.result import PanelResult, TimeRange
from codex_bot.simulate.fleet import FleetConfig, simulate
from codex_bot.simulate.people import make_developers
from codex_bot.slack.home_view import (
    HEADLINE,
    HEADLINE_PANELS,
    MAX_LISTED,
    FiringAlert,
    HomeData,
    NextDigest,
    home_view,
)
from codex_bot.slack.people import FixedDirectory
from codex_bot.telemetry.contract import UNKNOWN
from codex_bot.telemetry.labels import UserLabelRule, user_label

END = datetime(2026, 11, 27, 12, tzinfo=UTC)
CONFIG = FleetConfig(developers=10, days=2, end=END, seed=7, late_joiner_share=0.0)
PEOPLE = make_developers(CONFIG.developers, CONFIG.days, CONFIG.seed, CONFIG.late_joiner_share)


def ingest_labels(rule: UserLabelRule) -> dict[str, set[str]]:
    """host → the user labels ingest gave that developer's simulated events under ``rule`` (events without an
    identity, labelled "unknown", belong to nobody)."""
    found: dict[str, set[str]] = {}
    for event in simulate(CONFIG):
        label = user_label(event.all_attributes(), event.resource, rule)
        if label != UNKNOWN:
            found.setdefault(event.resource["host.name"], set()).add(label)
    return found


@pytest.mark.parametrize(
    "rule, identities",
    [
        (UserLabelRule("email"), ("chatgpt", "apikey")),
        (UserLabelRule("hash", "pepper"), ("chatgpt", "apikey")),
        (UserLabelRule("account_id"), ("chatgpt", "account-only")),
    ],
)
def test_the_slack_users_label_is_the_one_ingest_gave_their_events(
    tmp_path: Path, rule: UserLabelRule, identities: tuple[str, ...]
):
    mapping = tmp_path / "accounts.yaml"
    mapping.write_text("".join(f"{p.email.upper()}: {p.account_id}\n" for p in PEOPLE))
    slack = FixedDirectory({f"U{p.index:04d}": p.email for p in PEOPLE})
    names = Identities(slack, rule, load_accounts(mapping))
    labels = ingest_labels(rule)
    checked = [p for p in PEOPLE if p.identity in identities and p.host in labels]
    assert len(checked) >= 5
    for person in checked:
        assert labels[person.host] == {names.label(f"U{person.index:04d}")}, person


def test_account_ids_may_be_mapped_by_slack_user_id_too(tmp_path: Path):
    mapping = tmp_path / "accounts.yaml"
    mapping.write_text("U0ALICE: acct-1\n")
    names = Identities(FixedDirectory({}), UserLabelRule("account_id"), load_accounts(mapping))
    assert names.label("U0ALICE") == "acct-1"
    with pytest.raises(NoPersonalData, match="CODEX_BOT_USER_ACCOUNT_MAP has none for you"):
        names.label("U0BOB")


@pytest.mark.parametrize(
    "mode, email, expected",
    [
        ("none", "a@example.com", "Per-person usage is off here"),
        ("email", None, "shows me no e-mail address"),
    ],
)
def test_no_label_is_explained(mode: str, email: str | None, expected: str):
    names = Identities(FixedDirectory({"U1": email} if email else {}), UserLabelRule(mode))  # type: ignore[arg-type]
    with pytest.raises(NoPersonalData, match=expected):
        names.label("U1")


def test_a_broken_account_map_is_a_clear_error(tmp_path: Path):
    mapping = tmp_path / "accounts.yaml"
    mapping.write_text("- just\n- a list\n")
    with pytest.raises(UserError, match="must map e-mails or Slack user ids to account ids"):
        load_accounts(mapping)


def _result(panel: str, keys: dict[str, float]) -> PanelResult:
    window = TimeRange(END - timedelta(days=7), END, "7d", 3600)
    return PanelResult(panel, panel, "count", "figures", "none", window, figures=keys, previous=keys)


def test_a_busy_home_view_stays_within_slack_limits():
    headline = {panel: _result(panel, {key: 1.0 for p, key, _ in HEADLINE if p == panel}) for panel in HEADLINE_PANELS}
    alerts = [
        FiringAlert(f"rule-{i}-" + "x" * 200, "critical", {"model": "m" * 100}, END, f"https://x/{i}")
        for i in range(40)
    ]
    digests = [NextDigest(f"digest-{i}", "C0123", END) for i in range(40)]
    view = home_view(
        HomeData("7d", headline, ZoneInfo("UTC"), "Prometheus at x", alerts=alerts, digests=digests, notes=["n" * 4000])
    ).to_dict()
    assert len(view["blocks"]) <= 100
    texts = [b["text"]["text"] for b in view["blocks"] if b.get("text") and b["type"] != "header"]
    texts += [e["text"] for b in view["blocks"] if b["type"] == "context" for e in b["elements"]]
    assert texts and all(len(text) <= 3000 for text in texts)
    listed = next(t for t in texts if t.startswith("*Firing alerts (40)*"))
    shown = listed.count(":rotating_light:")
    assert 0 < shown <= MAX_LISTED and listed.endswith(f"… and {40 - shown} more")
