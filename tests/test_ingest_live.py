"""Live path end to end: events POSTed to ingest, scraped every second by a real Prometheus, read back with PromQL."""

from __future__ import annotations

import time
from pathlib import Path

import requests
from promhelpers import (
    ingest_server,
    post_samples,
    prometheus,
    query,
    record_named,
    request_of,
    retimed,
    scalar,
    to_json,
)


def wait_for(url: str, promql: str, expected: float, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while (got := scalar(url, promql)) != expected:
        assert time.monotonic() < deadline, f"{promql} = {got}, expected {expected}"
        time.sleep(0.25)


def test_events_read_back_through_a_scraping_prometheus(tmp_path: Path) -> None:
    with (
        ingest_server() as ingest,
        prometheus(tmp_path / "tsdb", tmp_path, scrape_target=ingest.url.removeprefix("http://")) as url,
    ):
        post_samples(ingest.url)

        wait_for(url, 'sum(codex_tool_decisions_total{decision="approved",source="config"})', 1)
        by_type = {labels["type"]: value for labels, value in query(url, "sum by (type) (codex_tokens_total)")}
        assert by_type == {"input": 2700, "cached_input": 2200, "output": 42, "reasoning_output": 14}
        assert scalar(url, 'sum(codex_model_calls_total{transport="http",success="true"})') == 2
        assert scalar(url, 'sum(codex_conversations_total{terminal="xterm"})') == 1
        assert scalar(url, "sum(codex_prompts_total)") == 1
        assert scalar(url, 'sum(codex_tool_calls_total{tool="exec_command",success="true"})') == 1
        assert scalar(url, "sum(codex_tool_duration_seconds_sum)") == 0.466
        assert scalar(url, 'sum(codex_tool_duration_seconds_bucket{le="0.5"})') == 1

        # zero-birth: Prometheus saw every series at 0 before its first increment, so increase() keeps it
        assert scalar(url, "max(min_over_time(codex_prompts_total[1m]))") == 0
        assert scalar(url, "max(min_over_time(codex_tool_duration_seconds_count[1m]))") == 0

        # a user appearing later gets a new series, also born at zero
        late = retimed(record_named("codex.user_prompt"), time.time(), user__email="late@corp.example")
        requests.post(
            f"{ingest.url}/v1/logs",
            data=to_json(request_of([late])),
            headers={"Content-Type": "application/json"},
            timeout=10,
        ).raise_for_status()
        wait_for(url, 'sum(codex_prompts_total{user="late@corp.example"})', 1)
        assert scalar(url, 'min_over_time(codex_prompts_total{user="late@corp.example"}[1m])') == 0
        assert scalar(url, 'increase(codex_prompts_total{user="late@corp.example"}[1m])') >= 1
