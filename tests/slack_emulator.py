"""A local Slack for tests: the Web API, upload URLs, response_url and a Socket Mode websocket.

``SlackEmulator`` answers like Slack's Web API (``ok``/``error`` payloads, the three steps of
``files_upload_v2``, 429 with ``Retry-After`` on demand) and records every call it receives.
``SocketModeEndpoint`` is the websocket Slack would open for a Socket Mode app (aiohttp).
``signed_headers`` / ``slash_command_form`` build what Slack sends to an app in HTTP mode.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self
from urllib.parse import parse_qs, urlencode, urlparse

import requests
import yaml
from aiohttp import WSMsgType, web
from loopback import InThread
from slack_bolt import App

from codex_bot.bot import assemble, build_parts, panel_deps
from codex_bot.commands.deps import CommandDeps
from codex_bot.settings import load_settings
from codex_bot.slack.app import build_app
from codex_bot.slack.client import build_web_client
from codex_bot.slack.listeners import Services
from codex_bot.slack.serve import EVENTS_PATH, make_http_server
from codex_bot.slack.slack_transport import SlackTransport
from codex_bot.store import Store

BOT_TOKEN = "xoxb-emulated-bot-token"
APP_TOKEN = "xapp-1-emulated-app-token"
TEAM_ID = "T0EMULATE"
BOT_USER_ID = "U0CODEXBOT"
SIGNING_SECRET = "emulated-signing-secret"
MANIFEST = Path(__file__).resolve().parents[1] / "deploy" / "slack-manifest.yaml"
# The scope each emulated method needs (as Slack documents them); a missing one answers missing_scope.
NEEDED_SCOPES = {
    "chat.postMessage": "chat:write", "chat.postEphemeral": "chat:write", "chat.update": "chat:write",
    "conversations.open": "im:write", "files.getUploadURLExternal": "files:write",
    "files.completeUploadExternal": "files:write",
}


def manifest_scopes() -> frozenset[str]:
    """The bot scopes deploy/slack-manifest.yaml grants: what an installed codex-bot has."""
    return frozenset(yaml.safe_load(MANIFEST.read_text())["oauth_config"]["scopes"]["bot"])


@dataclass
class Call:
    """One request the emulator received; ``method`` is the API method, "upload" or "response_url"."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any  # dict for API calls and response_url posts, bytes for uploads
    status: int = 200
    answer: Any = None
    received: float = field(default_factory=time.perf_counter)  # when it arrived (perf_counter clock)


@dataclass
class _Failure:
    remaining: int
    status: int = 200
    error: str = ""
    retry_after: int = 0


