"""``codex-bot demo``: the whole demo in-process (a smaller fleet), its printed figures against the simulation's
ground truth, the alert and digest it posts, its charts, and that nothing it started is left running.

The console run drives :func:`codex_bot.demo.script.run` directly (its report carries the simulated fleet, whose
ground truth the printed figures are checked against); the Slack run goes through ``codex-bot demo`` flags and a
local Slack emulator.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from prometheus_fleet import require_binaries
from slack_emulator import BOT_TOKEN, SlackEmulator

from codex_bot.cli import main as codex_bot
from codex_bot.delivery.console import ConsoleTransport
from codex_bot.delivery.message import Delivery, Destination, Message
from codex_bot.demo.script import BUSIEST_MODEL, ME_COMMAND, DemoOptions, DemoReport, demo_person, run
from codex_bot.metrics.ranges import parse_range
from codex_bot.settings import Settings, load_settings
from codex_bot.simulate.fleet import simulate
from codex_bot.simulate.truth import GroundTruth
from codex_bot.slack.blocks import cell
from codex_bot.store import MessageRef
from codex_bot.telemetry.labels import label_rule

pytestmark = pytest.mark.prometheus
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SMALL = {"developers": 25, "days": 8, "seed": 4242}  # a quarter of the default history: ~10 s


@dataclass(frozen=True)
class ConsoleRun:
    report: DemoReport
    text: str
    settings: Settings
    truth: GroundTruth


@pytest.fixture(scope="module")
def console_run(tmp_path_factory: pytest.TempPathFactory) -> ConsoleRun:
    require_binaries()
    out = tmp_path_factory.mktemp("demo-out")
    settings = load_settings()
    printed = io.StringIO()
    report = run(DemoOptions(out=out, **SMALL), settings, ConsoleTransport(out, out=printed), out=printed)
    assert report.fleet is not None
    truth = GroundTruth(simulate(report.fleet.config), label_rule(settings))
    return ConsoleRun(report, printed.getvalue(), settings, truth)


def message(text: str, command: str) -> str:
    """What the demo printed between ``$ /codex <command>`` and the next command or section."""
    start = text.index(f"$ /codex {command}\n")
    ends = [i for i in (text.find("\n$ /codex ", start + 1), text.find("\n━━ ", start + 1)) if i != -1]
    return text[start : min(ends)]


def table_row(printed: str, first: str) -> list[str]:
    """The cells of the table line starting with ``first``."""
    line = next(line for line in printed.splitlines() if re.match(rf"{re.escape(first)}\s", line))
    return re.split(r"\s{2,}", line.strip())


def test_models_table_equals_the_ground_truth(console_run: ConsoleRun) -> None:
    at = console_run.report.fleet.at  # type: ignore[union-attr]
    calls = console_run.truth.total("model_calls", at - timedelta(days=7), at, by=("model",))
    assert isinstance(calls, dict) and BUSIEST_MODEL in {model for (model,) in calls}
    printed = message(console_run.text, "models 7d")
    for (model,), count in calls.items():
        assert table_row(printed, model)[1] == cell(count, "count"), (model, count, printed)


def test_success_figures_equal_the_ground_truth(console_run: ConsoleRun) -> None:
    at = console_run.report.fleet.at  # type: ignore[union-attr]
    yesterday = parse_range("yesterday", at, console_run.settings.tz)
    requests = console_run.truth.total("model_calls", yesterday.start, yesterday.end)
    failed = console_run.truth.total("model_calls", yesterday.start, yesterday.end, {"success": "false"})
    printed = message(console_run.text, "success yesterday")
    assert f"Requests: {cell(requests, 'count')} " in printed
    assert f"Failed: {cell(failed, 'count')} " in printed


def test_the_home_view_and_codex_me_are_printed_with_the_ground_truth(console_run: ConsoleRun) -> None:
    fleet = console_run.report.fleet
    assert fleet is not None
    email, week = demo_person(fleet).email, (fleet.at - timedelta(days=7), fleet.at)
    text = console_run.text[console_run.text.index("━━ 4 · Your own numbers") :]
    me = message(text, ME_COMMAND)
    mine = console_run.truth.total("input_tokens", *week, where={"user": email})
    assert "Your Codex usage · 7d" in me and f"Tokens in: {cell(mine, 'tokens')} " in me and f"user={email}" in me
    home = text[text.index("── App Home of U0LEAD (views.publish) ──\nCodex usage · 7d") :]
    team = console_run.truth.total("input_tokens", *week)
    assert "[ Range: 7d ▾ ]" in home and f"Tokens in: {cell(team, 'tokens')} " in home
    assert "Your share of the team" in home and "Next digests" in home and "daily-eng" in home
    assert console_run.report.home is not None and console_run.report.home["type"] == "home"


def test_every_command_is_answered_and_the_typo_gets_a_suggestion(console_run: ConsoleRun) -> None:
    assert len(console_run.report.commands) == 8
    assert "There is no panel 'tokns'. Did you mean tokens" in message(console_run.text, "tokns 7d")
    assert "Traceback" not in console_run.text and "Something went wrong" not in console_run.text


def test_an_alert_fires_and_resolves_in_its_thread(console_run: ConsoleRun) -> None:
    fleet = console_run.report.fleet
    assert fleet is not None
    (episode,) = console_run.report.alerts
    assert episode.rule == "success-rate-drop" and episode.resolved_at is not None
    assert fleet.alert_incident.start < episode.fired_at < fleet.alert_incident.end < episode.resolved_at
    text = console_run.text
    firing = re.search(r"── message (\d+) → #codex-alerts ──\nFIRING · success-rate-drop", text)
    assert firing, text
    assert re.search(
        rf"── message \d+ edits #codex-alerts {firing.group(1)}\.000000 ──\nRESOLVED · success-rate-drop", text
    )
    assert f"→ #codex-alerts thread {firing.group(1)}.000000 ──\n:white_check_mark: Resolved after" in text


def test_the_daily_digest_is_posted_with_the_alert(console_run: ConsoleRun) -> None:
    digest = console_run.report.digest
    assert digest is not None and digest.startswith("Codex yesterday")
    posted = console_run.text[console_run.text.index("── message", console_run.text.index("━━ 3 ·")) :]
    assert posted.startswith("── message") and "→ #eng-codex ──\n" + digest in posted
    assert "Alerts fired (1)" in posted and "success-rate-drop" in posted


def test_charts_are_png_files(console_run: ConsoleRun) -> None:
    charts = console_run.report.charts
    names = [chart.name for chart in charts]
    assert any("success-rate-drop" in name for name in names) and any("usage-1d" in name for name in names)
    assert len(charts) >= 9
    for chart in charts:
        assert chart.read_bytes().startswith(PNG_SIGNATURE), chart
        assert f"→ {chart}]" in console_run.text


def test_nothing_it_started_is_left(console_run: ConsoleRun) -> None:
    report = console_run.report
    assert len(report.pids) == 2
    for pid in report.pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    assert report.workdir is not None and not report.workdir.exists()
    assert "working files removed" in console_run.text


def test_with_a_slack_token_the_demo_posts_to_its_channel(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    require_binaries()
    with SlackEmulator(channels=["demo"]) as slack:
        monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
        monkeypatch.setenv("CODEX_BOT_SLACK_API_URL", slack.base_url)
        monkeypatch.setenv("CODEX_BOT_DEMO_CHANNEL", "C0DEMO")
        status = codex_bot(
            ["demo", "--out", str(tmp_path / "out"), "--developers", "25", "--days", "7", "--seed", "4242"]
        )
        assert status == 0, capsys.readouterr()
        posts = slack.calls_to("chat.postMessage")
    assert {call.body["channel"] for call in posts} == {"C0DEMO"}
    assert not slack.calls_to("chat.postEphemeral")
    texts = [call.body.get("text", "") for call in posts]
    assert any("FIRING success-rate-drop" in text for text in texts)
    assert any(text.startswith("Codex yesterday") for text in texts)
    assert any(":white_check_mark: Resolved after" in text for text in texts)
    assert [call.body["channel"] for call in slack.calls_to("chat.update")] == ["C0DEMO"]
    assert slack.calls_to("files.completeUploadExternal")
    printed = capsys.readouterr().out
    assert "output    posted in Slack channel C0DEMO" in printed and not list((tmp_path / "out").glob("*.png"))


def child_processes() -> set[int]:
    """This process's children (every thread's), e.g. the session's own Prometheus too."""
    return {int(pid) for task in Path("/proc/self/task").glob("*/children") for pid in task.read_text().split()}


