"""A multi-tenant Prometheus-compatible backend: a panel through a proxy that requires ``X-Scope-OrgID``.

The proxy forwards to the real fleet Prometheus only requests carrying the tenant header, as Mimir or
Cortex would.  With ``CODEX_BOT_PROMETHEUS_HEADERS`` set, ``codex-bot query`` gets the same answer as
straight from Prometheus; without it, one clear line.
"""

from __future__ import annotations

import json

import pytest
from fault_helpers import ForwardingProxy
from prometheus_fleet import Fleet

from codex_bot.cli import main as codex_bot
from codex_bot.metrics.client import PrometheusClient
from codex_bot.panels.cost import load_prices
from codex_bot.panels.request import parse_request
from codex_bot.panels.service import Panels
from codex_bot.settings import load_settings

pytestmark = pytest.mark.prometheus

TENANT = ("X-Scope-OrgID", "team-a")


def test_a_panel_through_a_tenant_checking_backend(fleet: Fleet, monkeypatch, capsys, tmp_path):
    monkeypatch.chdir(tmp_path)  # no stray .env
    at = fleet.align(fleet.end)
    model = min(fleet.truth.values("model"))
    words = ["tokens", "7d", f"model={model}"]  # a filter: the label-values lookup goes through the proxy too
    with ForwardingProxy(fleet.prometheus_url, require=TENANT) as proxy:
        monkeypatch.setenv("CODEX_BOT_PROMETHEUS_HEADERS", json.dumps(dict([TENANT])))
        assert codex_bot(["query", *words, "--at", at.isoformat(), "--json", "--prometheus", proxy.url]) == 0
        through_proxy = json.loads(capsys.readouterr().out)
        forwarded = proxy.seen

        monkeypatch.delenv("CODEX_BOT_PROMETHEUS_HEADERS")
        assert codex_bot(["query", *words, "--at", at.isoformat(), "--prometheus", proxy.url]) == 1
        refused = capsys.readouterr().err.strip()

    client = PrometheusClient(fleet.prometheus_url)
    direct = Panels(client, load_settings().tz, load_prices()).run(parse_request(words), at).to_json()
    client.close()
    assert through_proxy == json.loads(json.dumps(direct))
    assert through_proxy["figures"]["total"] > 0
    assert forwarded >= 5 and proxy.refused >= 1  # every query carried the header; the bare ones were refused
    assert refused == (
        f"codex-bot: Prometheus at {proxy.url} answered HTTP 401 to a query: check "
        "CODEX_BOT_PROMETHEUS_BEARER_TOKEN, _BASIC_AUTH or _HEADERS."
    )
