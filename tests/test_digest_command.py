"""``/codex digest [NAME] [RANGE]`` end to end: a signed slash command to the served app, the real Prometheus
holding the fleet, the bundled chart renderer, the Slack emulator receiving the post, its charts and
the private confirmation; plus the word parsing on its own."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from chart_fixtures import chart_renderer  # noqa: F401 - fixture
from slack_emulator import ServedApp, SlackEmulator, blocks_of, build_bot

from codex_bot.bot import build_parts, digest_command_deps
from codex_bot.commands.digest_commands import (
    ON_DEMAND,
    parse_digest_words,
    register,
)
from codex_bot.delivery.console import blocks_to_text
from codex_bot.digests.definitions import DigestDefinition, DigestFile
from codex_bot.digests.service import load_definitions
from codex_bot.errors import UserError
from codex_bot.formatting import humanize
from codex_bot.settings import load_settings
from codex_bot.store import Store
from codex_bot.yamlfile import Problem

CHANNEL = "C0GENERAL"  # the emulator's slash commands come from here, channel name "general"


@pytest.fixture(scope="module")
def slack(fleet, chart_renderer, tmp_path_factory) -> Iterator[tuple[SlackEmulator, ServedApp]]:  # noqa: F811
    work = tmp_path_factory.mktemp("digest-command")
    settings = {
        "prometheus_url": fleet.prometheus_url,
        "quickchart_url": chart_renderer.base_url,
        "timezone": "UTC",
        "digests_file": work / "digests.yaml",
        "state_db": work / "state.sqlite",
        "personal_data_channels": ["general"],
    }
    (work / "digests.yaml").write_text(
        f"digests:\n  - name: daily\n    channel: '#eng'\n    schedule: '0 {fleet.end.hour} * * *'\n    charts: [usage]\n"
    )
    with SlackEmulator() as emulator:
        app, deps = build_bot(emulator, panels_only=True, **settings)
        at = fleet.align(fleet.end)
        deps.clock = lambda: at
        store = Store.open(work / "state.sqlite")
        configured = load_settings(**settings)
        digest_deps = digest_command_deps(build_parts(configured, deps.transport, store), load_definitions(configured))
        digest_deps.clock = lambda: at
        register(deps, digest_deps)
        served = ServedApp(app)
        yield emulator, served
        served.stop()
        store.close()


def ask(emulator: SlackEmulator, served: ServedApp, text: str, name: str):
    url = emulator.response_url(name)
    assert served.command(text, url).status_code == 200
    answers = emulator.wait_for(lambda: [c for c in emulator.calls_to("response_url") if c.path in url], timeout=30)
    assert answers, f"no answer to /codex {text}"
    return answers[0]


@pytest.mark.prometheus
def test_codex_digest_posts_in_the_channel_with_charts(fleet, slack):
    emulator, served = slack
    before = len(emulator.calls_to("chat.postMessage"))
    answer = ask(emulator, served, "digest 7d", "digest-7d")
    assert "Posted the digest here" in blocks_to_text(blocks_of(answer.body))
    posts = emulator.calls_to("chat.postMessage")[before:]
    assert len(posts) == 1 and posts[0].body["channel"] == CHANNEL
    text = blocks_to_text(blocks_of(posts[0].body))
    end = fleet.align(fleet.end)
    start = end - timedelta(days=7)
    assert f"Input tokens: {humanize(fleet.truth.total('input_tokens', start, end), 'tokens')}" in text
    assert f"Conversations: {humanize(fleet.truth.total('conversations', start, end), 'count')}" in text
    assert "Top users" in text  # the channel "general" may see per-user figures
    uploads = [c.body["filename"] for c in emulator.calls_to("files.getUploadURLExternal")]
    assert {"usage-7d.png", "p95-7d.png", "models-7d.png"} <= set(uploads)


@pytest.mark.prometheus
def test_codex_digest_by_name_covers_its_period(fleet, slack):
    emulator, served = slack
    before = len(emulator.calls_to("chat.postMessage"))
    ask(emulator, served, "digest daily", "digest-daily")
    (post,) = emulator.calls_to("chat.postMessage")[before:]
    end = fleet.align(fleet.end)
    start = end - timedelta(days=1)
    text = blocks_to_text(blocks_of(post.body))
    assert f"{start:%Y-%m-%d %H:%M} → {end:%Y-%m-%d %H:%M} UTC" in text
    assert f"Model calls: {humanize(fleet.truth.total('model_calls', start, end), 'count')}" in text


@pytest.mark.prometheus
def test_codex_digest_bad_words_get_the_usage_privately(slack):
    emulator, served = slack
    before = len(emulator.calls_to("chat.postMessage"))
    answer = ask(emulator, served, "digest fortnightly", "digest-bad")
    assert answer.body["response_type"] == "ephemeral"
    assert "digest [NAME] [RANGE]" in blocks_to_text(blocks_of(answer.body))
    assert len(emulator.calls_to("chat.postMessage")) == before


def test_digest_words():
    file = DigestFile(Path("digests.yaml"), [DigestDefinition(name="daily", channel="#eng", schedule="0 9 * * *")])
    named, text = parse_digest_words(["daily"], file, "UTC", "general")
    assert (named.name, text) == ("daily", None)
    assert parse_digest_words(["daily", "last", "week"], file, "UTC", "general")[1] == "last week"
    default, text = parse_digest_words([], file, "Europe/Berlin", "general")
    assert (default.name, default.timezone, text) == (ON_DEMAND, "Europe/Berlin", "24h")
    assert parse_digest_words(["7d"], file, "UTC", "general")[1] == "7d"
    with pytest.raises(UserError, match="Digests: daily"):
        parse_digest_words(["weekly"], file, "UTC", "general")


def test_with_a_broken_digests_file_named_digests_say_why_and_ranges_still_work():
    broken = DigestFile(
        Path("rules/digests.yaml"), problems=[Problem(Path("rules/digests.yaml"), 4, "unknown key 'chanel'")]
    )
    with pytest.raises(UserError) as refused:
        parse_digest_words(["daily"], broken, "UTC", "general")
    assert "rules/digests.yaml:4: unknown key 'chanel'" in str(refused.value)
    assert parse_digest_words(["7d"], broken, "UTC", "general")[1] == "7d"
