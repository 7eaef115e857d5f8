"""A tiny stand-in for Slack, enough for the bot to start and answer /codex: the Web API methods it calls
(auth.test, chat.*, conversations.open, the three steps of files_upload_v2), upload URLs and response_urls.
It records when each response_url answer arrives.  It also signs slash commands the way Slack does.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlencode, urlsplit

import requests

BOT_TOKEN = "xoxb-bench-bot-token"
SIGNING_SECRET = "bench-signing-secret"
TEAM_ID = "T0BENCH"


def _answer(method: str, form: dict[str, str], root: str, serial: int) -> dict[str, Any]:
    ts = f"1700000000.{serial:06d}"
    if method == "auth.test":
        return {"ok": True, "team_id": TEAM_ID, "user_id": "U0CODEXBOT", "bot_id": "B0CODEXBOT", "team": "Bench"}
    if method in ("chat.postMessage", "chat.update"):
        return {"ok": True, "channel": form.get("channel", "C0BENCH"), "ts": form.get("ts", ts)}
    if method == "chat.postEphemeral":
        return {"ok": True, "message_ts": ts}
    if method == "conversations.open":
        return {"ok": True, "channel": {"id": "D0BENCH"}}
    if method == "files.getUploadURLExternal":
        return {"ok": True, "file_id": f"F{serial:06d}", "upload_url": f"{root}/upload/F{serial:06d}"}
    if method == "files.completeUploadExternal":
        return {"ok": True, "files": [{"id": f["id"]} for f in json.loads(form.get("files", "[]"))]}
    return {"ok": False, "error": "unknown_method"}


class SlackStub:
    """Slack on 127.0.0.1: ``base_url`` for CODEX_BOT_SLACK_API_URL, ``response_url(key)`` for commands."""

    def __init__(self) -> None:
        self._arrived: dict[str, tuple[float, dict[str, Any]]] = {}
        self._changed = threading.Condition()
        self._serial = 0
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.root = f"http://127.0.0.1:{self.server.server_port}"
        self.base_url = self.root + "/api/"

    def __enter__(self) -> Self:
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def response_url(self, key: str) -> str:
        return f"{self.root}/respond/{key}"

    def wait_answer(self, key: str, timeout: float = 30.0) -> tuple[float, dict[str, Any]]:
        """When (``time.perf_counter``) the answer posted to ``response_url(key)`` arrived, and the answer."""
        with self._changed:
            if not self._changed.wait_for(lambda: key in self._arrived, timeout):
                raise TimeoutError(f"no answer at response_url {key} within {timeout:g} s")
            return self._arrived.pop(key)

    def _arrive(self, key: str, answer: dict[str, Any]) -> None:
        with self._changed:
            self._arrived[key] = (time.perf_counter(), answer)
            self._changed.notify_all()

    def _next(self) -> int:
        with self._changed:
            self._serial += 1
            return self._serial

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                url = urlsplit(self.path)
                if url.path.startswith("/respond/"):
                    stub._arrive(url.path.removeprefix("/respond/"), json.loads(body or b"{}"))
                    return self._reply(b"ok", "text/plain")
                if url.path.startswith("/upload/"):
                    return self._reply(b"OK", "text/plain")
                text = body.decode()
                form = {k: v[0] for k, v in parse_qs(url.query).items()}  # slack_sdk sends some arguments here
                form |= json.loads(text) if text.startswith("{") else {k: v[0] for k, v in parse_qs(text).items()}
                answer = _answer(url.path.removeprefix("/api/"), form, stub.root, stub._next())
                self._reply(json.dumps(answer).encode(), "application/json")

            def _reply(self, data: bytes, content_type: str) -> None:
                self.send_response(200)
                self.send_header("content-type", content_type)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler


def post_command(url: str, text: str, response_url: str, secret: str = SIGNING_SECRET) -> requests.Response:
    """POST ``/codex text`` to the app at ``url``, signed (v0) as Slack signs it."""
    body = urlencode(
        {
            "team_id": TEAM_ID,
            "channel_id": "C0BENCH",
            "channel_name": "bench",
            "user_id": "U0BENCH",
            "user_name": "bench",
            "command": "/codex",
            "text": text,
            "api_app_id": "A0CODEXBOT",
            "response_url": response_url,
            "trigger_id": "1.2.3",
        }
    )
    ts = str(int(time.time()))
    signature = "v0=" + hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    headers = {
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature,
        "Content-Type": "application/x-www-form-urlencoded",
    }
    return requests.post(url, data=body.encode(), headers=headers, timeout=30)
