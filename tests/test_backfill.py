"""Backfill: export-file layouts, the dense OpenMetrics grid, and a real promtool import queried through a
real Prometheus, where increase() at grid times must equal the events exactly."""

from __future__ import annotations

import gzip
import json
import math
import random
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from prometheus_fleet import VictoriaMetricsServer, require_victoriametrics
from promhelpers import (
    SAMPLE_FILES,
    ingest_server,
    prometheus,
    query,
    record_named,
    request_of,
    retimed,
    sample_request,
)

from codex_bot.cli import main as codex_bot
from codex_bot.cli.backfill import parse_time
from codex_bot.errors import UserError
from codex_bot.telemetry.backfill import aggregate_files, backfill
from codex_bot.telemetry.exportfiles import read_events
from codex_bot.telemetry.labels import UserLabelRule
from codex_bot.telemetry.openmetrics import write_openmetrics

STEP = 60
HOUR = 3600


def write_jsonl(path: Path, requests: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in requests))
    return path


def prompt_at(seconds: float, user: str) -> dict:
    return retimed(record_named("codex.user_prompt"), seconds, user__email=user)


# --- file layouts -------------------------------------------------------------------------------------------


def test_reads_envelopes_pretty_json_lines_and_gzip(tmp_path: Path) -> None:
    request = sample_request()
    layouts = {
        "envelope.json": SAMPLE_FILES[0].read_text(),  # recorded OTLP/HTTP request: {"path", ..., "payload"}
        "pretty.json": json.dumps(request, indent=2),
        "lines.jsonl": json.dumps(request) + "\n\n" + json.dumps(request) + "\n",
        "metrics-envelope.json": json.dumps({"path": "/v1/metrics", "payload": {"resourceMetrics": []}}),
    }
    for name, text in layouts.items():
        (tmp_path / name).write_text(text)
    (tmp_path / "lines.jsonl.gz").write_bytes(gzip.compress(layouts["lines.jsonl"].encode()))
    counts = {p.name: [len(events) for events in read_events(p)] for p in sorted(tmp_path.iterdir())}
    assert counts == {
        "envelope.json": [17],
        "lines.jsonl": [17, 17],
        "lines.jsonl.gz": [17, 17],
        "metrics-envelope.json": [],
        "pretty.json": [17],
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"resourceLogs": []}\n{oops\n', r"bad.jsonl:2: invalid JSON"),
        ('{"resourceLogs": []}\n[1]\n', r"bad.jsonl:2: expected a JSON object"),
        (
            '{"resourceLogs": [{"scopeLogs": 5}]}\n',
            r"bad.jsonl:1: not an OTLP/JSON ExportLogsServiceRequest: "
            r"resourceLogs\[0\].scopeLogs: must be a JSON array",
        ),
        ("{\n  broken", r"bad.jsonl: invalid JSON \(expected one request per file or one per line\)"),
    ],
)
def test_bad_files_name_the_line_and_the_problem(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(text)
    with pytest.raises(UserError, match=message):
        list(read_events(path))
    with pytest.raises(UserError, match=r"cannot read .*missing.json: No such file"):
        list(read_events(tmp_path / "missing.json"))


def test_end_time_forms() -> None:
    assert parse_time("now+1h", now=1000) == 4600 and parse_time("now-30m", now=1000) == -800
    assert parse_time("now", now=5) == 5 and parse_time("1800000000") == 1_800_000_000
    assert parse_time("2027-01-15T08:00:00Z") == 1_800_000_000
    with pytest.raises(Exception, match="bad time 'soon'"):
        parse_time("soon")


# --- the grid -----------------------------------------------------------------------------------------------


def om_samples(path: Path) -> dict[str, list[tuple[int, float]]]:
    """Series text → [(timestamp, value)] in file order."""
    series: dict[str, list[tuple[int, float]]] = {}
    for line in path.read_text().splitlines():
        if not line.startswith("#"):
            name, value, stamp = line.rsplit(" ", 2)
            series.setdefault(name, []).append((int(stamp), float(value)))
    return series


def test_dense_grid_from_one_step_before_birth_to_end(tmp_path: Path) -> None:
    base = 1_800_000_000  # on the 60 s grid
    records = [
        prompt_at(base + 60, "a@x"),  # exactly on a grid time: lands there
        prompt_at(base + 61, "a@x"),  # just after: lands on the next one
        prompt_at(base + 300, "b@x"),
    ]  # b is born later
    files = [write_jsonl(tmp_path / "in.jsonl", [request_of(records)])]
    timeline, outcomes, undated, after_end = aggregate_files(files, STEP, base + 420.5, UserLabelRule(), 100, 100)
    assert (outcomes.counted, undated, after_end) == (3, 0, 0)
    stats = write_openmetrics(timeline, (base + 420) // STEP, tmp_path / "out.om")
    series = om_samples(tmp_path / "out.om")
    a = series['codex_prompts_total{model="gpt-5.1-codex",user="a@x",terminal="xterm"}']
    b = series['codex_prompts_total{model="gpt-5.1-codex",user="b@x",terminal="xterm"}']
    assert a == [
        (base, 0),
        (base + 60, 1),
        (base + 120, 2),
        (base + 180, 2),
        (base + 240, 2),
        (base + 300, 2),
        (base + 360, 2),
        (base + 420, 2),
    ]
    assert b == [(base + 240, 0), (base + 300, 1), (base + 360, 1), (base + 420, 1)]
    assert (stats.series, stats.samples) == (2, len(a) + len(b))
    text = (tmp_path / "out.om").read_text()
    assert text.startswith("# HELP codex_prompts ") and "# TYPE codex_prompts counter\n" in text
    assert text.endswith("\n# EOF\n")


def test_events_after_end_and_without_time_are_skipped_and_reported(tmp_path: Path) -> None:
    base = 1_800_000_000
    undated = record_named("codex.user_prompt")
    undated["attributes"] = [a for a in undated["attributes"] if a["key"] != "event.timestamp"]
    undated.pop("observedTimeUnixNano", None)
    records = [prompt_at(base + 10, "a@x"), prompt_at(base + 61, "a@x"), undated]
    files = [write_jsonl(tmp_path / "in.jsonl", [request_of(records)])]
    _, outcomes, no_time, after_end = aggregate_files(files, STEP, base + 90, UserLabelRule(), 100, 100)
    assert (outcomes.counted, no_time, after_end) == (1, 1, 1)  # base+61 lands at base+120 > the end grid time


def test_histogram_family_lines(tmp_path: Path) -> None:
    base = 1_800_000_000
    tool = retimed(record_named("codex.tool_result"), base + 30)
    files = [write_jsonl(tmp_path / "in.jsonl", [request_of([tool])])]
    timeline, *_ = aggregate_files(files, STEP, None, UserLabelRule(), 100, 100)
    write_openmetrics(timeline, (base + 60) // STEP, tmp_path / "out.om")
    text = (tmp_path / "out.om").read_text()
    assert "# TYPE codex_tool_duration_seconds histogram\n" in text
    series = om_samples(tmp_path / "out.om")
    labels = 'model="gpt-5.1-codex",tool="exec_command"'
    assert series[f'codex_tool_duration_seconds_bucket{{{labels},le="0.25"}}'] == [(base, 0), (base + 60, 0)]
    assert series[f'codex_tool_duration_seconds_bucket{{{labels},le="0.5"}}'] == [(base, 0), (base + 60, 1)]
    assert series[f'codex_tool_duration_seconds_bucket{{{labels},le="+Inf"}}'] == [(base, 0), (base + 60, 1)]
    assert series[f"codex_tool_duration_seconds_sum{{{labels}}}"] == [(base, 0), (base + 60, 0.466)]
    assert series[f"codex_tool_duration_seconds_count{{{labels}}}"] == [(base, 0), (base + 60, 1)]


def test_duplicate_files_count_once_and_nothing_to_import_is_fine(tmp_path: Path) -> None:
    files = [write_jsonl(tmp_path / f"{n}.jsonl", [sample_request()]) for n in range(2)]
    _, outcomes, *_ = aggregate_files(files, STEP, None, UserLabelRule(), 100, 100)
    assert (outcomes.counted, outcomes.duplicate, outcomes.ignored) == (8, 8, 18)
    empty = write_jsonl(tmp_path / "empty.jsonl", [{"resourceLogs": []}])
    report = backfill([empty], tmp_path / "tsdb", STEP)
    assert (report.series, report.samples, report.start) == (0, 0, None)


# --- through promtool and Prometheus ------------------------------------------------------------------------


def fleet_records(
    base: int,
) -> tuple[list[dict], list[tuple[float, str]], list[tuple[float, int]], list[tuple[float, float]]]:
    """Re-timed copies of the real records over 3 hours: a from the start, b born mid-range.

    Returns the records and, for checking, (time, user) of prompts, (time, input tokens), (time, tool seconds).
    """
    rng = random.Random(7)
    prompts = [(base + rng.uniform(0, 3 * HOUR), "a@x") for _ in range(40)]
    prompts += [(base + rng.uniform(1.5 * HOUR, 3 * HOUR), "b@x") for _ in range(15)]
    prompts += [(base + 600, "a@x"), (base + 2 * HOUR, "b@x")]  # exactly on grid times
    tokens = [(base + rng.uniform(0, 3 * HOUR), rng.randint(100, 5000)) for _ in range(20)]
    tools = [(base + rng.uniform(0, 3 * HOUR), round(rng.uniform(0.01, 3), 3)) for _ in range(25)]
    records = [prompt_at(t, user) for t, user in prompts]
    sse = record_named("codex.sse_event", "response.completed", with_tokens=True)
    records += [retimed(sse, t, input_token_count=str(n), user__email="a@x") for t, n in tokens]
    tool = record_named("codex.tool_result")
    records += [retimed(tool, t, duration_ms=str(int(s * 1000))) for t, s in tools]
    rng.shuffle(records)  # files need not be in time order
    return records, prompts, tokens, tools


def summed(url: str, promql: str, at: float) -> float:
    """sum() of the query's series (0 when there are none yet)."""
    return sum(value for _, value in query(url, promql, at))


def in_window(times: list[float], start: float, end: float) -> int:
    return sum(1 for t in times if start < t <= end)


@contextmanager
def backfilled(
    backend: str, paths: list[Path], end: int, work: Path, capsys: pytest.CaptureFixture
) -> Iterator[tuple[str, int, str]]:
    """``codex-bot backfill`` of ``paths`` into a real Prometheus (``--tsdb``, then started over it) or a
    running VictoriaMetrics (``--to-url``); yields (query URL, exit status, printed summary)."""
    args = ["backfill", *map(str, paths), "--end", str(end)]
    if backend == "prometheus":
        status = codex_bot([*args, "--tsdb", str(work / "tsdb")])
        with prometheus(work / "tsdb", work) as url:
            yield url, status, capsys.readouterr().out
        return
    server = VictoriaMetricsServer(work / "vm", work, require_victoriametrics())
    url = server.start()
    try:
        status = codex_bot([*args, "--to-url", url])
        yield url, status, capsys.readouterr().out
    finally:
        server.stop()


@pytest.mark.parametrize("backend", ["prometheus", "victoriametrics"])
def test_increase_at_grid_times_equals_the_events_exactly(
    backend: str, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    # 2026-10-07T08:00Z: fixed so the test is the same every run, and in the past (VictoriaMetrics drops
    # samples more than two days ahead of its clock)
    base = 1_791_360_000
    records, prompts, tokens, tools = fleet_records(base)
    half = len(records) // 2
    paths = [
        write_jsonl(tmp_path / "one.jsonl", [request_of(records[:half])]),
        write_jsonl(tmp_path / "two.jsonl", [request_of(records[half:][:30]), request_of(records[half:][30:])]),
    ]
    end = base + 4 * HOUR
    with backfilled(backend, paths, end, tmp_path, capsys) as (url, status, out):
        assert status == 0
        first = min(t for t, _ in prompts + tokens + tools)
        start = datetime.fromtimestamp((math.ceil(first / STEP) - 1) * STEP, UTC).strftime("%H:%M")
        assert f"records   {len(records)} ({len(records)} counted, 0 ignored, 0 duplicates" in out
        assert f"from 2026-10-07T{start}:00Z to 2026-10-07T12:00:00Z" in out
        assert ("tsdb      " if backend == "prometheus" else f"sent to   {url}\n") in out
        assert not list(tmp_path.glob(".codex-bot-backfill-*")), "the intermediate OpenMetrics file is removed"
        for t in (base + 600, base + 5400 + 60, base + 2 * HOUR, base + 3 * HOUR, end):
            for window in (300, 1800, 3600, 3 * HOUR):
                promql = f"sum by (user) (increase(codex_prompts_total[{window}s]))"
                got = {labels["user"]: value for labels, value in query(url, promql, t)}
                expected = {}
                for user in ("a@x", "b@x"):
                    times = [p for p, u in prompts if u == user]
                    if t >= math.ceil(min(times) / STEP) * STEP:  # two samples in range once born (0, then the first)
                        expected[user] = in_window(times, t - window, t)
                assert got == expected, (t, window)
            tokens_in_hour = sum(n for s, n in tokens if t - HOUR < s <= t)
            assert summed(url, 'increase(codex_tokens_total{type="input"}[1h])', t) == tokens_in_hour
            tool_times = [s for s, _ in tools]
            assert summed(url, "increase(codex_tool_duration_seconds_count[3h])", t) == in_window(
                tool_times, t - 3 * HOUR, t
            )
            fast = [s for s, d in tools if d <= 0.5]
            assert summed(url, 'increase(codex_tool_duration_seconds_bucket{le="0.5"}[3h])', t) == in_window(
                fast, t - 3 * HOUR, t
            )
        # the raw counters at the end hold every event
        assert query(url, "sum(codex_prompts_total)", end)[0][1] == len(prompts)


def test_command_errors_are_one_clear_line(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    sample = str(SAMPLE_FILES[0])
    (tmp_path / "file").write_text("")
    cases = [
        (["--tsdb", str(tmp_path / "t"), str(tmp_path / "absent.json")], "cannot read"),
        (["--tsdb", str(tmp_path / "t"), "--promtool", "no-such-promtool", sample], "'no-such-promtool' not found"),
        (["--tsdb", str(tmp_path / "file"), sample], "File exists"),
        (["--tsdb", str(tmp_path / "t"), "--step", "0", sample], "--step must be a positive number"),
        (["--to-url", "127.0.0.1:8428", sample], "is not an http(s) URL"),
        (["--to-url", "http://127.0.0.1:9", sample], "cannot reach http://127.0.0.1:9/api/v1/import/prometheus"),
        (["--to-url", "http://127.0.0.1:9", "--end", "now+3d", sample], "more than 2 days ahead"),
    ]
    for args, message in cases:
        assert codex_bot(["backfill", *args]) == 1
        err = capsys.readouterr().err
        assert err.startswith("codex-bot backfill: ") and message in err and "Traceback" not in err, err


def test_to_url_of_a_server_without_the_import_api_is_one_clear_line(capsys: pytest.CaptureFixture) -> None:
    """A URL that is not VictoriaMetrics (here: codex-bot ingest itself) answers 404; said so, in one line."""
    with ingest_server() as server:
        assert codex_bot(["backfill", str(SAMPLE_FILES[0]), "--to-url", server.url]) == 1
    # the in-process ingest logs its refusal to the same stderr; the command's own answer is one line
    err = "".join(
        line
        for line in capsys.readouterr().err.splitlines(keepends=True)
        if "codex_bot.telemetry.ingest_server" not in line
    )
    assert err.startswith(f"codex-bot backfill: {server.url}/api/v1/import/prometheus answered HTTP 404")
    assert "Traceback" not in err and err.count("\n") == 1


def test_tsdb_and_to_url_are_one_or_the_other(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as exit_:
        codex_bot(["backfill", str(SAMPLE_FILES[0]), "--tsdb", str(tmp_path), "--to-url", "http://127.0.0.1:8428"])
    assert exit_.value.code == 2 and "not allowed with argument" in capsys.readouterr().err
