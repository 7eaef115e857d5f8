"""The real Codex CLI, end to end: `codex exec` against a fake Responses API, `[otel]` into a live ingest.

The pinned npm package ``@openai/codex`` is installed once into pytest's cache folder (ignored by
git; reused on later runs).  The fake API serves a tool call then an answer and records exactly
what it served; every figure asserted below is derived from that record.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from codex_e2e.codex_cli import MODEL, TERMINAL, USER_EMAIL, CodexRun, cached_codex, config_toml, run_exec
from codex_e2e.exposition import Sample, parse, total
from codex_e2e.fake_responses_api import FakeResponsesAPI, Served
from codex_e2e.ingest_process import running_ingest, scrape
from codex_e2e.otlp_tap import Exchange, OtlpTap

from codex_bot.telemetry.contract import (
    CONVERSATIONS,
    FAMILIES,
    MODEL_CALLS,
    PROMPTS,
    TOKENS,
    TOOL_CALLS,
    TOOL_DECISIONS,
    TOOL_DURATION,
)

pytestmark = pytest.mark.codex

PROMPT = "say hi"
CONTENT_TYPES = {"binary": "application/x-protobuf", "json": "application/json"}


@pytest.fixture(scope="module")
def codex(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The pinned Codex CLI binary, installed with npm on first use (per run when pytest's cache is off)."""
    return cached_codex(request.config, tmp_path_factory)


@dataclass(frozen=True)
class Outcome:
    protocol: str
    run: CodexRun
    served: list[Served]
    tool_outputs: dict[str, str]
    outbound: list[str]
    fake_errors: list[str]
    exchanges: list[Exchange]
    births: list[Sample]  # first scrape: ingest shows each new series at 0 before its increments
    samples: list[Sample]  # second scrape: the counts


def run_codex_into_ingest(codex: Path, workdir: Path, protocol: str) -> Outcome:
    """One `codex exec` against a fresh fake API, exporting via a recording tap into a fresh ingest."""
    home, cwd = workdir / "codex-home", workdir / "scratch"
    home.mkdir()
    cwd.mkdir()
    with FakeResponsesAPI() as fake, running_ingest(workdir / "ingest") as ingest, OtlpTap(ingest) as tap:
        (home / "config.toml").write_text(config_toml(fake.base_url, tap.url, protocol))
        run = run_exec(codex, home, cwd, fake.proxy_url, PROMPT)
        births, samples = parse(scrape(ingest)), parse(scrape(ingest))
        return Outcome(
            protocol, run, fake.served, fake.tool_outputs, fake.outbound, fake.errors, tap.exchanges, births, samples
        )


@pytest.fixture(scope="module", params=["binary", "json"])
def outcome(request: pytest.FixtureRequest, codex: Path, tmp_path_factory: pytest.TempPathFactory) -> Outcome:
    protocol = request.param
    result = run_codex_into_ingest(codex, tmp_path_factory.mktemp(f"codex-{protocol}"), protocol)
    assert result.run.returncode == 0, f"codex exec failed:\n{result.run.stdout}\n{result.run.stderr}"
    return result


def test_codex_ran_offline_through_the_tool_call(outcome: Outcome) -> None:
    kinds = ["tool_call" if s.tool_call else "message" for s in outcome.served]
    assert kinds == ["tool_call", "message"], outcome.run.stderr
    assert outcome.fake_errors == []
    assert outcome.outbound == [], "Codex tried to reach beyond loopback"
    call = outcome.served[0].tool_call
    assert "hi" in outcome.tool_outputs[call.call_id].splitlines()  # `echo hi` really ran
    assert outcome.run.stdout.strip().endswith(outcome.served[-1].message)
    assert outcome.run.leftover_pids == (), "codex exec left processes running (killed); a new long-lived writer?"


