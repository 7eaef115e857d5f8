"""``codex-bot serve``: start time and resident memory of the bot process.

Runs ``codex-bot serve --mode http`` as a process of its own, as deployed: the shared context's
Prometheus and chart renderer (bench/common.py), the Slack stand-in (bench/slack_stub.py, which
answers the auth.test the bot calls at start-up), a fresh state database, the repository's rules
and digests, and both schedulers running.

Start time: from spawning the process until its HTTP listener acks a signed ``/codex help`` —
Python start-up, imports, settings, auth.test, the Bolt app, the state database, the schedulers.
Median of --starts.  Memory: resident set (RSS) when it first answers, and after it has answered
--commands panel commands (with their charts) one after another, plus its peak (VmHWM).
No issue names a target for either.

    python bench/bench_bot.py [--starts 3] [--commands 30]
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import TextIO

import requests
from bench_slack import check_answer
from common import REPO, Context, Figure, memory_mb, run_alone, say
from slack_stub import BOT_TOKEN, SIGNING_SECRET, SlackStub, post_command

from codex_bot.demo.prometheus import free_port
from codex_bot.slack.serve import EVENTS_PATH

START_TIMEOUT = 60.0
COMMANDS = ("tokens 7d", "usage 7d", "models 7d", "p95 24h", "success 7d", "tools 30d", "cost 30d")


class ServeProcess:
    """One ``codex-bot serve --mode http`` on a free port, its output in a log file."""

    def __init__(self, ctx: Context, slack: SlackStub, work: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}{EVENTS_PATH}"
        self.log = work / f"serve-{self.port}.log"
        ours = ("SLACK_", "CODEX_BOT_")  # nothing inherited from the caller's configuration
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(ours)} | {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "CODEX_BOT_SLACK_API_URL": slack.base_url,
            "CODEX_BOT_PROMETHEUS_URL": ctx.prometheus_url,
            "CODEX_BOT_QUICKCHART_URL": ctx.renderer_url,
            "CODEX_BOT_STATE_DB": str(work / f"state-{self.port}.sqlite"),
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, slack: SlackStub) -> float:
        """Spawn it; seconds until it acks a signed ``/codex help``."""
        started = time.perf_counter()
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "codex_bot", "serve", "--mode", "http", "--listen", f"127.0.0.1:{self.port}"],
                cwd=REPO,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        while time.perf_counter() - started < START_TIMEOUT:
            if self.process.poll() is not None:
                raise RuntimeError(f"codex-bot serve exited {self.process.returncode}: {self.log.read_text()[-800:]}")
            try:
                acked = post_command(self.url, "help", slack.response_url(f"start-{self.port}")).status_code == 200
            except requests.ConnectionError:
                time.sleep(0.01)
                continue
            if acked:
                took = time.perf_counter() - started
                slack.wait_answer(f"start-{self.port}")  # its answer is not in flight when the bot is stopped
                return took
        raise RuntimeError(f"codex-bot serve did not answer within {START_TIMEOUT:g} s: {self.log.read_text()[-800:]}")

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(15)


def started(ctx: Context, slack: SlackStub, out: TextIO | None) -> tuple[ServeProcess, float]:
    """A running bot and the seconds it took to answer (the caller stops it)."""
    bot = ServeProcess(ctx, slack, ctx.workdir)
    try:
        seconds = bot.start(slack)
    except BaseException:
        bot.stop()
        raise
    say(out, f"started in {seconds:.2f} s, RSS {memory_mb(bot.pid):.0f} MB")
    return bot, seconds


def exercised(bot: ServeProcess, slack: SlackStub, commands: int) -> tuple[float, float]:
    """(RSS, peak RSS) in MB after ``commands`` panel commands, each answer awaited."""
    for i in range(commands):
        text = COMMANDS[i % len(COMMANDS)]
        post_command(bot.url, text, slack.response_url(f"rss{i}")).raise_for_status()
        check_answer(text, slack.wait_answer(f"rss{i}")[1])
    return memory_mb(bot.pid), memory_mb(bot.pid, "VmHWM")


def measure(ctx: Context, starts: int = 3, commands: int = 30, out: TextIO | None = None) -> list[Figure]:
    seconds: list[float] = []
    with SlackStub() as slack:
        for _ in range(starts - 1):
            bot, took = started(ctx, slack, out)
            bot.stop()
            seconds.append(took)
        bot, took = started(ctx, slack, out)
        try:
            seconds.append(took)
            fresh = memory_mb(bot.pid)
            busy, peak = exercised(bot, slack, commands)
        finally:
            bot.stop()
    start = statistics.median(seconds)
    say(out, f"RSS once answering {fresh:.0f} MB; after {commands} commands {busy:.0f} MB (peak {peak:.0f} MB)")
    return [
        Figure(
            "bot start: spawn → HTTP listener acks /codex",
            start,
            "s",
            None,
            f"`codex-bot serve --mode http`, schedulers on; median of {starts} "
            f"({min(seconds):.2f}–{max(seconds):.2f} s); no target named",
        ),
        Figure("bot RSS once answering", fresh, "MB", None, "no target named"),
        Figure(
            f"bot RSS after {commands} /codex commands",
            busy,
            "MB",
            None,
            f"peak {peak:.0f} MB; panels with charts, answered one after another; no target named",
        ),
    ]


if __name__ == "__main__":
    run_alone(__doc__, measure, starts=3, commands=30)
