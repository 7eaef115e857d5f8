"""`codex-bot simulate`: files, JSON lines, truth.json, a live stream into a real ingest, and clear errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
from codex_e2e.exposition import parse, total
from promhelpers import ingest_server

from codex_bot.cli import main
from codex_bot.simulate.fleet import FleetConfig, simulate
from codex_bot.simulate.incidents import parse_incident
from codex_bot.simulate.truth import MEASURES, GroundTruth
from codex_bot.telemetry.contract import MODEL_CALLS, PROMPTS, TOKENS, TOOL_CALLS
from codex_bot.telemetry.exportfiles import read_events
from codex_bot.telemetry.ingest_server import IngestServer

END = "2026-11-27T12:00"
ARGS = [
    "simulate",
    "--developers",
    "5",
    "--days",
    "2",
    "--seed",
    "3",
    "--end",
    END,
    "--incident",
    "success-drop@2026-11-26T10:00/2h",
]
CONFIG = FleetConfig(
    developers=5,
    days=2,
    seed=3,
    end=datetime(2026, 11, 27, 12, tzinfo=UTC),
    incidents=(parse_incident("success-drop@2026-11-26T10:00/2h"),),
)


@pytest.fixture(scope="module")
def truth() -> GroundTruth:
    return GroundTruth(simulate(CONFIG))


def test_writes_request_files_and_the_truth(tmp_path: Path, truth: GroundTruth, capsys) -> None:
    assert main([*ARGS, "--out", str(tmp_path), "--batch-records", "100"]) == 0
    files = sorted(tmp_path.glob("logs-*.json"))
    assert len(files) > 1
    records = sum(len(events) for f in files for events in read_events(f))
    assert f"{records} log records in {len(files)} requests" in capsys.readouterr().out
    document = json.loads((tmp_path / "truth.json").read_text())
    assert document["totals"] == {m: truth.total(m, CONFIG.start, CONFIG.end) for m in MEASURES}
    assert document["by"]["input_tokens"]["model"] == {
        k[0]: v for k, v in truth.total("input_tokens", CONFIG.start, CONFIG.end, by=("model",)).items()
    }
    assert document["incidents"] == [
        {"kind": "success-drop", "start": "2026-11-26T10:00:00+00:00", "end": "2026-11-26T12:00:00+00:00"}
    ]


def test_a_rerun_replaces_earlier_output(tmp_path: Path) -> None:
    assert main([*ARGS, "--out", str(tmp_path), "--batch-records", "50"]) == 0
    assert main([*ARGS, "--out", str(tmp_path), "--jsonl"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["logs.jsonl", "truth.json"]
    lines = (tmp_path / "logs.jsonl").read_text().splitlines()
    assert all(json.loads(line)["resourceLogs"] for line in lines)


def test_an_incident_outside_the_range_is_refused(tmp_path: Path, capsys) -> None:
    assert main([*ARGS[:-2], "--incident", "p95-spike@2026-10-01T10:00/1h", "--out", str(tmp_path)]) == 2
    assert "lies outside the simulated range" in capsys.readouterr().err
    assert not list(tmp_path.glob("logs*"))


@pytest.mark.parametrize(
    "bad, message",
    [
        (["--incident", "meltdown@2026-11-26T10:00/1h"], "unknown incident kind 'meltdown'"),
        (["--developers", "0"], "must be at least 1"),
        (["--end", "yesterday"], "is not an ISO time"),
        (["--timezone", "Mars/Olympus"], "unknown time zone"),
    ],
)
def test_bad_arguments_get_one_clear_line(bad: list[str], message: str, capsys) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["simulate", *bad])
    assert exited.value.code == 2
    assert message in capsys.readouterr().err


@pytest.fixture()
def ingest() -> Iterator[IngestServer]:
    with ingest_server(max_series=10_000, dedup=100_000, max_body=16 * 1024 * 1024) as server:
        yield server


def test_streams_to_a_live_ingest_whose_counters_equal_the_truth(ingest: IngestServer, truth: GroundTruth) -> None:
    assert main([*ARGS, "--stream", ingest.url, "--batch-records", "200"]) == 0
    requests.get(f"{ingest.url}/metrics", timeout=10)  # new series are exposed at 0 first
    samples = parse(requests.get(f"{ingest.url}/metrics", timeout=10).text)
    start, end = CONFIG.start, CONFIG.end
    assert total(samples, TOKENS.series_name, type="input") == truth.total("input_tokens", start, end)
    assert total(samples, TOKENS.series_name, type="cached_input") == truth.total("cached_input_tokens", start, end)
    assert total(samples, MODEL_CALLS.series_name) == truth.total("model_calls", start, end)
    assert total(samples, MODEL_CALLS.series_name, success="false") == truth.total("failed_model_calls", start, end)
    assert total(samples, PROMPTS.series_name) == truth.total("prompts", start, end)
    assert total(samples, TOOL_CALLS.series_name) == truth.total("tool_calls", start, end)


def test_streaming_to_nowhere_is_a_clear_error(capsys) -> None:
    assert main([*ARGS, "--stream", "http://127.0.0.1:9/v1/logs"]) == 2
    assert "could not send to http://127.0.0.1:9/v1/logs" in capsys.readouterr().err
