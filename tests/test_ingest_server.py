"""The ingest HTTP server in-process on a free port: encodings, dedup, refusals, zero-birth, limits;
and the real ``codex-bot ingest`` command (settings, graceful SIGTERM)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from hashlib import sha256

import pytest
import requests
from codex_e2e.exposition import parse, total
from prometheus_fleet import free_port
from promhelpers import (
    SAMPLE_FILES,
    gzipped,
    ingest_server,
    record_named,
    request_of,
    retimed,
    sample_request,
    set_attribute,
    to_json,
    to_protobuf,
)

from codex_bot.telemetry.labels import UserLabelRule

JSON = {"Content-Type": "application/json"}
PROTOBUF = {"Content-Type": "application/x-protobuf"}
MODEL = "gpt-5.1-codex"
LIMIT = 64 * 1024


@pytest.fixture
def ingest() -> Iterator[str]:
    with ingest_server(max_body=LIMIT) as server:
        yield server.url


def scrape(url: str) -> list:
    reply = requests.get(f"{url}/metrics", timeout=10)
    assert reply.status_code == 200 and reply.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    return parse(reply.text)


def settled(url: str) -> list:
    """The exposition after pending first increments were released (a birth scrape, then this one)."""
    scrape(url)
    return scrape(url)


def records(samples: list, outcome: str) -> float:
    return total(samples, "codex_bot_ingest_records_total", outcome=outcome)


def requests_(samples: list, outcome: str) -> float:
    return total(samples, "codex_bot_ingest_requests_total", outcome=outcome)


def post(url: str, body: bytes, headers: dict[str, str], path: str = "/v1/logs") -> requests.Response:
    return requests.post(url + path, data=body, headers=headers, timeout=10)


def assert_real_run(samples: list) -> None:
    """The figures of the recorded `codex exec` run (001 + 005)."""
    assert {
        t: total(samples, "codex_tokens_total", type=t) for t in ("input", "cached_input", "output", "reasoning_output")
    } == {"input": 2700, "cached_input": 2200, "output": 42, "reasoning_output": 14}
    assert total(samples, "codex_model_calls_total", model=MODEL, transport="http", success="true") == 2
    assert total(samples, "codex_conversations_total", terminal="xterm", user="unknown") == 1
    assert total(samples, "codex_prompts_total") == 1
    assert total(samples, "codex_tool_calls_total", tool="exec_command", success="true") == 1
    assert total(samples, "codex_tool_duration_seconds_sum", tool="exec_command") == 0.466
    assert total(samples, "codex_tool_duration_seconds_bucket", le="0.5") == 1
    assert total(samples, "codex_tool_duration_seconds_bucket", le="0.25") == 0
    assert total(samples, "codex_tool_decisions_total", decision="approved", source="config") == 1


@pytest.mark.parametrize("encoding", ["json", "protobuf", "gzip-json", "gzip-protobuf"])
def test_real_run_counts_exactly_in_every_encoding(ingest: str, encoding: str) -> None:
    for path in SAMPLE_FILES:
        request = sample_request(path)
        body = to_json(request) if encoding.endswith("json") else to_protobuf(request)
        headers = dict(JSON if encoding.endswith("json") else PROTOBUF)
        if encoding.startswith("gzip"):
            body, headers["Content-Encoding"] = gzipped(body), "gzip"
        reply = post(ingest, body, headers)
        assert reply.status_code == 200
        assert reply.content == (b"{}" if encoding.endswith("json") else b"")
    samples = settled(ingest)
    assert_real_run(samples)
    assert (records(samples, "counted"), records(samples, "ignored")) == (8, 10)


def test_a_retried_export_is_counted_once_across_encodings(ingest: str) -> None:
    request = sample_request()
    for body, headers in ((to_json(request), JSON), (to_json(request), JSON), (to_protobuf(request), PROTOBUF)):
        assert post(ingest, body, headers).status_code == 200
    post(ingest, to_json(sample_request(SAMPLE_FILES[1])), JSON)
    samples = settled(ingest)
    assert_real_run(samples)
    assert records(samples, "duplicate") == 16


def test_zero_birth_across_scrapes(ingest: str) -> None:
    prompt = record_named("codex.user_prompt")
    assert post(ingest, to_json(request_of([retimed(prompt, 1e9)])), JSON).status_code == 200
    born = scrape(ingest)
    assert total(born, "codex_prompts_total") == 0  # exposed at 0 first ...
    assert total(scrape(ingest), "codex_prompts_total") == 1  # ... then the held increment shows
    post(ingest, to_json(request_of([retimed(prompt, 2e9)])), JSON)
    assert total(scrape(ingest), "codex_prompts_total") == 2  # an exposed series counts right away
    tool = record_named("codex.tool_result")
    post(ingest, to_json(request_of([retimed(tool, 3e9, user__email="new@x")])), JSON)
    first = scrape(ingest)
    assert total(first, "codex_prompts_total") == 2
    born_histogram = [s for s in first if s.name.startswith("codex_tool_duration_seconds")]
    assert len(born_histogram) == 34 + 2 and all(s.value == 0 for s in born_histogram)
    assert total(scrape(ingest), "codex_tool_duration_seconds_count") == 1


def test_malformed_body_is_refused_and_nothing_of_it_counted(ingest: str) -> None:
    good = retimed(record_named("codex.user_prompt"), 1e9)
    bad = retimed(record_named("codex.user_prompt"), 2e9)
    bad["attributes"].append({"key": "broken", "value": {"intValue": "twelve"}})
    reply = post(ingest, to_json(request_of([good, bad])), JSON)
    assert reply.status_code == 400
    assert "logRecords[1].attributes[" in reply.text and "intValue must be an integer" in reply.text
    for body, headers in (
        (b"\x00\xff garbage", PROTOBUF),
        (b"{", JSON),
        (b"junk", {**JSON, "Content-Encoding": "gzip"}),
    ):
        assert post(ingest, body, headers).status_code == 400
    samples = settled(ingest)
    assert total(samples, "codex_prompts_total") == 0 and records(samples, "counted") == 0
    assert requests_(samples, "malformed") == 4 and requests_(samples, "accepted") == 0


def test_oversized_and_unsupported_bodies(ingest: str) -> None:
    assert post(ingest, b"x" * (LIMIT + 1), JSON).status_code == 413
    bomb = post(ingest, gzipped(b" " * (LIMIT + 1)), {**JSON, "Content-Encoding": "gzip"})
    assert bomb.status_code == 413 and "decompressed" in bomb.text
    unsupported = post(ingest, b"hello", {"Content-Type": "text/plain"})
    assert unsupported.status_code == 415 and "application/x-protobuf or application/json" in unsupported.text
    assert post(ingest, b"{}", {**JSON, "Content-Encoding": "br"}).status_code == 415
    samples = scrape(ingest)
    assert (requests_(samples, "too_large"), requests_(samples, "unsupported")) == (2, 2)


def test_other_signals_health_and_unknown_paths(ingest: str) -> None:
    metrics = post(ingest, b"\x0a\x00", PROTOBUF, "/v1/metrics")
    assert metrics.status_code == 200 and metrics.headers["Content-Type"] == "application/x-protobuf"
    assert post(ingest, b"{}", JSON, "/v1/traces").json() == {}
    assert requests.get(f"{ingest}/-/healthy", timeout=5).text == "OK\n"
    assert post(ingest, b"{}", JSON, "/v1/nothing").status_code == 404
    assert requests.get(f"{ingest}/nothing", timeout=5).status_code == 404
    samples = scrape(ingest)
    assert (requests_(samples, "ignored_signal"), requests_(samples, "not_found")) == (2, 1)


def test_chunked_upload(ingest: str) -> None:
    body = to_protobuf(sample_request())
    reply = requests.post(f"{ingest}/v1/logs", data=iter([body[:1000], body[1000:]]), headers=PROTOBUF, timeout=10)
    assert reply.status_code == 200
    assert total(settled(ingest), "codex_model_calls_total") == 2


def test_series_cap_drops_new_series_and_says_so() -> None:
    with ingest_server(max_series=5) as server:
        post(server.url, to_json(sample_request()), JSON)  # 10 series in order of first sight, only 5 fit:
        samples = settled(server.url)  # conversations, prompts, model calls, tokens input and cached_input
        assert total(samples, "codex_bot_ingest_series") == 5
        assert total(samples, "codex_tokens_total") == 2700 + 2200
        # refused increments: output + reasoning twice, the decision, the tool call and its duration
        assert total(samples, "codex_bot_ingest_series_refused_total") == 2 * 2 + 1 + 2


@pytest.mark.parametrize(
    ("rule", "user"),
    [
        (UserLabelRule("email"), "alice@corp.example"),
        (UserLabelRule("account_id"), "acct-7"),
        (UserLabelRule("hash", "s3cret"), sha256(b"s3cretalice@corp.example").hexdigest()[:16]),
        (UserLabelRule("none"), "all"),
    ],
)
def test_user_label_modes(rule: UserLabelRule, user: str) -> None:
    with ingest_server(rule) as server:
        prompt = set_attribute(retimed(record_named("codex.user_prompt"), 1e9), "user.account_id", "acct-7")
        post(server.url, to_json(request_of([prompt], resource={"user.email": "alice@corp.example"})), JSON)
        samples = settled(server.url)
        assert [s.labels["user"] for s in samples if s.name == "codex_prompts_total"] == [user]


def test_exposition_passes_promtool_check(ingest: str) -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.fail("promtool is required (Debian package 'prometheus')")
    post(ingest, to_json(sample_request()), JSON)
    for _ in range(2):
        text = requests.get(f"{ingest}/metrics", timeout=5).text
        check = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True)
        assert check.returncode == 0, check.stdout + check.stderr


def test_command_reads_settings_and_stops_on_sigterm(tmp_path) -> None:
    """`codex-bot ingest` with a .env choosing the user label; SIGTERM → clean exit 0."""
    (tmp_path / ".env").write_text("CODEX_BOT_USER_LABEL=none\n")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CODEX_BOT_")}
    log = tmp_path / "ingest.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "codex_bot", "ingest", "--listen", f"127.0.0.1:{port}"],
            cwd=tmp_path,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_healthy(url, process)
        post(url, to_json(request_of([retimed(record_named("codex.user_prompt"), 1e9)])), JSON)
        assert [s.labels["user"] for s in settled(url) if s.name == "codex_prompts_total"] == ["all"]
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert "stopped" in log.read_text()


def test_command_refuses_a_bad_listen_address() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "codex_bot", "ingest", "--listen", "localhost"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2 and "bad listen address 'localhost': use HOST:PORT" in done.stderr


def _wait_healthy(url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if requests.get(f"{url}/-/healthy", timeout=1).status_code == 200:
                return
        except requests.ConnectionError:
            time.sleep(0.05)
    raise AssertionError(f"ingest did not start (exit {process.poll()})")


def test_many_exports_arriving_at_once_are_all_accepted_without_delay():
    """The listen backlog holds a burst of simultaneous connections (Python's default is 5)."""
    with ingest_server() as server:
        started = time.monotonic()
        sockets = [socket.create_connection(server.server_address[:2], timeout=5) for _ in range(40)]
        elapsed = time.monotonic() - started
        for s in sockets:
            s.close()
    assert elapsed < 0.9, f"connections waited for SYN retries ({elapsed:.2f} s)"


def test_a_client_hanging_up_before_its_answer_leaves_no_traceback(capsys, caplog):
    with ingest_server(max_body=LIMIT) as server:
        for _ in range(20):
            with socket.create_connection(server.server_address[:2], timeout=5) as client:
                client.sendall(
                    b"POST /v1/logs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    b"Content-Length: 10000000\r\n\r\n" + b"{" * 4096
                )
                client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        assert requests.get(f"{server.url}/-/healthy", timeout=5).status_code == 200
    assert "Traceback" not in capsys.readouterr().err
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


def test_every_live_series_carries_its_ingest_boot():
    """One ``ingest_boot`` per ingest: a restarted one starts new series instead of resetting them."""
    boots = []
    for _ in range(2):
        with ingest_server() as server:
            post(server.url, to_protobuf(sample_request(SAMPLE_FILES[0])), PROTOBUF).raise_for_status()
            codex = [
                s for s in settled(server.url) if s.name.startswith("codex_") and not s.name.startswith("codex_bot_")
            ]
            assert codex and {s.labels.get("ingest_boot") for s in codex} == {codex[0].labels["ingest_boot"]}
            boots.append(int(codex[0].labels["ingest_boot"]))
        time.sleep(0.002)  # boots are Unix milliseconds; two processes never start within one
    assert boots[0] < boots[1] <= time.time() * 1000
