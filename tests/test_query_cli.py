"""`codex-bot query` end to end against the real Prometheus: JSON, table, and every failure as a message."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from prometheus_fleet import free_port

from codex_bot.cli import main

pytestmark = pytest.mark.prometheus


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["query", *argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def test_json_carries_the_issue_keys_and_exact_figures(capsys, fleet):
    at = fleet.align(fleet.end)
    code, out, _ = run(capsys, "tokens", "7d", "--at", at.isoformat(), "--json", "--prometheus", fleet.prometheus_url)
    assert code == 0
    answer = json.loads(out)
    assert {"panel", "range", "figures", "rows", "series", "previous"} <= answer.keys()
    assert answer["panel"] == "tokens"
    start = at - timedelta(days=7)
    assert answer["range"]["start"] == start.isoformat() and answer["range"]["end"] == at.isoformat()
    assert answer["figures"]["input"] == fleet.truth.total("input_tokens", start, at)
    assert answer["previous"]["output"] == fleet.truth.total("output_tokens", start - timedelta(days=7), start)


def test_unix_seconds_at_filters_and_table(capsys, fleet, monkeypatch):
    monkeypatch.setenv("CODEX_BOT_PROMETHEUS_URL", fleet.prometheus_url)
    at = fleet.align(fleet.end)
    code, out, _ = run(capsys, "model-tokens", "last", "week", f"--at={int(at.timestamp())}")
    assert code == 0
    assert out.startswith("Tokens by model — last week:")
    assert "share" in out and "gpt-5" in out


def test_unknown_panel_is_a_message_and_exit_2(capsys, fleet):
    code, out, err = run(capsys, "tokns", "--prometheus", fleet.prometheus_url)
    assert code == 2 and out == ""
    assert "Did you mean tokens" in err


def test_unknown_filter_value_is_a_message_and_exit_2(capsys, fleet):
    code, _, err = run(
        capsys, "success", "7d", "model=gpt-4o", "--prometheus", fleet.prometheus_url, "--at", fleet.end.isoformat()
    )
    assert code == 2 and "No model 'gpt-4o'" in err


def test_bad_time_is_a_message_and_exit_2(capsys, fleet):
    code, _, err = run(capsys, "tokens", "--at", "noon", "--prometheus", fleet.prometheus_url)
    assert code == 2 and "RFC 3339" in err


def test_no_data_is_a_message_and_exit_3(capsys, fleet):
    before = fleet.start - timedelta(days=60)
    code, out, err = run(capsys, "tokens", "7d", "--at", before.isoformat(), "--prometheus", fleet.prometheus_url)
    assert code == 3 and out == ""
    assert "no data for tokens over 7d" in err


def test_unreachable_prometheus_is_a_message_and_exit_1(capsys):
    url = f"http://127.0.0.1:{free_port()}"
    code, out, err = run(capsys, "tokens", "--prometheus", url)
    assert code == 1 and out == ""
    assert err.strip() == f"codex-bot: Cannot reach Prometheus at {url}: connection refused."
