"""Issue 13, faults 4, 6 and 7 (DM advice) for ``/codex digest`` (and public panel answers): a refusal is told
at once and truthfully, with what works in that kind of conversation; the digest's charts sit in its thread,
not in separate posts."""

from __future__ import annotations

import pytest
from chart_fixtures import chart_renderer  # noqa: F401 - fixture
from slack_emulator import blocks_of
from test_digest_command import ask, slack  # noqa: F401 - the served bot with Prometheus and the renderer

from codex_bot.delivery.console import blocks_to_text

pytestmark = pytest.mark.prometheus


def answer_text(emulator, served, text: str, name: str, **fields: str) -> str:
    url = emulator.response_url(name)
    assert served.command(text, url, **fields).status_code == 200
    answers = emulator.wait_for(lambda: [c for c in emulator.calls_to("response_url") if c.path in url], timeout=30)
    assert answers, f"no answer to /codex {text}"
    return blocks_to_text(blocks_of(answers[0].body))


def test_digest_in_a_dm_or_group_dm_says_what_works(slack):  # noqa: F811
    emulator, served = slack
    dm = emulator.add_channel("bob-carol", kind="im", member=False, user="U0CAROL")
    text = answer_text(emulator, served, "digest 7d", "dm", channel_id=dm.id)
    assert "couldn't post the digest here" in text and "direct message between other people" in text
    assert "my own DM" in text and "/invite" not in text and "retr" not in text
    group = emulator.add_channel("mpdm-alice--bob--carol-1", kind="mpim", member=False)
    text = answer_text(emulator, served, "digest 7d", "group-dm", channel_id=group.id, channel_name=group.name)
    assert "group DM" in text and "my own DM" in text and "/invite" not in text


def test_a_public_panel_answer_in_a_dm_between_people_says_what_works(slack):  # noqa: F811
    emulator, served = slack
    dm = emulator.add_channel("dave-erin", kind="im", member=False, user="U0ERIN")
    text = answer_text(emulator, served, "tokens 7d public", "panel-dm", channel_id=dm.id)
    assert "couldn't post the answer" in text and "direct message between other people" in text
    assert "/invite" not in text


def test_digest_in_a_private_channel_or_an_archived_one_is_refused_truthfully(slack):  # noqa: F811
    emulator, served = slack
    secret = emulator.add_channel("secret-project", kind="private", member=False)
    text = answer_text(emulator, served, "digest 7d", "private", channel_id=secret.id)
    assert "couldn't post the digest here" in text and "/invite @codex-bot" in text and "retr" not in text
    old = emulator.add_channel("old-team", archived=True)
    text = answer_text(emulator, served, "digest 7d", "archived", channel_id=old.id)
    assert "this channel is archived" in text and "retr" not in text


def test_digest_charts_are_in_its_thread(slack):  # noqa: F811
    emulator, served = slack
    before = len(emulator.calls_to("files.completeUploadExternal"))
    posts_before = len(emulator.calls_to("chat.postMessage"))
    ask(emulator, served, "digest 7d", "charts")
    posts = {
        (c.answer["channel"], c.answer["ts"])
        for c in emulator.calls_to("chat.postMessage")[posts_before:]
        if c.answer.get("ok") and not c.body.get("thread_ts")
    }
    completed = emulator.calls_to("files.completeUploadExternal")[before:]
    assert completed and {(c.body["channel_id"], c.body.get("thread_ts")) for c in completed} <= posts


def test_digest_slack_is_busy_says_it_will_be_retried(slack):  # noqa: F811
    emulator, served = slack
    emulator.server_error("chat.postMessage", times=10)  # last in this module: the failures outlast the test
    text = answer_text(emulator, served, "digest 7d", "busy")
    assert "I'll retry it shortly" in text
