"""The Prometheus client against real local HTTP(S) servers: auth headers, errors, timeouts, TLS."""

from __future__ import annotations

import json
import ssl
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest
from loopback import InThread
from prometheus_fleet import free_port

from codex_bot.errors import PrometheusUnavailable
from codex_bot.metrics.client import PrometheusClient, Sample
from codex_bot.settings import SettingsError, load_settings

AT = datetime(2025, 1, 31, 12, 0, tzinfo=UTC)
VECTOR = {
    "status": "success",
    "data": {
        "resultType": "vector",
        "result": [
            {"metric": {"model": "gpt-5-codex"}, "value": [1738324800, "42"]},
            {"metric": {"model": "o4-mini"}, "value": [1738324800, "NaN"]},
        ],
    },
}
Reply = Callable[[BaseHTTPRequestHandler], tuple[int, str, bytes]]


class FakePrometheus:
    """A real HTTP server that records requests and answers with ``reply``."""

    def __init__(self, reply: Reply, tls: ssl.SSLContext | None = None) -> None:
        self.requests: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                url = urlparse(self.path)
                outer.requests.append({"path": url.path, "query": parse_qs(url.query), "headers": dict(self.headers)})
                status, kind, body = reply(self)
                try:
                    self.send_response(status)
                    self.send_header("content-type", kind)
                    self.send_header("content-length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:  # the client gave up (timeout tests)
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        if tls:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        scheme = "https" if tls else "http"
        self.url = f"{scheme}://127.0.0.1:{self.server.server_address[1]}"
        self._running = InThread(self.server, "fake-prometheus").start()

    def close(self) -> None:
        self._running.stop()


def json_reply(status: int, body: dict) -> Reply:
    return lambda handler: (status, "application/json", json.dumps(body).encode())


@pytest.fixture
def serve() -> Iterator[Callable[..., FakePrometheus]]:
    servers: list[FakePrometheus] = []

    def start(reply: Reply, tls: ssl.SSLContext | None = None) -> FakePrometheus:
        servers.append(FakePrometheus(reply, tls))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def test_query_sends_auth_tenant_header_time_and_timeout(serve):
    fake = serve(json_reply(200, VECTOR))
    client = PrometheusClient(fake.url, timeout=7, bearer_token="s3cret", headers={"X-Scope-OrgID": "team-a"})
    samples = client.query("sum by (model) (x)", AT)
    assert samples[0] == Sample({"model": "gpt-5-codex"}, 42.0)
    assert samples[1].value != samples[1].value  # NaN comes through as NaN
    (request,) = fake.requests
    assert request["path"] == "/api/v1/query"
    # nocache=1: VictoriaMetrics answers with its newest 30 s too (Prometheus, Thanos, Mimir ignore it)
    assert request["query"] == {
        "query": ["sum by (model) (x)"],
        "time": [str(AT.timestamp())],
        "timeout": ["7s"],
        "nocache": ["1"],
    }
    assert request["headers"]["Authorization"] == "Bearer s3cret"
    assert request["headers"]["X-Scope-OrgID"] == "team-a"


def test_basic_auth_and_label_values_with_match(serve):
    fake = serve(json_reply(200, {"status": "success", "data": ["b", "a"]}))
    client = PrometheusClient(fake.url + "/", basic_auth=("ann", "pw:with:colons"))
    assert client.label_values("model", ["codex_tokens_total", "codex_model_calls_total"]) == ["a", "b"]
    (request,) = fake.requests
    assert request["path"] == "/api/v1/label/model/values"
    assert request["query"]["match[]"] == ["codex_tokens_total", "codex_model_calls_total"]
    assert request["headers"]["Authorization"] == "Basic YW5uOnB3OndpdGg6Y29sb25z"


def test_range_query_points_are_utc(serve):
    matrix = {
        "status": "success",
        "data": {
            "resultType": "matrix",
            "result": [{"metric": {}, "values": [[1738324800, "1"], [1738324860, "2.5"]]}],
        },
    }
    fake = serve(json_reply(200, matrix))
    (series,) = PrometheusClient(fake.url).query_range("x", AT, AT + timedelta(minutes=1), 60)
    assert series.points == ((AT, 1.0), (AT + timedelta(minutes=1), 2.5))
    assert fake.requests[0]["query"]["step"] == ["60s"]
    assert fake.requests[0]["query"]["nocache"] == ["1"]  # VictoriaMetrics keeps the steps where they were asked


def test_settings_build_the_client(serve, monkeypatch):
    fake = serve(json_reply(200, VECTOR))
    monkeypatch.setenv("CODEX_BOT_PROMETHEUS_BASIC_AUTH", "ann:pw")
    monkeypatch.setenv("CODEX_BOT_PROMETHEUS_HEADERS", '{"X-Scope-OrgID": "team-b"}')
    client = PrometheusClient.from_settings(load_settings(), url=fake.url)
    client.query("x", AT)
    headers = fake.requests[0]["headers"]
    assert headers["X-Scope-OrgID"] == "team-b" and headers["Authorization"].startswith("Basic ")


def test_basic_auth_setting_needs_a_colon(monkeypatch):
    monkeypatch.setenv("CODEX_BOT_PROMETHEUS_BASIC_AUTH", "no-colon")
    with pytest.raises(SettingsError, match="user:password"):
        PrometheusClient.from_settings(load_settings())


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (
            json_reply(400, {"status": "error", "errorType": "bad_data", "error": "parse error: unexpected }"}),
            "answered HTTP 400 to a query: parse error: unexpected }",
        ),
        (json_reply(503, {"status": "error", "error": "too many queries"}), "HTTP 503 to a query: too many queries"),
        (json_reply(401, {"status": "error", "error": "unauthorized"}), "CODEX_BOT_PROMETHEUS_BEARER_TOKEN"),
        (lambda h: (502, "text/html", b"<html>Bad gateway</html>"), "HTTP 502 to a query: <html>Bad gateway</html>"),
        (lambda h: (200, "text/html", b"<html>login page</html>"), "did not answer a query like a Prometheus API"),
    ],
)
def test_error_answers_become_one_clear_sentence(serve, reply, message):
    fake = serve(reply)
    with pytest.raises(PrometheusUnavailable) as raised:
        PrometheusClient(fake.url).query("x", AT)
    assert message in str(raised.value)
    assert fake.url in str(raised.value)