def test_all_three_signals_accepted(outcome: Outcome) -> None:
    paths = {e.path for e in outcome.exchanges}
    assert {"/v1/logs", "/v1/metrics", "/v1/traces"} <= paths
    assert [e for e in outcome.exchanges if e.status != 200] == []
    assert {e.content_type for e in outcome.exchanges} == {CONTENT_TYPES[outcome.protocol]}
    # ingest's own view agrees: every logs request counted, every other signal ignored, nothing refused
    requests = {s.labels["outcome"]: s.value for s in outcome.samples if s.name == "codex_bot_ingest_requests_total"}
    logs = sum(e.path == "/v1/logs" for e in outcome.exchanges)
    assert requests == {**dict.fromkeys(requests, 0), "accepted": logs, "ignored_signal": len(outcome.exchanges) - logs}


def test_series_are_born_at_zero(outcome: Outcome) -> None:
    parts = ("_total",) + tuple(f"_{part}" for part in ("bucket", "sum", "count"))
    contract = {f.name + part for f in FAMILIES for part in parts}
    born = [(s.name, dict(s.labels)) for s in outcome.births if s.name in contract]
    assert born == [(s.name, dict(s.labels)) for s in outcome.samples if s.name in contract]
    assert born and all(s.value == 0 for s in outcome.births if s.name in contract)


def test_tokens_equal_the_usage_served(outcome: Outcome) -> None:
    usages = [s.usage for s in outcome.served]
    expected = {
        "input": sum(u.input_tokens for u in usages),
        "cached_input": sum(u.cached_tokens for u in usages),
        "output": sum(u.output_tokens for u in usages),
        "reasoning_output": sum(u.reasoning_tokens for u in usages),
    }
    name = TOKENS.series_name
    counted = {kind: total(outcome.samples, name, type=kind) for kind in expected}
    assert counted == expected
    assert total(outcome.samples, name) == sum(expected.values())  # no other token type appears
    assert total(outcome.samples, name, model=MODEL) == sum(expected.values())


def test_model_calls_equal_the_responses_served(outcome: Outcome) -> None:
    name = MODEL_CALLS.series_name
    assert total(outcome.samples, name) == len(outcome.served)
    assert total(outcome.samples, name, model=MODEL, transport="http", success="true") == len(outcome.served)


def test_tool_calls_equal_the_function_calls_served(outcome: Outcome) -> None:
    calls = [s.tool_call for s in outcome.served if s.tool_call]
    names = {call.name for call in calls}
    for family in (TOOL_CALLS, TOOL_DECISIONS):
        assert total(outcome.samples, family.series_name) == len(calls)
        assert sum(total(outcome.samples, family.series_name, model=MODEL, tool=n) for n in names) == len(calls)
    assert total(outcome.samples, TOOL_CALLS.series_name, success="true") == len(calls)
    assert total(outcome.samples, TOOL_DECISIONS.series_name, decision="approved", source="config") == len(calls)
    assert total(outcome.samples, f"{TOOL_DURATION.name}_count") == len(calls)


def test_every_per_person_family_carries_the_exporting_users_label(outcome: Outcome) -> None:
    """The e-mail Codex exports as a resource attribute is the user label of tokens, conversations, prompts,
    tool calls and decisions alike (so `/codex me` finds all of them), and of nothing else."""
    per_person = [family for family in FAMILIES if "user" in family.labels]
    assert {family.name for family in per_person} == {
        TOKENS.name,
        CONVERSATIONS.name,
        PROMPTS.name,
        TOOL_CALLS.name,
        TOOL_DECISIONS.name,
    }
    for family in per_person:
        counted = total(outcome.samples, family.series_name)
        assert counted > 0 and total(outcome.samples, family.series_name, user=USER_EMAIL) == counted, family.name
    assert all("user" not in s.labels for s in outcome.samples if s.name.startswith(TOOL_DURATION.name))


def test_one_conversation_and_prompt_per_exec(outcome: Outcome) -> None:
    for family in (CONVERSATIONS, PROMPTS):
        assert total(outcome.samples, family.series_name) == 1
        assert total(outcome.samples, family.series_name, model=MODEL, terminal=TERMINAL) == 1
