"""Live figures are exact and fresh: the real Codex CLI exports to a live ``codex-bot ingest``, a real
Prometheus scrapes it every second, and ``codex-bot query … --json`` answers with exactly what the fake
model API served, asked (a) seconds after the runs, (c) after an ingest restart between runs and
(b) after a minute boundary.  (``increase()`` said 0 in the same minute and up to 18 % too much after it.)
The three tests run in this order on one live setup: each adds runs to what the one before left.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from codex_e2e.codex_cli import cached_codex, config_toml, run_exec
from codex_e2e.fake_responses_api import FakeResponsesAPI
from codex_e2e.ingest_process import free_port, running_ingest
from promhelpers import prometheus, scalar
from promhelpers import query as raw_query

from codex_bot.cli import main

pytestmark = pytest.mark.codex


@dataclass
class Live:
    """A fake model API, a live ingest on a fixed port (restartable) and a Prometheus scraping it every second."""

    codex: Path
    work: Path
    fake: FakeResponsesAPI
    prometheus_url: str
    port: int
    ingest: ExitStack = field(default_factory=ExitStack)
    runs: int = 0
    first_run_at: float = 0.0  # Unix time before the first run: no series existed before it

    def start_ingest(self) -> None:
        self.ingest.enter_context(running_ingest(self.work / "ingest", self.port))

    def restart_ingest(self) -> None:
        self.ingest.close()
        self.ingest = ExitStack()
        self.start_ingest()

    def run_codex(self) -> None:
        self.runs += 1
        self.first_run_at = self.first_run_at or time.time()
        home, cwd = self.work / f"home-{self.runs}", self.work / f"cwd-{self.runs}"
        home.mkdir()
        cwd.mkdir()
        (home / "config.toml").write_text(config_toml(self.fake.base_url, f"http://127.0.0.1:{self.port}", "binary"))
        run = run_exec(self.codex, home, cwd, self.fake.proxy_url, "say hi")
        assert run.returncode == 0, f"codex exec failed:\n{run.stdout}\n{run.stderr}"

    def wait_scraped(self, model_calls_now: int) -> None:
        """Until Prometheus has scraped the running ingest's latest counts (raw PromQL, not the code under test)."""
        deadline = time.monotonic() + 30
        while scalar(self.prometheus_url, "sum(codex_model_calls_total)") != model_calls_now:
            assert time.monotonic() < deadline, "Prometheus never scraped the runs' model calls"
            time.sleep(0.2)


@pytest.fixture(scope="module")
def live(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    codex = cached_codex(request.config, tmp_path_factory)
    work = tmp_path_factory.mktemp("live-exact")
    port = free_port()
    with ExitStack() as stack:
        fake = stack.enter_context(FakeResponsesAPI())
        setup = Live(codex, work, fake, "", port)
        setup.start_ingest()
        stack.callback(lambda: setup.ingest.close())
        setup.prometheus_url = stack.enter_context(prometheus(work / "tsdb", work, scrape_target=f"127.0.0.1:{port}"))
        yield setup


def served_counts(fake: FakeResponsesAPI) -> dict[str, float]:
    """Every figure the bot should show, from what the fake served (one conversation per exec)."""
    served = fake.served
    calls = [s.tool_call for s in served if s.tool_call]
    return {
        "input": sum(s.usage.input_tokens for s in served),
        "cached_input": sum(s.usage.cached_tokens for s in served),
        "output": sum(s.usage.output_tokens for s in served),
        "model_calls": len(served),
        "conversations": sum(1 for s in served if s.message is not None),
        "tool_calls": len(calls),
    }


def query(capsys: pytest.CaptureFixture[str], url: str, panel: str, range_text: str = "1h") -> dict:
    code = main(["query", panel, range_text, "--json", "--prometheus", url])
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)


def bot_counts(capsys: pytest.CaptureFixture[str], url: str) -> dict[str, float]:
    """The same figures through ``codex-bot query PANEL 1h --json``."""
    tokens, cached = query(capsys, url, "tokens")["figures"], query(capsys, url, "cached")["figures"]
    sessions = query(capsys, url, "sessions")["figures"]
    tools = query(capsys, url, "tools")["rows"]
    assert {row["tool"] for row in tools} == {"exec_command"}, tools
    cache_rate = query(capsys, url, "cache-rate")["figures"]["cache_rate_pct"]
    assert cache_rate == pytest.approx(100 * cached["cached_input"] / tokens["input"], rel=1e-12)
    return {
        "input": tokens["input"],
        "cached_input": cached["cached_input"],
        "output": tokens["output"],
        "model_calls": sessions["model_calls"],
        "conversations": sessions["conversations"],
        "tool_calls": sum(row["calls"] for row in tools),
    }


def test_seconds_after_the_runs(live: Live, capsys: pytest.CaptureFixture[str]) -> None:
    live.run_codex()
    live.run_codex()
    live.wait_scraped(len(live.fake.served))
    expected = served_counts(live.fake)
    assert expected["conversations"] == 2 and expected["tool_calls"] == 2
    assert bot_counts(capsys, live.prometheus_url) == expected


def test_after_an_ingest_restart_between_runs(live: Live, capsys: pytest.CaptureFixture[str]) -> None:
    before = len(live.fake.served)
    live.restart_ingest()  # a new ingest_boot: new series born at 0, the old ones keep their counts
    live.run_codex()
    live.wait_scraped(len(live.fake.served) - before)  # the restarted ingest only holds run 3
    expected = served_counts(live.fake)
    assert expected["conversations"] == 3
    assert bot_counts(capsys, live.prometheus_url) == expected
    boots = {labels["ingest_boot"] for labels, _ in _series(live.prometheus_url, "codex_model_calls_total")}
    assert len(boots) == 2


def test_across_a_minute_boundary(live: Live, capsys: pytest.CaptureFixture[str]) -> None:
    boundary = (int(live.first_run_at) // 60 + 1) * 60  # the series were born after first_run_at
    time.sleep(max(0.0, boundary + 2 - time.time()))  # "a few seconds after the next minute boundary"
    assert bot_counts(capsys, live.prometheus_url) == served_counts(live.fake)


def _series(url: str, promql: str) -> list[tuple[dict[str, str], float]]:
    return raw_query(url, f"last_over_time({promql}[1h])")
