"""A local fake of the OpenAI Responses API, enough for one `codex exec` turn with a tool call.

``POST /v1/responses`` streams SSE in the event shapes of openai/codex's own test helpers
(``codex-rs/core/tests/common/responses.rs``): a request that carries no output of a call we
served gets a ``function_call`` to ``exec_command``; a request that carries that call's
``function_call_output`` gets an assistant message.  Every answer ends in ``response.completed``
with ``usage``.  ``GET /v1/models`` answers an empty list.  :attr:`FakeResponsesAPI.served`
records exactly what was served, so a test derives its expectations from it.

The fake also serves as the HTTP(S) proxy of the process under test: any proxied request
(``CONNECT host:port`` or an absolute URL) is refused and recorded in
:attr:`FakeResponsesAPI.outbound`, which proves the run needed nothing beyond loopback.
"""

from __future__ import annotations

import gzip
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

from loopback import InThread


@dataclass(frozen=True)
class Usage:
    """Token usage reported in one ``response.completed``; input includes cached, output includes reasoning."""

    input_tokens: int
    cached_tokens: int
    output_tokens: int
    reasoning_tokens: int

    def as_json(self) -> dict[str, Any]:
        return {
            "input_tokens": self.input_tokens,
            "input_tokens_details": {"cached_tokens": self.cached_tokens},
            "output_tokens": self.output_tokens,
            "output_tokens_details": {"reasoning_tokens": self.reasoning_tokens},
            "total_tokens": self.input_tokens + self.output_tokens,
        }


@dataclass(frozen=True)
class ToolCall:
    call_id: str
    name: str
    arguments: str


@dataclass(frozen=True)
class Served:
    """One streamed response: ``tool_call`` for a function call, else ``message`` text."""

    response_id: str
    usage: Usage
    tool_call: ToolCall | None = None
    message: str | None = None


@dataclass(frozen=True)
class Script:
    """What the fake says: the command to run, the final answer, and usage per answer kind."""

    command: str = "echo hi"
    answer: str = "hi"
    tool_usage: Usage = Usage(input_tokens=1234, cached_tokens=1000, output_tokens=56, reasoning_tokens=17)
    answer_usage: Usage = Usage(input_tokens=1521, cached_tokens=1203, output_tokens=23, reasoning_tokens=5)


@dataclass
class _State:
    served: list[Served] = field(default_factory=list)
    tool_outputs: dict[str, str] = field(default_factory=dict)
    models_requests: int = 0
    outbound: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


_EMPTY_MODELS = json.dumps({"object": "list", "data": [], "models": []}).encode()


def sse(events: list[dict[str, Any]]) -> bytes:
    """The SSE body for ``events``, framed as ``responses.rs``'s ``sse()`` does."""
    out = []
    for event in events:
        out.append(f"event: {event['type']}\n")
        out.append(f"data: {json.dumps(event)}\n\n" if len(event) > 1 else "\n")
    return "".join(out).encode()


def _events(served: Served) -> list[dict[str, Any]]:
    if served.tool_call is not None:
        call = served.tool_call
        item = {"type": "function_call", "call_id": call.call_id, "name": call.name, "arguments": call.arguments}
    else:
        item = {
            "type": "message",
            "role": "assistant",
            "id": f"msg_{served.response_id}",
            "content": [{"type": "output_text", "text": served.message}],
        }
    return [
        {"type": "response.created", "response": {"id": served.response_id}},
        {"type": "response.output_item.done", "item": item},
        {"type": "response.completed", "response": {"id": served.response_id, "usage": served.usage.as_json()}},
    ]


def _call_outputs(body: dict[str, Any]) -> dict[str, str]:
    """``call_id -> output`` of every ``function_call_output`` in a request's ``input``."""
    outputs = {}
    for item in body.get("input") or []:
        if isinstance(item, dict) and item.get("type") == "function_call_output":
            output = item.get("output")
            outputs[str(item.get("call_id"))] = output if isinstance(output, str) else json.dumps(output)
    return outputs


class FakeResponsesAPI:
    """The fake server on ``127.0.0.1:<free port>``; use as a context manager."""

    def __init__(self, script: Script | None = None) -> None:
        self.script = script or Script()
        self._state = _State()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._running = InThread(self._server, "fake-responses-api")

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    @property
    def served(self) -> list[Served]:
        with self._state.lock:
            return list(self._state.served)

    @property
    def tool_outputs(self) -> dict[str, str]:
        """Outputs Codex sent back for the tool calls served, by call id."""
        with self._state.lock:
            return dict(self._state.tool_outputs)

    @property
    def models_requests(self) -> int:
        with self._state.lock:
            return self._state.models_requests

    @property
    def outbound(self) -> list[str]:
        """Targets the process under test tried to reach through the proxy (should stay empty)."""
        with self._state.lock:
            return list(self._state.outbound)

    @property
    def proxy_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def errors(self) -> list[str]:
        """Requests the fake could not understand (should stay empty)."""
        with self._state.lock:
            return list(self._state.errors)

    def __enter__(self) -> Self:
        self._running.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._running.stop()

    def respond(self, body: dict[str, Any]) -> Served:
        """Decide, record and return the answer to one ``POST /responses`` request body."""
        outputs = _call_outputs(body)
        with self._state.lock:
            served_calls = {s.tool_call.call_id for s in self._state.served if s.tool_call}
            answered = served_calls & outputs.keys()
            number = len(self._state.served) + 1
            response_id = f"resp_{number}"
            if answered:
                self._state.tool_outputs.update({k: outputs[k] for k in answered})
                served = Served(response_id, self.script.answer_usage, message=self.script.answer)
            else:
                arguments = json.dumps({"cmd": self.script.command})
                call = ToolCall(call_id=f"call_{number}", name="exec_command", arguments=arguments)
                served = Served(response_id, self.script.tool_usage, tool_call=call)
            self._state.served.append(served)
        return served

    def _count_models_request(self) -> None:
        with self._state.lock:
            self._state.models_requests += 1

    def _record_outbound(self, target: str) -> None:
        with self._state.lock:
            self._state.outbound.append(target)

    def _record_error(self, message: str) -> None:
        with self._state.lock:
            self._state.errors.append(message)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_CONNECT(self) -> None:
                self._refuse_outbound()

            def do_GET(self) -> None:
                if "://" in self.path:
                    self._refuse_outbound()
                elif self.path.split("?")[0].rstrip("/") == "/v1/models":
                    fake._count_models_request()
                    self._send(200, "application/json", _EMPTY_MODELS)
                else:
                    self._send(404, "text/plain", b"not found")

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if "://" in self.path:
                    self._refuse_outbound()
                elif self.path.split("?")[0] != "/v1/responses":
                    self._send(404, "text/plain", b"not found")
                else:
                    self._stream_answer(raw)

            def _stream_answer(self, raw: bytes) -> None:
                try:
                    body = json.loads(gzip.decompress(raw) if self.headers.get("Content-Encoding") == "gzip" else raw)
                except (ValueError, OSError) as exc:
                    fake._record_error(f"unreadable /v1/responses body ({self.headers.get('Content-Encoding')}): {exc}")
                    self._send(400, "text/plain", b"unreadable body")
                    return
                self._send(200, "text/event-stream", sse(_events(fake.respond(body))))

            def _refuse_outbound(self) -> None:
                fake._record_outbound(f"{self.command} {self.path}")
                self.close_connection = True
                self._send(403, "text/plain", b"no network beyond loopback in this test")

            def _send(self, status: int, content_type: str, payload: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

        return Handler