class SlackEmulator:
    """Slack's Web API on 127.0.0.1 (base_url ends with ``/api/``); thread-safe; start/stop or use as context."""

    def __init__(self, ws_url: str | None = None, scopes: frozenset[str] | None = None) -> None:
        self.ws_url = ws_url
        self.scopes = manifest_scopes() if scopes is None else scopes
        self.calls: list[Call] = []
        self.uploads: dict[str, bytes] = {}
        self._failures: dict[str, list[_Failure]] = {}
        self._lock = threading.Lock()
        self._seq = 0
        self._pending_files: dict[str, dict[str, Any]] = {}
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.root = f"http://127.0.0.1:{self.port}"
        self.base_url = self.root + "/api/"
        self._running = InThread(self.server, "slack-emulator")

    # --- lifecycle ---
    def start(self) -> SlackEmulator:
        self._running.start()
        return self

    def stop(self) -> None:
        self._running.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- configuring failures ---
    def fail(self, method: str, error: str, times: int = 1) -> None:
        """The next ``times`` calls of ``method`` answer ``{"ok": false, "error": error}``."""
        self._queue(method, _Failure(times, 200, error))

    def rate_limit(self, method: str, times: int = 1, retry_after: int = 0) -> None:
        """The next ``times`` calls of ``method`` answer HTTP 429 with ``Retry-After``."""
        self._queue(method, _Failure(times, 429, "ratelimited", retry_after))

    def server_error(self, method: str, times: int = 1, status: int = 503) -> None:
        """The next ``times`` calls of ``method`` answer HTTP ``status`` (5xx)."""
        self._queue(method, _Failure(times, status, "internal_error"))

    def _queue(self, method: str, failure: _Failure) -> None:
        with self._lock:
            self._failures.setdefault(method, []).append(failure)

    def _take_failure(self, method: str) -> _Failure | None:
        with self._lock:
            queue = self._failures.get(method) or []
            while queue and queue[0].remaining <= 0:
                queue.pop(0)
            if not queue:
                return None
            queue[0].remaining -= 1
            return queue[0]

    # --- reading what happened ---
    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def response_url(self, name: str = "1") -> str:
        """A response_url for a slash-command payload; posts to it are recorded as "response_url"."""
        return f"{self.root}/commands/{TEAM_ID}/{name}/secret"

    def wait_for(self, predicate: Callable[[], Any], timeout: float = 10.0) -> Any:
        """Poll until ``predicate()`` is truthy (listeners answer after the ack, on another thread)."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value or time.monotonic() > deadline:
                return value
            time.sleep(0.01)

    def wait_calls(self, method: str, count: int = 1, timeout: float = 10.0) -> list[Call]:
        calls = self.wait_for(lambda: len(self.calls_to(method)) >= count and self.calls_to(method), timeout)
        assert calls, f"no {method} call within {timeout} s; got {[c.method for c in self.calls]}"
        return calls

    # --- answering ---
    def _next(self, prefix: str) -> str:
        with self._lock:
            self._seq += 1
            return f"{prefix}{self._seq:06d}"

    def _ts(self) -> str:
        return f"1700000000.{self._next('')}"

    def answer(self, method: str, body: dict[str, Any], auth: str) -> tuple[int, dict[str, Any], dict[str, str]]:
        failure = self._take_failure(method)
        if failure is not None:
            headers = {"Retry-After": str(failure.retry_after)} if failure.status == 429 else {}
            return failure.status, {"ok": False, "error": failure.error}, headers
        wanted = "Bearer xapp-" if method == "apps.connections.open" else "Bearer xoxb-"
        if not auth.startswith(wanted):
            return 200, {"ok": False, "error": "not_authed" if not auth else "invalid_auth"}, {}
        handler = _ANSWERS.get(method)
        if handler is None:
            return 200, {"ok": False, "error": "unknown_method"}, {}
        needed = NEEDED_SCOPES.get(method)
        if needed and needed not in self.scopes:
            return 200, {"ok": False, "error": "missing_scope", "needed": needed}, {}
        return 200, handler(self, body), {}


def _auth_test(emu: SlackEmulator, body: dict[str, Any]) -> dict[str, Any]:
    return {"ok": True, "url": "https://emulated.slack.test/", "team": "Emulated", "user": "codex-bot",
            "team_id": TEAM_ID, "user_id": BOT_USER_ID, "bot_id": "B0CODEXBOT"}


def _require(body: dict[str, Any], *names: str) -> dict[str, Any] | None:
    """Slack's error for the first missing argument (a message needs text or blocks)."""
    for name in names:
        if not body.get(name):
            return {"ok": False, "error": "channel_not_found" if name == "channel" else f"no_{name}"}
    return None


def _require_message(body: dict[str, Any], *names: str) -> dict[str, Any] | None:
    problem = _require(body, *names)
    if problem is None and not (body.get("text") or body.get("blocks")):
        return {"ok": False, "error": "no_text"}
    return problem


def _post_message(emu: SlackEmulator, body: dict[str, Any]) -> dict[str, Any]:
    problem = _require_message(body, "channel")
    if problem:
        return problem
    ts = emu._ts()
    return {"ok": True, "channel": body["channel"], "ts": ts,
            "message": {"text": body.get("text"), "ts": ts, "blocks": blocks_of(body)}}


def _post_ephemeral(emu: SlackEmulator, body: dict[str, Any]) -> dict[str, Any]:
    problem = _require_message(body, "channel", "user")
    if problem:
        return problem
    return {"ok": True, "message_ts": emu._ts()}


def _update(emu: SlackEmulator, body: dict[str, Any]) -> dict[str, Any]:
    problem = _require(body, "channel", "ts")
    return problem or {"ok": True, "channel": body["channel"], "ts": body["ts"], "text": body.get("text")}


def _conversations_open(emu: SlackEmulator, body: dict[str, Any]) -> dict[str, Any]:
    users = body.get("users")
    if not users:
        return {"ok": False, "error": "users_list_not_supplied"}
    return {"ok": True, "channel": {"id": "D" + str(users).split(",")[0].lstrip("U")}}


