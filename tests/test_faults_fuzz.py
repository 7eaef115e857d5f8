"""Thousands of fuzzed ``/codex`` commands: no crash, and no typed value reaches PromQL unescaped.

Each command goes through the real router (``reply_for``: help, panels, alerts, silence, digest) with
a Prometheus client whose query methods are wrapped to capture every PromQL text.  Each capture must
read back (by scanning its string literals) as exact ``=`` matchers whose values are exactly words
the asker typed, and every unique capture must be accepted by the real Prometheus parser
(``promtool check rules``).  A smaller run does the same against the real fleet Prometheus.
"""

from __future__ import annotations

import re
import shlex
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from fault_helpers import label_matchers
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prometheus_fleet import Fleet, free_port, require_binaries
from slack_emulator import SlackEmulator, build_bot

from codex_bot.commands.codex import INTERNAL_ERROR, reply_for
from codex_bot.commands.invocation import Invocation
from codex_bot.errors import PrometheusUnavailable
from codex_bot.metrics.client import PrometheusClient
from codex_bot.panels.catalog import PANELS
from codex_bot.panels.cost import load_prices
from codex_bot.panels.request import split_words
from codex_bot.panels.service import Panels
from codex_bot.slack.replies import PanelReplies

pytestmark = pytest.mark.prometheus

REPO = Path(__file__).resolve().parents[1]
USER = "U0FUZZER"  # admin and allowed per-user figures, so every path is open to the fuzzer
TZ = ZoneInfo("Europe/Berlin")
SURROGATE = re.compile("[\ud800-\udfff]")
FIXED_LABELS = {"type": {"input", "output", "cached_input", "reasoning_output"}, "success": {"false"}}
FILTER_LABELS = sorted({name for panel in PANELS for name in panel.filters})


class CapturingClient(PrometheusClient):
    """The real client with its query methods wrapped: every PromQL text is captured.

    ``offline`` answers without calling Prometheus (empty vectors; label values as the fleet has them).
    """

    def __init__(self, url: str, known: dict[str, list[str]] | None = None) -> None:
        super().__init__(url, timeout=10)
        self.known = known
        self.captured: list[str] = []
        self.refused: list[str] = []

    def _capture(self, promql: str, call: Any) -> Any:
        self.captured.append(promql)
        try:
            return call()
        except PrometheusUnavailable as exc:
            self.refused.append(f"{promql}: {exc}")
            raise

    def query(self, promql: str, at: datetime) -> list:
        return self._capture(
            promql, lambda: [] if self.known is not None else super(CapturingClient, self).query(promql, at)
        )

    def query_range(self, promql: str, start: datetime, end: datetime, step_seconds: int) -> list:
        return self._capture(
            promql,
            lambda: (
                []
                if self.known is not None
                else super(CapturingClient, self).query_range(promql, start, end, step_seconds)
            ),
        )

    def label_values(self, label: str, match: Sequence[str] = ()) -> list[str]:
        self.captured.extend(match)
        if self.known is not None:
            return self.known.get(label, [])
        return super().label_values(label, match)


@dataclass
class Rig:
    slack: SlackEmulator
    deps: Any
    known: dict[str, list[str]]
    promql: set[str] = field(default_factory=set)
    with_values: int = 0  # commands whose typed filter values reached PromQL

    def ask(self, client: CapturingClient, text: str) -> str:
        client.captured.clear()
        message, _ = reply_for(Invocation(text, USER, "C0FUZZ", "fuzz"), self.deps)
        assert INTERNAL_ERROR not in message.text, f"/codex {text!r} crashed (see the log)"
        typed = sum(assert_only_typed_values(promql, text) for promql in client.captured)
        self.with_values += bool(typed)
        self.promql.update(client.captured)
        return message.text


@pytest.fixture(scope="module")
def rig(fleet: Fleet) -> Iterator[Rig]:
    """The whole /codex router as ``serve`` builds it; its Prometheus URL refuses (digests fail fast)."""
    client = PrometheusClient(fleet.prometheus_url)
    known = {label: client.label_values(label) for label in FILTER_LABELS}
    client.close()
    with SlackEmulator() as slack:
        _, deps = build_bot(
            slack,
            prometheus_url=f"http://127.0.0.1:{free_port()}",
            timezone=TZ.key,
            personal_data_users=[USER],
            admin_users=[USER],
            rules_dir=REPO / "rules",
            quickchart_url=f"http://127.0.0.1:{free_port()}",
        )
        deps.replies = PanelReplies(TZ, None, source="fuzz")
        deps.clock = lambda: fleet.align(fleet.end)
        yield Rig(slack, deps, known)


def assert_only_typed_values(promql: str, text: str) -> int:
    """Every matcher is ``label="value"`` with a fixed value of the panel or exactly a typed ``key=value``;
    returns how many typed values the text holds."""
    typed = {
        (key.strip().lower(), SURROGATE.sub("\ufffd", value))  # lone surrogates are sent as U+FFFD
        for key, _, value in (w.partition("=") for w in split_words(text))
    }
    found = 0
    for selector in label_matchers(promql):
        for label, (op, value) in selector.items():
            assert op == "=", promql
            if label in FIXED_LABELS:
                assert value in FIXED_LABELS[label], promql
            else:
                assert (label, value) in typed, f"{label}={value!r} was not typed in {text!r}: {promql}"
                found += 1
    return found


