"""A local Slack for tests: the Web API, upload URLs, response_url and a Socket Mode websocket.

``SlackEmulator`` answers like Slack's Web API (``ok``/``error`` payloads, the three steps of
``files_upload_v2``, 429 with ``Retry-After`` on demand) and records every call it receives.  It is
strict the way Slack is:

- every ``blocks`` payload is checked against Block Kit's rules and limits (:mod:`slack_block_rules`):
  ``invalid_blocks`` with Slack's ``[json-pointer:…]`` errors, ``msg_too_long``, ``no_text``;
- conversations are modelled (:class:`Channel`: public, private, DM, group DM; archived; whether the bot
  is a member).  Only channels set up with :meth:`SlackEmulator.add_channel` (or the ``channels``
  argument) exist, besides ``#general`` (``C0GENERAL``, where slash commands come from) and the DMs
  ``conversations.open`` creates.  Names (``#eng``/``eng``) resolve to IDs for posting, answers carry IDs.
  A public channel the bot is not in answers ``not_in_channel`` without ``chat:write.public``; a private
  channel or someone else's DM the bot is not in answers ``channel_not_found`` (Slack does not show a bot
  conversations it cannot see); an archived one ``is_archived``;
- :meth:`SlackEmulator.revoke` makes a token answer ``token_revoked`` (or ``invalid_auth``);
- a ``response_url`` takes 5 posts within 30 minutes, then answers 404 ``used_url`` / ``expired_url``;
- a reply whose ``thread_ts`` is no message of that conversation is answered ``ok`` but shows nowhere, as
  in Slack (:meth:`SlackEmulator.orphans` lists such replies); a malformed one is ``invalid_thread_ts``.
``SocketModeEndpoint`` is the websocket Slack would open for a Socket Mode app (aiohttp).
``signed_headers`` / ``slash_command_form`` build what Slack sends to an app in HTTP mode.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import re
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
from slack_block_rules import MAX_MESSAGE_BLOCKS, MAX_VIEW_BLOCKS, block_errors, message_error
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
    "chat.postMessage": "chat:write",
    "chat.postEphemeral": "chat:write",
    "chat.update": "chat:write",
    "conversations.open": "im:write",
    "files.getUploadURLExternal": "files:write",
    "files.completeUploadExternal": "files:write",
    "users.info": "users:read",
    "users.list": "users:read",
}
# conversations.info needs the read scope of the conversation's kind.
READ_SCOPES = {"public": "channels:read", "private": "groups:read", "im": "im:read", "mpim": "mpim:read"}
ID_PREFIX = {"public": "C", "private": "C", "im": "D", "mpim": "G"}
RESPONSE_URL_USES = 5
RESPONSE_URL_LIFETIME = 30 * 60  # seconds


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
class Channel:
    """A conversation in the emulated workspace; ``member``: the bot is in it."""

    id: str
    name: str
    kind: str = "public"  # public | private | im | mpim
    member: bool = True
    archived: bool = False
    user: str | None = None  # the person of a DM

    def info(self) -> dict[str, Any]:
        """The conversation object conversations.info / conversations.join answer with."""
        return {
            "id": self.id,
            "name": self.name,
            "is_channel": self.kind in ("public", "private"),
            "is_group": self.kind == "mpim",
            "is_im": self.kind == "im",
            "is_mpim": self.kind == "mpim",
            "is_private": self.kind != "public",
            "is_archived": self.archived,
            "is_member": self.member,
            **({"user": self.user} if self.user else {}),
        }


def channel_id(name: str, kind: str = "public") -> str:
    """The ID the emulator gives channel ``name``: ``alerts`` → ``C0ALERTS`` (``D0…`` for a DM)."""
    return ID_PREFIX[kind] + "0" + re.sub(r"[^A-Z0-9]", "", name.lstrip("#").upper())


@dataclass
class _ResponseUrl:
    issued: float
    uses: int = 0


@dataclass
class _Failure:
    remaining: int
    status: int = 200
    error: str = ""
    retry_after: int = 0


class SlackEmulator:
    """Slack's Web API on 127.0.0.1 (base_url ends with ``/api/``); thread-safe; start/stop or use as context."""

    def __init__(
        self,
        ws_url: str | None = None,
        scopes: frozenset[str] | None = None,
        channels: tuple[str, ...] | list[str] = (),
    ) -> None:
        """``channels``: names of public channels the bot is a member of, besides ``#general``."""
        self.ws_url = ws_url
        self.scopes = manifest_scopes() if scopes is None else scopes
        self.calls: list[Call] = []
        self.people: dict[str, str | None] = {}  # user id → profile e-mail (None: none shown), for users.info
        self.home_views: dict[str, dict[str, Any]] = {}  # user id → the home view last published for them
        self.channels: dict[str, Channel] = {}
        self.messages: dict[tuple[str, str], dict[str, Any]] = {}  # (channel id, ts) → the posted message
        self.revoked: dict[str, str] = {}  # token → the error it now answers
        self._response_urls: dict[str, _ResponseUrl] = {}
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
        for name in ("general", *channels):
            self.add_channel(name)

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

    # --- the workspace ---
    def add_channel(
        self,
        name: str,
        *,
        kind: str = "public",
        member: bool = True,
        archived: bool = False,
        id: str | None = None,
        user: str | None = None,
    ) -> Channel:
        """Create (or replace) conversation ``name``; its ID is :func:`channel_id` unless given."""
        channel = Channel(id or channel_id(name, kind), name.lstrip("#"), kind, member, archived, user)
        with self._lock:
            self.channels[channel.id] = channel
        return channel

    def channel(self, ref: str) -> Channel | None:
        """The conversation ``ref`` names: an ID, ``#name`` or ``name``, or a user ID (their DM with the bot)."""
        with self._lock:
            if ref in self.channels:
                return self.channels[ref]
            name = ref.removeprefix("#")
            found = next((c for c in self.channels.values() if c.name == name and c.kind != "im"), None)
        if found is None and re.fullmatch(r"[UW][A-Z0-9]+", ref):
            return self.direct_message(ref)
        return found

    def direct_message(self, user: str) -> Channel:
        """The bot's DM with ``user`` (created on first use, like conversations.open)."""
        dm_id = "D" + user[1:]
        with self._lock:
            existing = self.channels.get(dm_id)
        return existing or self.add_channel(user, kind="im", id=dm_id, user=user)

    def archive(self, ref: str) -> None:
        self._known(ref).archived = True

    def remove_bot(self, ref: str) -> None:
        """The bot leaves (or is removed from) conversation ``ref``."""
        self._known(ref).member = False

    def revoke(self, token: str = BOT_TOKEN, error: str = "token_revoked") -> None:
        """Every later call with ``token`` answers ``error`` (``token_revoked``, ``invalid_auth``, …)."""
        with self._lock:
            self.revoked[token] = error

    def _known(self, ref: str) -> Channel:
        channel = self.channel(ref)
        assert channel is not None, f"no channel {ref!r} in the emulated workspace"
        return channel

    def posted(self, channel: str) -> list[dict[str, Any]]:
        """The messages posted (or last edited) in conversation ``channel`` (an ID or a name), oldest first."""
        target = self._known(channel).id
        with self._lock:
            return [m for (c, _), m in sorted(self.messages.items(), key=lambda kv: kv[0][1]) if c == target]

    def thread(self, channel: str, ts: str) -> list[dict[str, Any]]:
        """The replies in the thread of message ``ts`` of conversation ``channel``, oldest first."""
        shown = self.posted(channel)
        if not any(m["ts"] == ts for m in shown):
            return []  # no such message here: replies to it show nowhere
        return [m for m in shown if m.get("thread_ts") == ts and m["ts"] != ts]

    def orphans(self) -> list[dict[str, Any]]:
        """Replies Slack took (``ok``) whose ``thread_ts`` is no message of their conversation: nobody sees them."""
        with self._lock:
            return [
                m
                for (c, _), m in sorted(self.messages.items(), key=lambda kv: kv[0][1])
                if m.get("thread_ts") and (c, m["thread_ts"]) not in self.messages
            ]

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
    def add_person(self, user_id: str, email: str | None) -> None:
        """A workspace member users.info knows (``email`` None: their profile shows none)."""
        with self._lock:
            self.people[user_id] = email

    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def response_url(self, name: str = "1") -> str:
        """A fresh response_url for a slash-command payload (5 posts within 30 minutes, as Slack allows);
        posts to it are recorded as "response_url".  Asking again for ``name`` issues it afresh."""
        with self._lock:
            self._response_urls[name] = _ResponseUrl(time.monotonic())
        return self._response_url_of(name)

    def _response_url_of(self, name: str) -> str:
        return f"{self.root}/commands/{TEAM_ID}/{name}/secret"

    def reply_path(self, name: str = "1") -> str:
        """The path posts to response_url ``name`` arrive at (to find them in ``calls``)."""
        return f"/commands/{TEAM_ID}/{name}/secret"

    def age_response_url(self, name: str, seconds: float) -> None:
        """Make response_url ``name`` ``seconds`` older (past 30 minutes it answers ``expired_url``)."""
        with self._lock:
            self._response_urls[name].issued -= seconds

    def answer_response_url(self, path: str, body: dict[str, Any]) -> tuple[int, str]:
        """Slack's answer to a post to a response_url: 200 ``ok``, 404 ``used_url``/``expired_url``, 400 …"""
        name = path.split("/")[3] if path.count("/") >= 4 else ""
        with self._lock:
            issued = self._response_urls.setdefault(name, _ResponseUrl(time.monotonic()))
            issued.uses += 1
            uses, age = issued.uses, time.monotonic() - issued.issued
        if age > RESPONSE_URL_LIFETIME:
            return 404, "expired_url"
        if uses > RESPONSE_URL_USES:
            return 404, "used_url"
        problem = message_error(body.get("text"), blocks_of(body))
        if problem is not None and not body.get("delete_original"):
            return 400, problem["error"]
        return 200, "ok"

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
        with self._lock:
            revoked = self.revoked.get(auth.removeprefix("Bearer "))
        if revoked:
            return 200, {"ok": False, "error": revoked}, {}
        handler = _ANSWERS.get(method)
        if handler is None:
            return 200, {"ok": False, "error": "unknown_method"}, {}
        needed = NEEDED_SCOPES.get(method)
        if needed and needed not in self.scopes:
            return 200, {"ok": False, "error": "missing_scope", "needed": needed}, {}
        return 200, handler(self, body), {}