def _get_upload_url(emu: SlackEmulator, body: dict[str, Any]) -> dict[str, Any]:
    if not body.get("filename") or not str(body.get("length", "")).isdigit():
        return {"ok": False, "error": "invalid_arguments"}
    file_id = emu._next("F")
    with emu._lock:
        emu._pending_files[file_id] = {"filename": body["filename"], "length": int(body["length"])}
    return {"ok": True, "file_id": file_id, "upload_url": f"{emu.root}/upload/v1/{file_id}"}


def _complete_upload(emu: SlackEmulator, body: dict[str, Any]) -> dict[str, Any]:
    files = body.get("files")
    files = json.loads(files) if isinstance(files, str) else files or []
    done = []
    for item in files:
        with emu._lock:
            pending = emu._pending_files.get(item.get("id"))
            uploaded = emu.uploads.get(item.get("id"))
        if pending is None or uploaded is None:
            return {"ok": False, "error": "file_not_found"}
        done.append({"id": item["id"], "title": item.get("title"), "name": pending["filename"],
                     "size": len(uploaded), "channels": [body["channel_id"]] if body.get("channel_id") else []})
    return {"ok": True, "files": done}


def _connections_open(emu: SlackEmulator, body: dict[str, Any]) -> dict[str, Any]:
    if not emu.ws_url:
        return {"ok": False, "error": "socket_mode_not_enabled"}
    return {"ok": True, "url": emu.ws_url}


_ANSWERS: dict[str, Callable[[SlackEmulator, dict[str, Any]], dict[str, Any]]] = {
    "auth.test": _auth_test,
    "chat.postMessage": _post_message,
    "chat.postEphemeral": _post_ephemeral,
    "chat.update": _update,
    "conversations.open": _conversations_open,
    "files.getUploadURLExternal": _get_upload_url,
    "files.completeUploadExternal": _complete_upload,
    "apps.connections.open": _connections_open,
}


def blocks_of(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The blocks of a message call (JSON bodies carry a list, form bodies a JSON string)."""
    blocks = body.get("blocks") or []
    return json.loads(blocks) if isinstance(blocks, str) else blocks


def _decode(raw: bytes, content_type: str, query: str) -> dict[str, Any]:
    if raw.startswith(b"{") or "json" in content_type:
        return json.loads(raw or b"{}")
    return {k: v[0] for k, v in parse_qs(raw.decode() if raw else query).items()}


def _handler_for(emu: SlackEmulator) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def _reply(self, call: Call, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
            call.status, call.answer = status, body
            data = (json.dumps(body) if isinstance(body, dict) else str(body)).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json; charset=utf-8")
            self.send_header("content-length", str(len(data)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            self.do_POST()

        def do_POST(self) -> None:
            url = urlparse(self.path)
            raw = self.rfile.read(int(self.headers.get("content-length") or 0))
            headers = {k.lower(): v for k, v in self.headers.items()}
            if url.path.startswith("/upload/"):
                call = Call("upload", url.path, headers, raw)
            elif url.path.startswith("/commands/"):
                call = Call("response_url", url.path, headers, _decode(raw, headers.get("content-type", ""), url.query))
            else:
                call = Call(url.path.removeprefix("/api/"), url.path, headers,
                            _decode(raw, headers.get("content-type", ""), url.query))
            with emu._lock:
                emu.calls.append(call)
            if call.method == "upload":
                failure = emu._take_failure("upload")
                if failure is not None:
                    return self._reply(call, failure.status or 500, "upload failed")
                with emu._lock:
                    emu.uploads[url.path.rsplit("/", 1)[-1]] = raw
                return self._reply(call, 200, f"OK - {len(raw)}")
            if call.method == "response_url":
                failure = emu._take_failure("response_url")
                if failure is not None:
                    return self._reply(call, failure.status if failure.status != 200 else 404, failure.error)
                return self._reply(call, 200, "ok")
            status, answer, extra = emu.answer(call.method, call.body, headers.get("authorization", ""))
            self._reply(call, status, answer, extra)

    return Handler


# --- what Slack sends to an app in HTTP mode ---

def signed_headers(secret: str, body: str, timestamp: int | None = None) -> dict[str, str]:
    """Slack's request signature (v0) for ``body`` at ``timestamp`` (default now)."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": "v0=" + digest,
            "Content-Type": "application/x-www-form-urlencoded"}


