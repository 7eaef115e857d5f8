"""Logging is configured once at the CLI entry: CODEX_BOT_LOG_LEVEL and CODEX_BOT_LOG_FORMAT=json (one object a line)."""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests
from prometheus_fleet import free_port

from codex_bot.cli import main
from codex_bot.log_config import logging_configured

KEYS = ["time", "level", "logger", "message", "exception"]
SALT_WARNING = "CODEX_BOT_USER_HASH_SALT is empty: hashed users can be matched to known e-mails"


def run_ingest(tmp_path: Path, **settings: str) -> tuple[int, str]:
    """`codex-bot ingest` with only these settings (hash user label, no salt: one warning), until SIGTERM."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CODEX_BOT_")}
    env.update(CODEX_BOT_USER_LABEL="hash", **settings)
    process = subprocess.Popen(
        [sys.executable, "-m", "codex_bot", "ingest", "--listen", f"127.0.0.1:{port}"],
        cwd=tmp_path,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if requests.get(f"http://127.0.0.1:{port}/-/healthy", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                time.sleep(0.05)
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    return process.returncode, stderr


def test_json_format_writes_one_object_per_line(tmp_path):
    code, stderr = run_ingest(tmp_path, CODEX_BOT_LOG_FORMAT="json")
    assert code == 0
    records = [json.loads(line) for line in stderr.splitlines()]
    assert [list(r) for r in records] == [KEYS] * len(records)
    assert [(r["level"], r["logger"]) for r in records] == [("WARNING", "codex_bot.ingest")] + [
        ("INFO", "codex_bot.ingest")
    ] * 2
    assert records[0]["message"] == SALT_WARNING
    assert re.fullmatch(
        r"listening on http://127\.0\.0\.1:\d+ \(POST /v1/logs, GET /metrics\); user label: hash", records[1]["message"]
    )
    assert records[2]["message"] == "stopped"
    assert all(r["exception"] is None for r in records)
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", r["time"]) for r in records)


def test_log_level_leaves_out_lower_records_and_text_is_the_default(tmp_path):
    code, stderr = run_ingest(tmp_path, CODEX_BOT_LOG_LEVEL="warning")
    assert code == 0
    (line,) = stderr.splitlines()
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} WARNING codex_bot\.ingest: " + re.escape(SALT_WARNING), line
    )


def test_an_exception_is_one_json_line_with_its_traceback(capsys):
    log = logging.getLogger("codex_bot.test")
    with logging_configured("INFO", "json"):
        try:
            {}["missing"]
        except KeyError:
            log.exception("lookup failed for %s", "missing")
        log.debug("not shown")
    log.error("after the block: not ours to show")
    (line,) = capsys.readouterr().err.splitlines()
    record = json.loads(line)
    assert (record["level"], record["logger"], record["message"]) == (
        "ERROR",
        "codex_bot.test",
        "lookup failed for missing",
    )
    assert record["exception"].startswith("Traceback (most recent call last):")
    assert record["exception"].endswith("KeyError: 'missing'")


def test_one_shot_commands_show_our_warnings_and_only_libraries_errors(capsys):
    with logging_configured("WARNING", "text", libraries="ERROR"):
        logging.getLogger("urllib3.connectionpool").warning("Retrying (Retry(total=0))")
        logging.getLogger("codex_bot.digests.service").warning("digest file has problems")
        logging.getLogger("slack_bolt.App").error("listener failed")
    lines = capsys.readouterr().err.splitlines()
    assert [line.split(" ", 2)[2] for line in lines] == [
        "WARNING codex_bot.digests.service: digest file has problems",
        "ERROR slack_bolt.App: listener failed",
    ]


def test_logging_set_up_is_undone_after_the_command():
    root, ours = logging.getLogger(), logging.getLogger("codex_bot")
    before = (root.level, ours.level, list(root.handlers))
    with logging_configured("DEBUG", "json", libraries="ERROR"):
        assert (root.level, ours.level) == (logging.ERROR, logging.DEBUG)
        assert len(root.handlers) == len(before[2]) + 1
    assert (root.level, ours.level, list(root.handlers)) == before


def test_a_bad_log_setting_names_its_variable(monkeypatch, capsys, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CODEX_BOT_LOG_LEVEL", "loud")
    assert main(["rules", "check"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("codex-bot: bad setting: CODEX_BOT_LOG_LEVEL: ") and "'LOUD'" in err
    monkeypatch.setenv("CODEX_BOT_LOG_LEVEL", "info")
    monkeypatch.setenv("CODEX_BOT_LOG_FORMAT", "xml")
    assert main(["rules", "check"]) == 2
    assert "CODEX_BOT_LOG_FORMAT: Input should be 'text' or 'json'" in capsys.readouterr().err