def _auth_test(emu: SlackEmulator, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "ok": True,
        "url": "https://emulated.slack.test/",
        "team": "Emulated",
        "user": "codex-bot",
        "team_id": TEAM_ID,
        "user_id": BOT_USER_ID,
        "bot_id": "B0CODEXBOT",
    }


def _writable(emu: SlackEmulator, ref: Any) -> Channel | dict[str, Any]:
    """The conversation ``ref`` names if the bot may post there, else Slack's error answer."""
    channel = emu.channel(str(ref)) if ref else None
    if channel is None or (channel.kind != "public" and not channel.member):
        return {"ok": False, "error": "channel_not_found"}
    if channel.archived:
        return {"ok": False, "error": "is_archived"}
    if not channel.member and "chat:write.public" not in emu.scopes:
        return {"ok": False, "error": "not_in_channel"}
    return channel


def _message_problem(body: dict[str, Any]) -> dict[str, Any] | None:
    return message_error(body.get("text"), blocks_of(body), MAX_MESSAGE_BLOCKS)


def _post_message(emu: SlackEmulator, body: dict[str, Any]) -> dict[str, Any]:
    channel = _writable(emu, body.get("channel"))
    if isinstance(channel, dict):
        return channel
    problem = _message_problem(body) or _thread_problem(body)
    if problem:
        return problem
    ts = emu._ts()
    message = {
        "type": "message",
        "text": body.get("text") or "",
        "ts": ts,
        "blocks": blocks_of(body),
        "bot_id": "B0CODEXBOT",
        "user": BOT_USER_ID,
    }
    if body.get("thread_ts"):
        message["thread_ts"] = body["thread_ts"]
    with emu._lock:
        emu.messages[(channel.id, ts)] = message
    return {"ok": True, "channel": channel.id, "ts": ts, "message": message}


