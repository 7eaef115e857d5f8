"""Every message kind the bot sends, rendered from hostile and huge inputs, is a payload Slack accepts.

Property tests (hypothesis): panel replies for every panel, help and notices, alert firing / acknowledged /
resolved / reminder / silenced / closed / evaluation-failing messages and the alert list, and digests with
their thread replies, fed long labels, hundreds of models, mrkdwn control characters, emoji and RTL text.
Each payload is checked with the strict emulator's own rules (:mod:`slack_block_rules`: slack_sdk's
models and Slack's limits); rendering must never raise, and mrkdwn never carries a live mention or link
made from the input.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta
from zoneinfo import ZoneInfo

from chart_fixtures import END, WEEK, every_panel
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from slack_block_rules import message_error

from codex_bot.alerts import messages
from codex_bot.alerts.actions import overview
from codex_bot.alerts.evaluate import Transition
from codex_bot.alerts.loader import RuleSet
from codex_bot.alerts.records import AlertRecords, EpisodeRecord
from codex_bot.alerts.rules import Rule
from codex_bot.alerts.state import AlertState
from codex_bot.commands.help import help_message
from codex_bot.delivery.message import Message
from codex_bot.digests.compose import Digest
from codex_bot.digests.definitions import DigestDefinition
from codex_bot.digests.layout import digest_messages
from codex_bot.panels.result import PanelResult
from codex_bot.slack.replies import PanelReplies, notice
from codex_bot.store import Store

TZ = ZoneInfo("Europe/Berlin")
PAYLOADS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
NASTY = [
    "<!channel>",
    "<!here|here>",
    "<@U0ALICE>",
    "<#C0GENERAL>",
    "<https://evil.example|click>",
    "&amp;",
    "&",
    "```",
    "`",
    "*bold*",
    "_it_",
    "~s~",
    ">quote",
    "|",
    "\n",
    "\u202eevil\u202c",
    "שלום",
    "مرحبا",
    "👩‍💻",
    "🇩🇪",
    ":warning:",
    "\u200b",
    "\\",
    '"',
    "é",
]
# A live mention or link in mrkdwn: what escaping must prevent input from making.
LIVE = re.compile(r"<(?:!|@(?!U0BOT>)|#|https?:(?!//runbooks\.example/))")

pieces = st.one_of(st.sampled_from(NASTY), st.text(max_size=12))
hostile = st.lists(pieces, max_size=12).map("".join)
huge = st.builds(lambda text, times: (text or "x") * times, hostile, st.integers(1, 400))
label = st.one_of(hostile, huge)
labels = st.dictionaries(st.sampled_from(["model", "user", "tool", "terminal", "x" * 80]), label, max_size=3)


def assert_accepted(message: Message) -> None:
    """Slack takes ``message`` (chat.postMessage / response_url) and input made no live mention or link."""
    payload = message.blocks_json()
    assert message_error(message.text, payload) is None, message_error(message.text, payload)
    for text in _mrkdwn_texts(payload) + [message.text]:
        assert not LIVE.search(text), text[:300]


def _mrkdwn_texts(node: object) -> list[str]:
    if isinstance(node, dict):
        own = [node["text"]] if node.get("type") == "mrkdwn" else []
        return own + [t for value in node.values() for t in _mrkdwn_texts(value)]
    if isinstance(node, list):
        return [t for value in node for t in _mrkdwn_texts(value)]
    return []


def _hostile_rows(result: PanelResult, names: list[str]) -> list[dict]:
    """The result's rows repeated to ``len(names)`` rows, their first (label) column set to ``names``."""
    if not result.rows:
        return []
    first = next(iter(result.rows[0]))
    return [{**result.rows[i % len(result.rows)], first: name} for i, name in enumerate(names)]


def hostile_result(result: PanelResult, names: list[str], filters: dict[str, str], notes: list[str]) -> PanelResult:
    return replace(
        result, rows=_hostile_rows(result, names) or result.rows, filters=filters, notes=[*result.notes, *notes]
    )


@PAYLOADS
@given(
    names=st.lists(label, min_size=1, max_size=500), filters=labels, notes=st.lists(label, max_size=3), source=hostile
)
def test_every_panel_reply(names, filters, notes, source):
    replies = PanelReplies(TZ, None, source=source)
    for result in every_panel().values():
        assert_accepted(replies.compose(hostile_result(result, names, filters, notes)))