HOSTILE = [
    'x"} or vector(1) or {a="',
    'plain"quote',
    "back\\slash",
    "trailing\\",
    "a{b}c",
    "}",
    "new\nline",
    "\x00\x07\x1b[31m",
    "é 中文 😀 \u200b\u2028\ufeff",
    ".*",
    "gpt|.*",
    "$1 ${x}",
    "'single' `back`",
    "\\x41\\u0041",
    '"',
    "=",
    "a=b",
    "model=x",
    "\ud800",
    "%22",
    "&lt;",
    "<!channel>",
    "*bold*",
]
RANGES = [
    "24h",
    "7d",
    "30d",
    "1h",
    "15m",
    "2w",
    "today",
    "yesterday",
    "this week",
    "last week",
    "this month",
    "0h",
    "-1d",
    "999999d",
    "7D",
    "1y",
    "week",
]
WORDS = ["public", "help", "?", "alerts", "silence", "unsilence", "digest", "weekly", "success-rate-drop", "2h"]
KEYS = [*FILTER_LABELS, "Model", "USER ", "type", "le", "__name__", "success", "", "x"]
PANEL_NAMES = sorted({name for panel in PANELS for name in panel.names})


def commands(known_values: list[str]) -> st.SearchStrategy[str]:
    """Mostly well-formed panel requests with hostile filter values, in any order; some wild text."""
    value = st.one_of(st.text(min_size=1, max_size=30), st.sampled_from(HOSTILE), st.sampled_from(known_values))
    wild = st.one_of(
        st.sampled_from(PANEL_NAMES),
        st.sampled_from(RANGES),
        st.sampled_from(WORDS),
        st.text(max_size=15),
        st.builds(filter_word, st.sampled_from(KEYS), value, st.integers(0, 2)),
    )

    @st.composite
    def panel_request(draw: st.DrawFn) -> str:
        panel = draw(st.sampled_from(PANELS))
        words = [draw(st.sampled_from(RANGES))] if draw(st.booleans()) else []
        for key in draw(st.lists(st.sampled_from(panel.filters), unique=True, max_size=len(panel.filters))):
            words.append(filter_word(key, draw(value), draw(st.integers(0, 2))))
        words += ["public"] if draw(st.integers(0, 3)) == 0 else []
        words += [draw(wild)] if draw(st.integers(0, 9)) == 0 else []
        return " ".join([draw(st.sampled_from(panel.names)), *draw(st.permutations(words))])

    other = st.one_of(st.builds(" ".join, st.lists(wild, max_size=6)), st.text(max_size=60))
    return st.integers(0, 9).flatmap(lambda n: panel_request() if n < 8 else other)


def filter_word(key: str, value: str, quoting: int) -> str:
    """``key=value`` as typed: bare, in double quotes, or shell-quoted."""
    if quoting == 0:
        return f"{key}={value}"
    return f'{key}="{value}"' if quoting == 1 else shlex.quote(f"{key}={value}")


def fuzz(rig, client: CapturingClient, examples: int) -> None:
    """Ask ``examples`` generated commands (deterministic) through the bot, answered via ``client``."""
    rig.deps.panels = Panels(client, TZ, load_prices())
    known_values = sorted({v for values in rig.known.values() for v in values})

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(commands(known_values))
    def ask(text: str) -> None:
        rig.ask(client, text)

    ask()
    client.close()


def test_2000_fuzzed_commands_never_crash_and_only_escaped_values_reach_promql(rig, fleet, tmp_path):
    client = CapturingClient(fleet.prometheus_url, rig.known)
    fuzz(rig, client, 2000)
    print(
        f"\n2000 commands: {rig.with_values} put typed filter values into PromQL; "
        f"{len(rig.promql)} distinct PromQL texts, all parsed by promtool"
    )
    assert rig.with_values >= 250  # not vacuous; the exact count moves with the fleet and the clock (~450-550)
    assert_prometheus_parses(sorted(rig.promql), tmp_path)


def assert_prometheus_parses(texts: list[str], work: Path) -> None:
    """The real Prometheus parser (promtool) accepts every text, as recording rules."""
    _, promtool = require_binaries()
    rules = {"groups": [{"name": "fuzz", "rules": [{"record": f"fuzz:q{n}", "expr": t} for n, t in enumerate(texts)]}]}
    path = work / "fuzz-rules.yml"
    path.write_text(yaml.safe_dump(rules, allow_unicode=True))
    done = subprocess.run(
        [promtool, "check", "rules", str(path)], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert f"SUCCESS: {len(texts)} rules found" in done.stdout + done.stderr


def test_fuzzed_commands_against_the_real_prometheus_are_all_accepted(rig, fleet):
    client = CapturingClient(fleet.prometheus_url)
    fuzz(rig, client, 150)
    assert client.refused == []  # Prometheus parsed and answered every query the fuzzer caused