def _thread_problem(body: dict[str, Any]) -> dict[str, Any] | None:
    thread = body.get("thread_ts")
    if thread is None or re.fullmatch(r"\d+\.\d+", str(thread)):
        return None
    message = f"[ERROR] {thread} is not a valid thread_ts"
    return {"ok": False, "error": "invalid_thread_ts", "response_metadata": {"messages": [message]}}


def _post_ephemeral(emu: SlackEmulator, body: dict[str, Any]) -> dict[str, Any]:
    channel = _writable(emu, body.get("channel"))
    if isinstance(channel, dict):
        return channel
    if not body.get("user"):
        return {"ok": False, "error": "user_not_in_channel"}
    return _message_problem(body) or {"ok": True, "message_ts": emu._ts()}


def _update(emu: SlackEmulator, body: dict[str, Any]) -> dict[str, Any]:
    """chat.update takes a conversation ID (not a name) and the ts of a message the bot posted there."""
    with emu._lock:
        known = emu.channels.get(str(body.get("channel")))
    channel = _writable(emu, known.id) if known else {"ok": False, "error": "channel_not_found"}
    if isinstance(channel, dict):
        return channel
    with emu._lock:
        original = emu.messages.get((channel.id, str(body.get("ts"))))
    if original is None:
        return {"ok": False, "error": "message_not_found"}
    problem = _message_problem(body)
    if problem:
        return problem
    with emu._lock:
        original.update(text=body.get("text") or "", blocks=blocks_of(body), edited={"user": BOT_USER_ID})
    return {"ok": True, "channel": channel.id, "ts": body["ts"], "text": body.get("text"), "message": dict(original)}