def slash_command_payload(text: str, response_url: str, *, user_id: str = "U0ALICE",
                          channel_id: str = "C0GENERAL", command: str = "/codex") -> dict[str, str]:
    """The fields of a slash-command invocation, as Slack sends them."""
    return {
        "token": "legacy-verification-token", "team_id": TEAM_ID, "team_domain": "emulated",
        "channel_id": channel_id, "channel_name": "general", "user_id": user_id, "user_name": "alice",
        "command": command, "text": text, "api_app_id": "A0CODEXBOT", "is_enterprise_install": "false",
        "response_url": response_url, "trigger_id": "1.2.3",
    }


def slash_command_form(text: str, response_url: str, **fields: str) -> str:
    """A slash command as Slack POSTs it (application/x-www-form-urlencoded)."""
    return urlencode(slash_command_payload(text, response_url, **fields))


def build_bot(slack: SlackEmulator, *, panels_only: bool = False, **settings: object) -> tuple[App, CommandDeps]:
    """codex-bot's Bolt app and its dependencies, wired from settings like ``codex-bot serve`` does.

    ``panels_only`` leaves out the alert and digest sub-commands and buttons, for tests that
    register their own (with their own store, rules and clock).
    """
    settings.setdefault("state_db", Path(tempfile.mkdtemp(prefix="codex-bot-state-")) / "state.sqlite")
    configured = load_settings(slack_bot_token=BOT_TOKEN, slack_signing_secret=SIGNING_SECRET,
                               slack_api_url=slack.base_url, **settings)
    if panels_only:
        client = build_web_client(configured)
        deps = panel_deps(build_parts(configured, SlackTransport(client), Store.open(configured.state_db)))
        return build_app(client, Services(deps), signing_secret=SIGNING_SECRET), deps
    bot = assemble(configured, signing_secret=SIGNING_SECRET)
    return bot.app, bot.deps


class ServedApp:
    """A Bolt app served over real HTTP on 127.0.0.1 by codex-bot's WSGI server; Slack's side posts to it."""

    def __init__(self, app: App, signing_secret: str = SIGNING_SECRET) -> None:
        self.secret = signing_secret
        self.server = make_http_server(app, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self.server.server_port}{EVENTS_PATH}"
        self._running = InThread(self.server, "bolt-app").start()

    def command(self, text: str, response_url: str, *, secret: str | None = None, timestamp: int | None = None,
                **fields: str) -> requests.Response:
        """POST ``/codex text`` signed with ``secret`` (default: the right one) at ``timestamp`` (default now)."""
        body = slash_command_form(text, response_url, **fields)
        headers = signed_headers(secret or self.secret, body, timestamp)
        return requests.post(self.url, data=body.encode(), headers=headers, timeout=10)

    def stop(self) -> None:
        self._running.stop()


# --- Socket Mode ---

class SocketModeEndpoint:
    """The websocket Slack opens for Socket Mode apps: says hello, relays envelopes, records acks."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self._sockets: list[web.WebSocketResponse] = []
        self._loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.port = 0

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/link"

    def start(self) -> SocketModeEndpoint:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("socket mode endpoint did not start")
        return self

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def send(self, envelope: dict[str, Any]) -> None:
        """Deliver ``envelope`` to every connected app."""
        asyncio.run_coroutine_threadsafe(self._broadcast(envelope), self._loop).result(10)

    def connected(self) -> int:
        return len([ws for ws in self._sockets if not ws.closed])

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._serve())
        self._ready.set()
        self._loop.run_forever()

    async def _serve(self) -> None:
        app = web.Application()
        app.router.add_get("/link", self._link)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def _link(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.append(ws)
        await ws.send_str(json.dumps({"type": "hello", "num_connections": 1,
                                      "connection_info": {"app_id": "A0CODEXBOT"}}))
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                self.received.append(json.loads(msg.data))
        return ws

    async def _broadcast(self, envelope: dict[str, Any]) -> None:
        for ws in list(self._sockets):
            if not ws.closed:
                await ws.send_str(json.dumps(envelope))

    async def _shutdown(self) -> None:
        for ws in list(self._sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()