class Interrupting:
    """A transport where Ctrl-C strikes at the first message; notes the processes the demo runs at that moment."""

    def __init__(self) -> None:
        self.children: list[int] = []

    def send(self, message: Message, destination: Destination) -> Delivery:
        self.children = sorted(child_processes())
        raise KeyboardInterrupt

    def update(self, ref: MessageRef, message: Message) -> Delivery:
        raise KeyboardInterrupt


def test_ctrl_c_stops_what_it_started_and_removes_its_files(tmp_path: Path) -> None:
    require_binaries()
    folders = set(Path(tempfile.gettempdir()).glob("codex-bot-demo-*"))
    before = child_processes()  # other tests' services (the session's Prometheus, renderers) keep running
    interrupting = Interrupting()
    with pytest.raises(KeyboardInterrupt):
        run(DemoOptions(out=tmp_path, developers=3, days=7), load_settings(), interrupting, out=io.StringIO())
    started = set(interrupting.children) - before
    assert len(started) >= 2  # Prometheus and the chart renderer were running
    for pid in started:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    assert set(Path(tempfile.gettempdir()).glob("codex-bot-demo-*")) == folders


def test_sigterm_stops_what_it_started_too(tmp_path: Path) -> None:
    """``docker stop`` or ``kill`` mid-run: Prometheus and the renderer are stopped, the files removed."""
    require_binaries()
    folders = set(Path(tempfile.gettempdir()).glob("codex-bot-demo-*"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "CODEX_BOT_"))}
    demo = subprocess.Popen(
        [sys.executable, "-m", "codex_bot", "demo", "--developers", "3", "--days", "7", "--out", str(tmp_path)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline, started = time.monotonic() + 60, set()
    while len(started) < 2 and time.monotonic() < deadline and demo.poll() is None:
        started = {
            int(pid) for task in Path(f"/proc/{demo.pid}/task").glob("*/children") for pid in task.read_text().split()
        }
        time.sleep(0.05)
    assert len(started) >= 2, "Prometheus and the chart renderer never ran"
    demo.terminate()
    assert demo.wait(timeout=30) == 143, demo.stderr.read().decode() if demo.stderr else ""
    for pid in started:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    assert set(Path(tempfile.gettempdir()).glob("codex-bot-demo-*")) == folders


@pytest.mark.parametrize(
    "flags, complaint",
    [
        (["--days", "3"], "at least 7"),
        (["--developers", "0"], "at least 1"),
        (["--days", "many"], "not a number"),
    ],
)
def test_bad_flags_are_refused_with_a_reason(
    flags: list[str], complaint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        codex_bot(["demo", *flags])
    assert exit_.value.code == 2 and complaint in capsys.readouterr().err