def _views_open(emu: SlackEmulator, body: dict[str, Any]) -> dict[str, Any]:
    if not body.get("trigger_id") or not body.get("view"):
        return {"ok": False, "error": "invalid_arguments"}
    view = body["view"]
    view = json.loads(view) if isinstance(view, str) else view
    if view.get("type") != "modal" or not view.get("title") or not view.get("blocks"):
        return {"ok": False, "error": "invalid_arguments"}
    return {"ok": True, "view": {**view, "id": emu._next("V"), "state": {"values": {}}}}


def _conversations_open(emu: SlackEmulator, body: dict[str, Any]) -> dict[str, Any]:
    users = body.get("users")
    if not users:
        return {"ok": False, "error": "users_list_not_supplied"}
    return {"ok": True, "channel": {"id": emu.direct_message(str(users).split(",")[0]).id}}


def _conversations_info(emu: SlackEmulator, body: dict[str, Any]) -> dict[str, Any]:
    """An ID only; a private conversation the bot is not in is not found, as in Slack."""
    with emu._lock:
        channel = emu.channels.get(str(body.get("channel")))
    if channel is None or (channel.kind != "public" and not channel.member):
        return {"ok": False, "error": "channel_not_found"}
    if READ_SCOPES[channel.kind] not in emu.scopes:
        return {"ok": False, "error": "missing_scope", "needed": READ_SCOPES[channel.kind]}
    return {"ok": True, "channel": channel.info()}


def _conversations_join(emu: SlackEmulator, body: dict[str, Any]) -> dict[str, Any]:
    """Bots join public channels only; a private one needs an invitation."""
    with emu._lock:
        channel = emu.channels.get(str(body.get("channel")))
    if channel is None or (channel.kind != "public" and not channel.member):
        return {"ok": False, "error": "channel_not_found"}
    if channel.kind != "public":
        return {"ok": False, "error": "method_not_supported_for_channel_type"}
    if "channels:join" not in emu.scopes:
        return {"ok": False, "error": "missing_scope", "needed": "channels:join"}
    if channel.archived:
        return {"ok": False, "error": "is_archived"}
    already = channel.member
    channel.member = True
    answer: dict[str, Any] = {"ok": True, "channel": channel.info()}
    if already:
        answer.update(warning="already_in_channel", response_metadata={"warnings": ["already_in_channel"]})
    return answer


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
    channel = _writable(emu, body["channel_id"]) if body.get("channel_id") else None
    if isinstance(channel, dict):
        return channel
    done = []
    for item in files:
        with emu._lock:
            pending = emu._pending_files.get(item.get("id"))
            uploaded = emu.uploads.get(item.get("id"))
        if pending is None or uploaded is None:
            return {"ok": False, "error": "file_not_found"}
        done.append(
            {
                "id": item["id"],
                "title": item.get("title"),
                "name": pending["filename"],
                "size": len(uploaded),
                "channels": [channel.id] if channel else [],
            }
        )
    return {"ok": True, "files": done}


