"""Slack's limits and mrkdwn safety (issue 13, faults 1 and 2), through the notifier, the outbox and the strict
emulator: a too-long rule description is cut, never raised; telemetry label values never mention or link."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from chart_fixtures import result
from slack_block_rules import block_errors
from slack_emulator import BOT_TOKEN, SlackEmulator
from slack_sdk import WebClient
from test_cost import measured

from codex_bot.alerts.evaluate import Transition
from codex_bot.alerts.loader import load_rules
from codex_bot.alerts.notify import Notifier
from codex_bot.alerts.records import AlertRecords
from codex_bot.alerts.routing import Routing
from codex_bot.alerts.rules import Rule
from codex_bot.alerts.state import AlertState
from codex_bot.cli import main as codex_bot
from codex_bot.delivery.outbox import Outbox
from codex_bot.panels.cost import cost_notes
from codex_bot.slack.blocks import panel_blocks
from codex_bot.slack.mrkdwn import MAX_TEXT, code, code_block, escape, fit, link
from codex_bot.slack.slack_transport import SlackTransport
from codex_bot.store import Store

UTC = ZoneInfo("UTC")
AT = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
HOSTILE = "<!channel> & <https://evil.example|click>"
LONG_DESCRIPTION = "Spend is way up & nobody <noticed>. " * 150  # 5,400 characters, more once escaped


def rule(name: str, **fields: object) -> Rule:
    return Rule.model_validate(
        {
            "name": name,
            "figure": "tokens.total",
            "window": "1h",
            "condition": "above 10",
            "group_by": ["model"],
            **fields,
        }
    )


@pytest.fixture
def slack() -> Iterator[SlackEmulator]:
    with SlackEmulator(channels=["alerts"]) as emulator:
        yield emulator


def fire(store: Store, rules: dict[str, Rule], labels: dict[str, str]) -> None:
    """Open a firing episode for every rule, as an evaluation cycle would."""
    states = [AlertState(name, labels, "firing", AT, 42.0, 10.0, AT - timedelta(minutes=10), AT) for name in rules]
    with store.transaction() as tx:
        AlertRecords(store).save(tx, states, [Transition(None, s) for s in states], rules)


def notify_and_deliver(tmp_path, slack: SlackEmulator, rules: dict[str, Rule], labels: dict[str, str]):
    store = Store.open(tmp_path / "state.sqlite")
    fire(store, rules, labels)
    outbox = Outbox(store)
    report = Notifier(store, outbox, UTC).notify(rules, Routing(default="#alerts"), AT)
    flushed = outbox.flush(SlackTransport(WebClient(token=BOT_TOKEN, base_url=slack.base_url)))
    return report, flushed


def test_a_description_over_3000_characters_is_cut_and_the_cycles_later_notices_still_go_out(tmp_path, slack):
    """Fault 1: the long description raised SlackObjectFormationError in the notifier and skipped the rest."""
    rules = {"long-words": rule("long-words", description=LONG_DESCRIPTION), "quiet": rule("quiet")}
    report, flushed = notify_and_deliver(tmp_path, slack, rules, {"model": "gpt-5"})
    assert len(report.posted) == 2 and len(flushed.sent) == 2 and not flushed.failed
    first, second = slack.posted("alerts")
    about = first["blocks"][2]["text"]["text"]
    assert len(about) <= MAX_TEXT and about.endswith("…") and about.startswith("Spend is way up &amp; nobody &lt;")
    assert "FIRING quiet" in second["text"]


def test_rules_check_warns_about_a_description_slack_will_cut(tmp_path, capsys):
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "a.yaml").write_text(
        "routing: {default: '#alerts'}\nrules:\n  - name: long-words\n"
        "    figure: tokens.total\n    window: 1h\n    condition: above 10\n"
        f"    description: '{LONG_DESCRIPTION}'\n"
    )
    assert [w.line for w in load_rules(folder).warnings] == [7]
    assert codex_bot(["rules", "check", "--dir", str(folder)]) == 0, "a warning is not a problem: the rule loads"
    out = capsys.readouterr().out
    assert f"{folder / 'a.yaml'}:7: warning: description: the description is " in out and "first 3000" in out


def test_a_hostile_model_label_shows_as_typed_in_the_alert(tmp_path, slack):
    """Fault 2: the label reached the alert's section text verbatim (a mass mention and a disguised link)."""
    rules = {"spike": rule("spike", runbook="https://runbooks.example/spike?a=1&b=2")}
    notify_and_deliver(tmp_path, slack, rules, {"model": HOSTILE})
    (message,) = slack.posted("alerts")
    mrkdwn_texts = [b["text"]["text"] for b in message["blocks"] if b["type"] == "section" and "text" in b]
    mrkdwn_texts += [e["text"] for b in message["blocks"] if b["type"] == "context" for e in b["elements"]]
    shown = "\n".join(mrkdwn_texts)
    assert "`model=&lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;`" in shown
    assert "<!channel>" not in shown and "<https://evil" not in shown
    assert "<https://runbooks.example/spike?a=1&amp;b=2|Runbook>" in shown
    assert "<!channel>" not in message["text"]


def test_the_cost_panel_with_25_unpriced_models_fits_slack():
    """Fault 1, second half: the note listing ~25 unpriced models was a 3,400-character context text."""
    models = {f"{'very-long-unpriced-model-name-' * 3}{i:02d}": (2_000_000 + i, 0, 1_000) for i in range(25)}
    notes = cost_notes(measured(models))
    assert notes[1].endswith(" and 15 more") and notes[1].count("tokens)") == 10
    blocks = panel_blocks(
        result("cost", figures={"total_usd": 0.0}, notes=[*notes, "x" * 4000]), UTC, source="Prometheus at prom:9090"
    )
    payload = [b.to_dict() for b in blocks]
    assert block_errors(payload) == []
    assert payload[-1]["elements"][0]["text"].endswith("…")


@pytest.mark.parametrize(
    ("text", "limit"),
    [
        ("a" * 10, 5),
        ("ab &amp; cd", 7),
        ("see <https://x.example|x> now", 12),
        ("```" + "row\n" * 50 + "```", 30),
        ("héllo 👩‍💻 שלום", 9),
    ],
)
def test_fit_cuts_visibly_and_never_inside_an_entity_a_link_or_a_fence(text, limit):
    cut = fit(text, limit)
    assert len(cut) <= limit and cut.endswith(("…", "…```"))
    assert "&am…" not in cut and "<https" not in cut and cut.count("```") % 2 == 0
    assert fit(text, len(text)) == text


def test_escaping_helpers():
    assert escape(HOSTILE) == "&lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;"
    assert code("a`b\nc") == "aˋb c"
    assert link("https://x.example/a?b=1|2", "<run>") == "<https://x.example/a?b=1&amp;%7C2|&lt;run&gt;>".replace(
        "&amp;%7C", "%7C"
    )
    assert code_block("```x```") == "```ˋˋˋxˋˋˋ```"