def test_slow_prometheus_times_out(serve):
    fake = serve(lambda h: (time.sleep(1.5), json_reply(200, VECTOR)(h))[1])
    with pytest.raises(PrometheusUnavailable, match=r"did not answer a query within 0\.3 s"):
        PrometheusClient(fake.url, timeout=0.3).query("x", AT)


def test_unreachable_prometheus():
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(PrometheusUnavailable, match=f"Cannot reach Prometheus at {url}: connection refused"):
        PrometheusClient(url).label_values("model")


def test_gather_runs_concurrently_and_times_out_as_a_whole(serve):
    fake = serve(lambda h: (time.sleep(0.4), json_reply(200, VECTOR)(h))[1])
    client = PrometheusClient(fake.url, timeout=5)
    answers = client.gather({n: (lambda: client.query("x", AT)) for n in range(6)})
    assert sorted(answers) == list(range(6)) and answers[0][0].value == 42.0
    with pytest.raises(PrometheusUnavailable, match=r"did not answer 2 of 2 queries within 0.1 s"):
        client.gather({"a": lambda: client.query("x", AT), "b": lambda: client.query("y", AT)}, timeout=0.1)


def test_every_worker_keeps_its_own_connection(serve, caplog):
    fake = serve(lambda h: (time.sleep(0.2), json_reply(200, VECTOR)(h))[1])
    client = PrometheusClient(fake.url, timeout=5, max_workers=16)
    with caplog.at_level("WARNING", logger="urllib3.connectionpool"):
        for _ in range(2):
            client.gather({n: (lambda: client.query("x", AT)) for n in range(16)})
    assert not [r for r in caplog.records if "pool is full" in r.getMessage()]


def test_gather_raises_the_first_failure(serve):
    fake = serve(json_reply(422, {"status": "error", "error": "bad step"}))
    client = PrometheusClient(fake.url)
    with pytest.raises(PrometheusUnavailable, match="bad step"):
        client.gather({"a": lambda: client.query_range("x", AT, AT, 60)})


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[str, str]:
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return str(cert), str(key)


def tls_context(certificate: tuple[str, str]) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    return context


def test_tls_verification_with_a_ca_bundle(serve, certificate):
    fake = serve(json_reply(200, VECTOR), tls=tls_context(certificate))
    with pytest.raises(PrometheusUnavailable, match="CODEX_BOT_PROMETHEUS_CA_BUNDLE"):
        PrometheusClient(fake.url).query("x", AT)
    assert PrometheusClient(fake.url, ca_bundle=certificate[0]).query("x", AT)[0].value == 42.0
    assert PrometheusClient(fake.url, verify_tls=False).query("x", AT)[0].value == 42.0