@PAYLOADS
@given(text=label)
def test_help_and_notices(text):
    assert_accepted(help_message())
    assert_accepted(notice(text))
    assert_accepted(notice(text, ":warning:"))


def rule(description: str, name: str, runbook: str | None) -> Rule:
    return Rule.model_validate(
        {
            "name": name,
            "figure": "p95.p95_seconds",
            "window": "1h",
            "condition": "above 90",
            "description": description,
            "runbook": runbook,
            "filters": {"tool": "exec_command"},
        }
    )


def episode(labels: dict[str, str], acknowledged_by: str | None) -> EpisodeRecord:
    fired = END - timedelta(hours=3)
    return EpisodeRecord(
        7,
        "r",
        labels,
        "critical",
        fired - timedelta(minutes=5),
        fired,
        81.5,
        90.0,
        END,
        95.0,
        "recovered",
        "alert:7:firing",
        None,
        None,
        acknowledged_by,
        END if acknowledged_by else None,
        "percent",
    )


rule_names = st.from_regex(r"[a-z][a-z0-9._-]{0,200}", fullmatch=True)
runbooks = st.one_of(st.none(), hostile.map(lambda tail: "https://runbooks.example/" + re.sub(r"\s", "", tail)))


@PAYLOADS
@given(
    description=label,
    name=rule_names,
    runbook=runbooks,
    group=labels,
    reason=label,
    acked=st.sampled_from([None, "U0BOT"]),
)
def test_every_alert_message(description, name, runbook, group, reason, acked):
    r, e = rule(description, name, runbook), episode(group, acked)
    open_episode = replace(e, resolved_at=None)
    for message in (
        messages.firing_message(r, open_episode, TZ, chart_note=reason),
        messages.resolved_message(r, replace(e, resolve_reason=reason), TZ),
        messages.resolved_reply(r, replace(e, resolve_reason=reason)),
        messages.reminder_message(r, open_episode, 50.0, END),
        messages.retired_message(replace(e, rule=name), TZ),
        messages.retired_reply(replace(e, rule=name)),
        messages.failing_notice(reason, END, TZ),
        messages.recovered_notice(END - timedelta(hours=1), END),
        messages.action_reply(f":no_bell: Silenced by <@U0BOT> until {END:%H:%M} {TZ.key}."),
    ):
        assert_accepted(message)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(groups=st.lists(labels, min_size=1, max_size=40, unique_by=lambda d: tuple(sorted(d.items()))))
def test_the_alert_list(tmp_path_factory, groups):
    store = Store.open(tmp_path_factory.mktemp("alerts") / "state.sqlite")
    rules = {"r": rule("", "r", None)}
    states = [AlertState("r", g, "firing", END, 81.0, 90.0, END - timedelta(hours=1), END) for g in groups]
    with store.transaction() as tx:
        AlertRecords(store).save(tx, states, [Transition(None, s) for s in states], rules)
    assert_accepted(overview(store, RuleSet(rules=list(rules.values())), END, TZ))


def alert(i: int, labels: dict[str, str], name: str) -> EpisodeRecord:
    fired = END - timedelta(hours=i + 1)
    return EpisodeRecord(
        i,
        name,
        labels,
        ("critical", "warning", "info", "other")[i % 4],
        fired,
        fired,
        80.0,
        90.0,
        None if i % 3 else END,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        "percent",
    )


@PAYLOADS
@given(
    names=st.lists(label, min_size=1, max_size=500),
    filters=st.dictionaries(st.just("model"), label),
    title=label,
    alert_labels=st.lists(labels, max_size=60),
    rule_name=rule_names,
)
def test_every_digest_message(names, filters, title, alert_labels, rule_name):
    definition = DigestDefinition(
        name="daily",
        channel="#eng",
        schedule="0 9 * * *",
        timezone="Europe/Berlin",
        title=title or None,
        filters=filters,
    )
    results = {
        name: hostile_result(r, names, filters, []) for name, r in every_panel().items() if name in definition.panels
    }
    alerts = [alert(i, group, rule_name) for i, group in enumerate(alert_labels)]
    for message in digest_messages(Digest(definition, WEEK, results, alerts), source=title).all():
        assert_accepted(message)