def _member(emu: SlackEmulator, user_id: str, email: str | None) -> dict[str, Any]:
    """A user object as Slack gives it: the profile carries ``email`` only with the users:read.email scope."""
    name = (email or user_id).split("@")[0]
    profile: dict[str, Any] = {"real_name": name, "display_name": name, "team": TEAM_ID}
    if email and "users:read.email" in emu.scopes:
        profile["email"] = email
    return {
        "id": user_id,
        "team_id": TEAM_ID,
        "name": name,
        "deleted": False,
        "real_name": name,
        "tz": "Europe/Berlin",
        "is_bot": False,
        "profile": profile,
    }


def _users_info(emu: SlackEmulator, body: dict[str, Any]) -> dict[str, Any]:
    user_id = body.get("user")
    with emu._lock:
        known, email = user_id in emu.people, emu.people.get(user_id or "")
    if not user_id or not known:
        return {"ok": False, "error": "user_not_found"}
    return {"ok": True, "user": _member(emu, user_id, email)}


def _users_list(emu: SlackEmulator, body: dict[str, Any]) -> dict[str, Any]:
    """The people, two a page (so clients must follow ``next_cursor``), then the bot user itself."""
    with emu._lock:
        people = list(emu.people.items())
    members = [_member(emu, user_id, email) for user_id, email in people]
    members.append({**_member(emu, BOT_USER_ID, None), "is_bot": True})
    start = int(body.get("cursor") or 0)
    page = members[start : start + 2]
    more = start + 2 < len(members)
    return {"ok": True, "members": page, "response_metadata": {"next_cursor": str(start + 2) if more else ""}}


def _views_publish(emu: SlackEmulator, body: dict[str, Any]) -> dict[str, Any]:
    view = body.get("view")
    view = json.loads(view) if isinstance(view, str) else view
    if not body.get("user_id") or not isinstance(view, dict):
        return {"ok": False, "error": "invalid_arguments"}
    problems = block_errors(view.get("blocks") or [], MAX_VIEW_BLOCKS)
    if view.get("type") != "home":
        problems.append("must be home [json-pointer:/view/type]")
    if problems:  # Slack checks a view's blocks as it does a message's, with the view's block limit
        return {
            "ok": False,
            "error": "invalid_arguments",
            "response_metadata": {
                "messages": [f"[ERROR] {p.replace('json-pointer:/', 'json-pointer:/view/')}" for p in problems]
            },
        }
    with emu._lock:
        emu.home_views[body["user_id"]] = view
    return {
        "ok": True,
        "view": {**view, "id": emu._next("V"), "team_id": TEAM_ID, "state": {"values": {}}, "hash": emu._next("h")},
    }


def _get_permalink(emu: SlackEmulator, body: dict[str, Any]) -> dict[str, Any]:
    if not body.get("channel") or not body.get("message_ts"):
        return {"ok": False, "error": "invalid_arguments"}
    with emu._lock:
        channel = emu.channels.get(str(body["channel"]))
        posted = channel is not None and (channel.id, str(body["message_ts"])) in emu.messages
    if not posted:  # Slack knows permalinks only of messages that exist
        return {"ok": False, "error": "message_not_found" if channel else "channel_not_found"}
    ts = str(body["message_ts"]).replace(".", "")
    return {"ok": True, "channel": channel.id, "permalink": f"https://emulated.slack.test/archives/{channel.id}/p{ts}"}


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
    "conversations.info": _conversations_info,
    "conversations.join": _conversations_join,
    "views.open": _views_open,
    "files.getUploadURLExternal": _get_upload_url,
    "files.completeUploadExternal": _complete_upload,
    "apps.connections.open": _connections_open,
    "users.info": _users_info,
    "users.list": _users_list,
    "views.publish": _views_publish,
    "chat.getPermalink": _get_permalink,
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
                call = Call(
                    url.path.removeprefix("/api/"),
                    url.path,
                    headers,
                    _decode(raw, headers.get("content-type", ""), url.query),
                )
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
                return self._reply(call, *emu.answer_response_url(url.path, call.body))
            status, answer, extra = emu.answer(call.method, call.body, headers.get("authorization", ""))
            self._reply(call, status, answer, extra)

    return Handler


