"""Running the Bolt app: Socket Mode (outbound websocket) or HTTP mode (a WSGI server on HOST:PORT).

HTTP mode serves Bolt's WSGI adapter with a threaded ``wsgiref`` server bound to exactly the
address given (Bolt's own dev server binds every interface).  Slack posts to ``/slack/events``.
"""

from __future__ import annotations

import logging
from socketserver import ThreadingMixIn
from typing import Literal
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.adapter.wsgi import SlackRequestHandler

from codex_bot.settings import Settings
from codex_bot.slack.client import SlackSetupError

log = logging.getLogger(__name__)

Mode = Literal["socket", "http"]
EVENTS_PATH = "/slack/events"


def choose_mode(settings: Settings) -> Mode:
    """``CODEX_BOT_SLACK_MODE``; ``auto`` is Socket Mode when ``SLACK_APP_TOKEN`` is set, else HTTP."""
    if settings.slack_mode != "auto":
        return settings.slack_mode
    return "socket" if settings.slack_app_token else "http"


def _secret(value: object) -> str:
    return value.get_secret_value() if value is not None else ""  # type: ignore[attr-defined]


def mode_credential(settings: Settings, mode: Mode) -> str:
    """The app token (Socket Mode) or signing secret (HTTP); :class:`SlackSetupError` when missing."""
    if mode == "socket":
        token = _secret(settings.slack_app_token)
        if not token.startswith("xapp-"):
            raise SlackSetupError(
                "Socket Mode needs SLACK_APP_TOKEN: an app-level token (xapp-…) with the connections:write scope."
            )
        return token
    secret = _secret(settings.slack_signing_secret)
    if not secret:
        raise SlackSetupError(
            "HTTP mode needs SLACK_SIGNING_SECRET (Basic Information → App Credentials); "
            "or set SLACK_APP_TOKEN to use Socket Mode."
        )
    return secret


def parse_listen(text: str) -> tuple[str, int]:
    """``127.0.0.1:3000`` / ``[::1]:3000`` → (host, port); :class:`SlackSetupError` when malformed."""
    host, _, port = text.rpartition(":")
    host = host.strip("[]")
    if not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise SlackSetupError(f"--listen must be HOST:PORT, e.g. 127.0.0.1:3000 (got {text!r})")
    return host, int(port)


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        log.debug("%s - %s", self.address_string(), format % args)


def make_http_server(app: App, host: str, port: int) -> WSGIServer:
    """A threaded WSGI server for ``app`` on host:port (port 0 picks a free one); call serve_forever()."""
    return make_server(
        host,
        port,
        SlackRequestHandler(app, EVENTS_PATH),
        server_class=_ThreadingWSGIServer,
        handler_class=_QuietHandler,
    )


def socket_mode_handler(app: App, app_token: str) -> SocketModeHandler:
    """Bolt's built-in Socket Mode client (no extra dependency); ``connect()`` or ``start()`` it."""
    return SocketModeHandler(app, app_token=app_token)
