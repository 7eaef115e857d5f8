"""``CODEX_BOT_DASHBOARD_URL_TEMPLATE``: a link to the same window in another dashboard (SigNoz, Grafana, …).

The template names its placeholders in braces: ``{from}`` and ``{to}`` are the window's ends in Unix
milliseconds (what Grafana's and SigNoz's URLs take), ``{model}``, ``{user}``, ``{tool}`` and
``{terminal}`` the filter values (empty when not filtered).  Every value is URL-encoded.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

PLACEHOLDERS = ("from", "to", "model", "user", "tool", "terminal")
LINK_TEXT = "Open in dashboard"


def check_template(template: str) -> str:
    """``template`` if it is an http(s) URL whose placeholders are all known; ValueError naming the bad one."""
    if not template.startswith(("http://", "https://")):
        raise ValueError("the dashboard URL template must start with http:// or https://")
    try:
        names = [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]
    except ValueError as exc:
        raise ValueError(f"unbalanced braces in the dashboard URL template ({exc})") from None
    for name in names:
        if name not in PLACEHOLDERS:
            known = ", ".join("{" + p + "}" for p in PLACEHOLDERS)
            raise ValueError(f"unknown placeholder {{{name}}} in the dashboard URL template; known: {known}")
    return template


@dataclass(frozen=True)
class DashboardLink:
    template: str

    def url(self, start: datetime, end: datetime, filters: Mapping[str, str]) -> str:
        values = {"from": str(int(start.timestamp() * 1000)), "to": str(int(end.timestamp() * 1000))}
        values |= {key: filters.get(key, "") for key in PLACEHOLDERS[2:]}
        return self.template.format_map({key: quote(value, safe="") for key, value in values.items()})

    def mrkdwn(self, start: datetime, end: datetime, filters: Mapping[str, str]) -> str:
        """``<url|Open in dashboard>`` (``&`` escaped as Slack wants inside links)."""
        return f"<{self.url(start, end, filters).replace('&', '&amp;')}|{LINK_TEXT}>"


def dashboard_link(template: str | None) -> DashboardLink | None:
    return DashboardLink(template) if template else None
