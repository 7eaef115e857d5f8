"""CODEX_BOT_DASHBOARD_URL_TEMPLATE: checked at start-up, URL-encoded values, shown on replies and digests.

(Alerts carry it too: see test_alert_followups.)
"""

from __future__ import annotations

import json
from zoneinfo import ZoneInfo

import pytest
from chart_fixtures import WEEK, every_panel
from test_digest_layout import digest

from codex_bot.dashboard import DashboardLink
from codex_bot.digests.layout import digest_messages
from codex_bot.settings import SettingsError, load_settings
from codex_bot.slack.replies import PanelReplies

TEMPLATE = "https://signoz.example/dashboard/codex?startTime={from}&endTime={to}&model={model}&user={user}"
FROM, TO = int(WEEK.start.timestamp() * 1000), int(WEEK.end.timestamp() * 1000)


def test_values_are_url_encoded_and_times_are_unix_milliseconds():
    url = DashboardLink(TEMPLATE).url(WEEK.start, WEEK.end, {"model": "gpt-5 codex&co", "user": "a@b.c"})
    assert url == (
        f"https://signoz.example/dashboard/codex?startTime={FROM}&endTime={TO}&model=gpt-5%20codex%26co&user=a%40b.c"
    )


@pytest.mark.parametrize(
    "template, reason",
    [
        ("https://grafana.example/d/x?from={start}", "unknown placeholder {start}"),
        ("grafana.example/d/x?from={from}", "must start with http:// or https://"),
        ("https://grafana.example/d/x?from={from", "unbalanced braces"),
    ],
)
def test_a_bad_template_is_refused_at_start_up(template: str, reason: str):
    with pytest.raises(SettingsError, match="CODEX_BOT_DASHBOARD_URL_TEMPLATE") as caught:
        load_settings(dashboard_url_template=template)
    assert reason in str(caught.value)


def test_a_panel_reply_links_its_window_and_filters():
    result = every_panel()["tokens"]
    result.filters = {"model": "gpt-5-codex"}
    replies = PanelReplies(ZoneInfo("UTC"), None, source="Prometheus at p:9090", dashboard=DashboardLink(TEMPLATE))
    context = next(b for b in replies.compose(result).blocks_json() if b["type"] == "context")
    link = f"<https://signoz.example/dashboard/codex?startTime={FROM}&amp;endTime={TO}&amp;model=gpt-5-codex&amp;user=|Open in dashboard>"
    assert context["elements"][0]["text"].endswith(link)
    plain = PanelReplies(ZoneInfo("UTC"), None, source="Prometheus at p:9090")
    assert "Open in dashboard" not in json.dumps(plain.compose(result).blocks_json())


def test_a_digest_links_its_period():
    messages = digest_messages(digest(2), source="Prometheus", dashboard=DashboardLink(TEMPLATE))
    line = messages.main.blocks_json()[1]["elements"][0]["text"]
    assert f"startTime={FROM}&amp;endTime={TO}&amp;model=&amp;user=|Open in dashboard>" in line
