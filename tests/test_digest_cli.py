"""``codex-bot digest NAME --preview``: terminal text and chart PNGs from the real Prometheus and renderer;
``--json`` figures equal the fleet's ground truth; bad input gets a clear message and a non-zero exit."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from chart_fixtures import chart_renderer, read_png  # noqa: F401 - fixture

from codex_bot.cli import main
from codex_bot.formatting import humanize

DIGESTS = """\
digests:
  - name: daily
    title: Codex yesterday
    channel: "#eng-codex"
    schedule: "0 {hour} * * *"
    timezone: UTC
    charts: [usage, models]
"""


@pytest.fixture
def configured(fleet, chart_renderer, tmp_path, monkeypatch):  # noqa: F811
    path = tmp_path / "digests.yaml"
    path.write_text(DIGESTS.format(hour=fleet.end.hour))
    monkeypatch.setenv("CODEX_BOT_PROMETHEUS_URL", fleet.prometheus_url)
    monkeypatch.setenv("CODEX_BOT_QUICKCHART_URL", chart_renderer.base_url)
    monkeypatch.setenv("CODEX_BOT_DIGESTS_FILE", str(path))
    monkeypatch.setenv("CODEX_BOT_STATE_DB", str(tmp_path / "absent.sqlite"))
    monkeypatch.setenv("CODEX_BOT_PERSONAL_DATA_CHANNELS", "eng-codex")
    return path


@pytest.mark.prometheus
def test_preview_prints_the_digest_and_writes_its_charts(fleet, configured, tmp_path, capsys):
    end = fleet.align(fleet.end)
    out = tmp_path / "out"
    assert main(["digest", "daily", "--preview", "--out", str(out), "--at", end.isoformat()]) == 0
    text = capsys.readouterr().out
    start = end - timedelta(days=1)
    inputs = fleet.truth.total("input_tokens", start, end)
    assert "── message 1 → #eng-codex ──" in text
    form = "%a %d %b" if end.hour == end.minute == 0 else "%a %d %b %H:%M"  # whole days read without 00:00
    assert f"Codex yesterday · {start:{form}} → {end:{form}}" in text
    assert f"Input tokens: {humanize(inputs, 'tokens')}" in text
    assert "Top users" in text and "Alerts fired (0)" in text
    files = sorted(out.glob("daily/*.png"))
    assert [f.name for f in files] == ["001-models-1d.png", "001-usage-1d.png"]
    assert all(read_png(f.read_bytes()).width == 800 for f in files)
    assert not (tmp_path / "absent.sqlite").exists()  # a preview never creates the state database


@pytest.mark.prometheus
def test_preview_json_carries_the_figures(fleet, configured, tmp_path, capsys):
    end = fleet.align(fleet.end)
    assert (
        main(
            [
                "digest",
                "--preview",
                "--json",
                "--out",
                str(tmp_path),
                "--at",
                str(int(end.timestamp())),
                "--range",
                "7d",
            ]
        )
        == 0
    )
    (digest,) = json.loads(capsys.readouterr().out)
    start = end - timedelta(days=7)
    assert digest["range"]["start"] == start.isoformat() and digest["range"]["end"] == end.isoformat()
    figures = {h["label"]: h for h in digest["headline"]}
    assert figures["Conversations"]["value"] == fleet.truth.total("conversations", start, end)
    assert figures["Conversations"]["previous"] == fleet.truth.total("conversations", start - timedelta(days=7), start)
    assert figures["Model calls"]["value"] == fleet.truth.total("model_calls", start, end)
    assert [row["tool"] for row in digest["top"]["tools"]] == [
        k[0]
        for k, _ in sorted(
            fleet.truth.total("tool_calls", start, end, by=("tool",)).items(), key=lambda item: (-item[1], item[0])
        )
    ][:5]
    assert digest["messages"][0][0]["type"] == "header"
    assert all(Path(f).exists() for f in digest["chart_files"])


def test_unknown_digest_and_bad_files_are_explained(tmp_path, monkeypatch, capsys):
    path = tmp_path / "digests.yaml"
    path.write_text("digests:\n  - name: daily\n    channel: '#x'\n    schedule: '0 9 * *'\n")
    monkeypatch.setenv("CODEX_BOT_DIGESTS_FILE", str(path))
    assert main(["digest", "--preview"]) == 2
    assert f"{path}:4: schedule:" in capsys.readouterr().err
    path.write_text("digests:\n  - name: daily\n    channel: '#x'\n    schedule: '0 9 * * *'\n")
    assert main(["digest", "weekly", "--preview"]) == 2
    err = capsys.readouterr().err
    assert "no digest 'weekly'" in err and "digests: daily." in err
    assert main(["digest", "daily", "--preview", "--at", "yesterday-ish"]) == 2
    assert "RFC 3339" in capsys.readouterr().err


def test_prometheus_down_is_a_clear_message(tmp_path, monkeypatch, capsys):
    path = tmp_path / "digests.yaml"
    path.write_text("digests:\n  - name: daily\n    channel: '#x'\n    schedule: '0 9 * * *'\n")
    monkeypatch.setenv("CODEX_BOT_DIGESTS_FILE", str(path))
    monkeypatch.setenv("CODEX_BOT_PROMETHEUS_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("CODEX_BOT_PROMETHEUS_TIMEOUT", "2")
    assert main(["digest", "daily", "--preview", "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("codex-bot: ") and "Traceback" not in err