# --- what Slack sends to an app in HTTP mode ---


def signed_headers(secret: str, body: str, timestamp: int | None = None) -> dict[str, str]:
    """Slack's request signature (v0) for ``body`` at ``timestamp`` (default now)."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": "v0=" + digest,
        "Content-Type": "application/x-www-form-urlencoded",
    }


def slash_command_payload(
    text: str,
    response_url: str,
    *,
    user_id: str = "U0ALICE",
    channel_id: str = "C0GENERAL",
    command: str = "/codex",
    channel_name: str = "general",
) -> dict[str, str]:
    """The fields of a slash-command invocation, as Slack sends them."""
    return {
        "token": "legacy-verification-token",
        "team_id": TEAM_ID,
        "team_domain": "emulated",
        "channel_id": channel_id,
        "channel_name": channel_name,
        "user_id": user_id,
        "user_name": "alice",
        "command": command,
        "text": text,
        "api_app_id": "A0CODEXBOT",
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": "1.2.3",
    }


def home_opened_callback(user_id: str, tab: str = "home") -> dict[str, Any]:
    """An ``app_home_opened`` event as Slack delivers it (the Events API body; Socket Mode's payload)."""
    return {
        "token": "legacy-verification-token",
        "team_id": TEAM_ID,
        "api_app_id": "A0CODEXBOT",
        "type": "event_callback",
        "event_id": f"Ev{user_id}{tab}",
        "event_time": int(time.time()),
        "event": {
            "type": "app_home_opened",
            "user": user_id,
            "channel": "D" + user_id.lstrip("U"),
            "tab": tab,
            "event_ts": f"{time.time():.6f}",
        },
    }


def select_payload(user_id: str, action_id: str, value: str, view: dict[str, Any] | None = None) -> dict[str, Any]:
    """A ``block_actions`` payload for a static select choice in a view (as Slack posts it)."""
    option = {"text": {"type": "plain_text", "text": value}, "value": value}
    return {
        "type": "block_actions",
        "team": {"id": TEAM_ID, "domain": "emulated"},
        "api_app_id": "A0CODEXBOT",
        "user": {"id": user_id, "username": user_id.lower(), "team_id": TEAM_ID},
        "trigger_id": "1.2.3",
        "container": {"type": "view", "view_id": "V0HOME"},
        "view": {**(view or {}), "id": "V0HOME"},
        "actions": [
            {
                "type": "static_select",
                "action_id": action_id,
                "block_id": "home_controls",
                "selected_option": option,
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }


def button_payload(
    user_id: str, action_id: str, value: str, response_url: str, channel: str | None = None
) -> dict[str, Any]:
    """A ``block_actions`` payload for a button click in a message (as Slack posts it)."""
    channel = channel or "D" + user_id.lstrip("U")
    return {
        "type": "block_actions",
        "team": {"id": TEAM_ID, "domain": "emulated"},
        "api_app_id": "A0CODEXBOT",
        "user": {"id": user_id, "username": user_id.lower(), "team_id": TEAM_ID},
        "trigger_id": "1.2.3",
        "container": {"type": "message", "channel_id": channel, "message_ts": "1700000000.000001"},
        "channel": {"id": channel},
        "message": {"ts": "1700000000.000001", "text": ""},
        "response_url": response_url,
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": "personal_digest",
                "value": value,
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }


def slash_command_form(text: str, response_url: str, **fields: str) -> str:
    """A slash command as Slack POSTs it (application/x-www-form-urlencoded)."""
    return urlencode(slash_command_payload(text, response_url, **fields))


def block_actions_payload(
    action: dict[str, Any],
    response_url: str,
    *,
    user_id: str = "U0ALICE",
    channel_id: str = "C0GENERAL",
    message_ts: str = "1700000000.000001",
    ephemeral: bool = True,
    trigger_id: str = "1.2.3",
) -> dict[str, Any]:
    """What Slack sends when someone uses ``action`` (a button or select, with its ``block_id``) on a message."""
    return {
        "type": "block_actions",
        "user": {"id": user_id, "username": user_id},
        "team": {"id": TEAM_ID},
        "api_app_id": "A0CODEXBOT",
        "token": "legacy-verification-token",
        "trigger_id": trigger_id,
        "container": {"type": "message", "message_ts": message_ts, "channel_id": channel_id, "is_ephemeral": ephemeral},
        "channel": {"id": channel_id, "name": "general"},
        "response_url": response_url,
        "actions": [{"action_ts": "1700000000.1", **action}],
    }


def select_action(block: dict[str, Any], action_id: str, value: str) -> dict[str, Any]:
    """A static-select choice of ``value`` in the actions ``block`` of a posted message (as Slack reports it)."""
    element = next(e for e in block["elements"] if e["action_id"] == action_id)
    option = next(o for o in element["options"] if o["value"] == value)
    return {"type": "static_select", "action_id": action_id, "block_id": block["block_id"], "selected_option": option}


def button_action(block: dict[str, Any], action_id: str) -> dict[str, Any]:
    """A click on the button ``action_id`` in the actions ``block`` of a posted message."""
    element = next(e for e in block["elements"] if e["action_id"] == action_id)
    return {"type": "button", "action_id": action_id, "block_id": block["block_id"], "value": element.get("value", "")}


def view_submission_payload(
    view: dict[str, Any], values: dict[str, dict[str, dict[str, Any]]], *, user_id: str = "U0ALICE"
) -> dict[str, Any]:
    """What Slack sends when someone submits the modal ``view`` (as opened) with the input ``values``."""
    state = {"values": values}
    return {
        "type": "view_submission",
        "user": {"id": user_id, "username": user_id},
        "team": {"id": TEAM_ID},
        "api_app_id": "A0CODEXBOT",
        "token": "legacy-verification-token",
        "trigger_id": "1.2.4",
        "view": {**view, "id": "V0MODAL", "state": state, "hash": "1.abc"},
    }


def interaction_form(payload: dict[str, Any]) -> str:
    """An interaction as Slack POSTs it in HTTP mode (a form with one ``payload`` field)."""
    return urlencode({"payload": json.dumps(payload)})


def build_bot(slack: SlackEmulator, *, panels_only: bool = False, **settings: object) -> tuple[App, CommandDeps]:
    """codex-bot's Bolt app and its dependencies, wired from settings like ``codex-bot serve`` does.

    ``panels_only`` leaves out the alert and digest sub-commands and buttons, for tests that
    register their own (with their own store, rules and clock).
    """
    settings.setdefault("state_db", Path(tempfile.mkdtemp(prefix="codex-bot-state-")) / "state.sqlite")
    configured = load_settings(
        slack_bot_token=BOT_TOKEN, slack_signing_secret=SIGNING_SECRET, slack_api_url=slack.base_url, **settings
    )
    if panels_only:
        client = build_web_client(configured)
        deps = panel_deps(build_parts(configured, SlackTransport(client), Store.open(configured.state_target)))
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

    def command(
        self, text: str, response_url: str, *, secret: str | None = None, timestamp: int | None = None, **fields: str
    ) -> requests.Response:
        """POST ``/codex text`` signed with ``secret`` (default: the right one) at ``timestamp`` (default now)."""
        body = slash_command_form(text, response_url, **fields)
        headers = signed_headers(secret or self.secret, body, timestamp)
        return requests.post(self.url, data=body.encode(), headers=headers, timeout=10)

    def event(self, callback: dict[str, Any]) -> requests.Response:
        """POST an Events API callback (JSON), signed."""
        body = json.dumps(callback)
        headers = {**signed_headers(self.secret, body), "Content-Type": "application/json"}
        return requests.post(self.url, data=body.encode(), headers=headers, timeout=10)

    def interaction(self, payload: dict[str, Any]) -> requests.Response:
        """POST an interactivity payload (``payload=<json>`` form field), signed."""
        body = interaction_form(payload)
        return requests.post(self.url, data=body.encode(), headers=signed_headers(self.secret, body), timeout=10)

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
        await ws.send_str(
            json.dumps({"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A0CODEXBOT"}})
        )
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
