"""One synthetic Codex conversation (one Codex process): prompts, model calls, tool calls, in Codex's event order."""

from __future__ import annotations

import math
import random

from codex_bot.simulate.event import AttrValue, SimEvent
from codex_bot.simulate.incidents import (
    CACHE_FACTOR_DURING_FALL,
    DURATION_FACTOR_DURING_SPIKE,
    FAILURE_RATE_DURING_DROP,
    TOKEN_FACTOR_DURING_SPIKE,
    Incident,
    active_kinds,
)
from codex_bot.simulate.people import Developer, pick

BASE_FAILURE_RATE = 0.015
MAX_ATTEMPTS = 3
# Tool mix of a tool call, and (median seconds, log-sigma, success rate) per tool.
TOOLS: tuple[tuple[str, float], ...] = (
    ("exec_command", 0.56),
    ("apply_patch", 0.2),
    ("write_stdin", 0.12),
    ("view_image", 0.05),
    ("mcp__github__create_pr", 0.07),
)
TOOL_BEHAVIOUR: dict[str, tuple[float, float, float]] = {
    "exec_command": (0.9, 1.2, 0.97),
    "apply_patch": (0.04, 0.6, 0.93),
    "write_stdin": (1.5, 1.0, 0.98),
    "view_image": (0.03, 0.5, 0.99),
    "mcp__github__create_pr": (1.2, 0.7, 0.9),
}
TOOL_ARGUMENTS = {  # the JSON arguments string of a tool call
    "exec_command": '{"cmd": "pytest -q"}',
    "apply_patch": '{"path": "src/app.py"}',
    "write_stdin": '{"session_id": 1, "chars": "y\\n"}',
    "view_image": '{"path": "docs/screenshot.png"}',
    "mcp__github__create_pr": '{"title": "Fix flaky test"}',
}
ASKED_SHARE = {"exec_command": 0.35, "apply_patch": 0.5, "mcp__github__create_pr": 1.0}  # with "on-request"
USER_DECISIONS = (("approved", 0.65), ("approved_for_session", 0.17), ("denied", 0.12), ("abort", 0.06))
REASONING_SHARE = {
    "gpt-5.1-codex": (0.3, 0.7),
    "gpt-5-codex": (0.3, 0.6),
    "gpt-5.1-codex-mini": (0.2, 0.5),
    "o4-mini": (0.4, 0.8),
}
FAILURES = (
    (429, "http 429 Too Many Requests: rate limit reached"),
    (500, "http 500 Internal Server Error"),
    (503, "http 503 Service Unavailable"),
)
_AUTH_ENV = {
    "auth.env_openai_api_key_present": False,
    "auth.env_codex_api_key_present": False,
    "auth.env_codex_api_key_enabled": True,
    "auth.env_refresh_token_url_override_present": False,
}


class Session:
    """Generates one conversation's events; :meth:`run` returns them (times may run past the range end)."""

    def __init__(
        self,
        developer: Developer,
        rng: random.Random,
        begin_ms: int,
        model: str,
        incidents: tuple[Incident, ...],
        *,
        tool_mean: float = 1.6,
    ) -> None:
        self.dev, self.rng, self.t, self.model, self.incidents = developer, rng, begin_ms, model, incidents
        self.tool_mean = tool_mean  # mean tool calls per turn (0: a model-only loop)
        self.exec_run = rng.random() < 0.3  # `codex exec` rather than the interactive TUI
        self.events: list[SimEvent] = []
        self.context = rng.randint(6_000, 12_000)  # tokens of instructions and history so far
        self.previous_input = 0
        self.tool_seq = 0
        self.resource = self._resource()
        self.common = self._common()

    def run(self) -> list[SimEvent]:
        self._start()
        for _ in range(1 + _geometric(self.rng, 2.0)):
            if not self._turn():
                break
            self.t += int(self.rng.expovariate(1 / 150_000)) + 4_000  # reading, thinking, typing
        self.t += 300
        self.events.append(SimEvent(self.t, "", {}, self.common, self.resource, body="flushing OTEL metrics"))
        return self.events

    # --- conversation -------------------------------------------------------------------------------

    def _start(self) -> None:
        rng, dev = self.rng, self.dev
        self._emit(
            "codex.conversation_starts",
            {
                "config.legacy_multi_agent_disabled_sources": "none",
                "provider_name": "OpenAI",
                **_AUTH_ENV,
                "reasoning_effort": rng.choice(("medium", "high", "low")),
                "reasoning_summary": "auto",
                "approval_policy": dev.approval_policy,
                "sandbox_policy": "workspace-write" if dev.approval_policy != "never" else "danger-full-access",
                "mcp_servers": "github",
            },
        )
        self.t += rng.randint(150, 400)
        if dev.identity != "apikey":  # ChatGPT login lists models first: an api_request that is no model call
            self._emit(
                "codex.api_request",
                {
                    "duration_ms": str(rng.randint(40, 160)),
                    "http.response.status_code": 200,
                    "success": True,
                    "attempt": 0,
                    "endpoint": "/models",
                    "auth.header_attached": True,
                    **_AUTH_ENV,
                    "auth.mode": "Chatgpt",
                    "auth.retry_after_unauthorized": False,
                },
            )
        if dev.websocket:
            self.t += rng.randint(80, 300)
            self._emit(
                "codex.websocket_connect",
                {
                    "duration_ms": str(rng.randint(60, 250)),
                    "success": "true",
                    "endpoint": "/responses",
                    "http.response.status_code": 101,
                    "auth.connection_reused": False,
                    "auth.reauth": False,
                },
            )
            # the generate:false warm-up request Codex sends per session (a model call without tokens)
            self._emit(
                "codex.websocket_request",
                {"duration_ms": "0", "success": "true", **_AUTH_ENV, "auth.connection_reused": True},
            )
        self.t += rng.randint(500, 20_000)

    def _turn(self) -> bool:
        """One prompt and the model/tool loop it causes; False when the conversation ends early."""
        rng = self.rng
        prompt_length = rng.randint(8, 900)
        self._emit("codex.user_prompt", {"prompt_length": str(prompt_length), "prompt": "[REDACTED]"})
        self.t += rng.randint(100, 600)
        tool_calls = _geometric(rng, self.tool_mean) if self.tool_mean else 0
        for step in range(tool_calls + 1):
            if not self._model_call(final=step == tool_calls, first=step == 0):
                return False
            if step < tool_calls and not self._tool_call():
                return False
        return True

    # --- model calls --------------------------------------------------------------------------------

    def _model_call(self, final: bool, first: bool) -> bool:
        rng = self.rng
        for attempt in range(MAX_ATTEMPTS):
            failure_rate = FAILURE_RATE_DURING_DROP if "success-drop" in self._active() else BASE_FAILURE_RATE
            failed = rng.random() < failure_rate
            self._request_event(attempt, failed)
            if not failed:
                break
            self.t += int(rng.uniform(400, 2_500) * 2**attempt)  # retry back-off
        else:
            return False
        latency = int(rng.lognormvariate(math.log(4_000 if "mini" not in self.model else 2_200), 0.6))
        if not self.dev.websocket:
            self.t += rng.randint(150, 900)
            self._emit("codex.sse_event", {"event.kind": "response.created", "duration_ms": "0"})
        self.t += latency
        if first:
            self._emit("codex.turn_ttft", {"duration_ms": str(latency + rng.randint(100, 900))})
        if not self.dev.websocket:  # Codex logs response.completed twice over SSE; the first has no counts
            self._emit("codex.sse_event", {"event.kind": "response.completed", "duration_ms": "0"})
        self._emit("codex.sse_event", self._usage(final))
        self.t += rng.randint(20, 200)
        return True

    def _request_event(self, attempt: int, failed: bool) -> None:
        rng = self.rng
        status, message = rng.choice(FAILURES) if failed else (200, "")
        if self.dev.websocket:
            attrs: dict[str, AttrValue] = {
                "duration_ms": str(rng.randint(0, 3)),
                "success": "false" if failed else "true",
            }
            if failed:
                attrs["error.message"] = message
            self._emit("codex.websocket_request", {**attrs, **_AUTH_ENV, "auth.connection_reused": True})
            return
        attrs = {"duration_ms": str(rng.randint(30, 400)), "http.response.status_code": status}
        if self.dev.identity != "apikey":  # observed: ChatGPT-mode requests carry a bool success, API-key ones none
            attrs["success"] = not failed
        if failed:
            attrs["error.message"] = message
        self._emit(
            "codex.api_request",
            {
                **attrs,
                "attempt": attempt,
                "endpoint": "/responses",
                "auth.header_attached": True,
                **_AUTH_ENV,
                "auth.mode": "ApiKey" if self.dev.identity == "apikey" else "Chatgpt",
                "auth.retry_after_unauthorized": False,
            },
        )

    def _usage(self, final: bool) -> dict[str, AttrValue]:
        rng, active = self.rng, self._active()
        self.context += rng.randint(300, 4_000)
        input_tokens = self.context
        if self.previous_input:
            cached = int(self.previous_input * rng.uniform(0.88, 1.0)) // 128 * 128
        else:
            cached = int(input_tokens * rng.uniform(0.0, 0.6)) // 128 * 128
        if "cache-fall" in active:
            cached = int(cached * CACHE_FACTOR_DURING_FALL)
        self.previous_input = input_tokens
        output = max(1, int(rng.lognormvariate(math.log(450 if final else 140), 0.7)))
        low, high = REASONING_SHARE.get(self.model, (0.2, 0.6))
        reasoning = int(output * rng.uniform(low, high))
        if "token-spike" in active:
            factor = TOKEN_FACTOR_DURING_SPIKE
            input_tokens, cached = int(input_tokens * factor), int(cached * factor)
            output, reasoning = int(output * factor), int(reasoning * factor)
        return {
            "event.kind": "response.completed",
            "input_token_count": str(input_tokens),
            "output_token_count": str(output),
            "cached_token_count": min(cached, input_tokens),
            "cache_write_token_count": 0,
            "reasoning_token_count": reasoning,
            "tool_token_count": str(input_tokens + output),
        }

    # --- tool calls ---------------------------------------------------------------------------------

    def _tool_call(self) -> bool:
        """Decision (where Codex asks) and result of one tool call; False when the user aborts the turn."""
        rng = self.rng
        tool = pick(rng, TOOLS)
        call_id = f"call_{rng.getrandbits(96):024x}"
        namespace = "mcp__github__" if tool.startswith("mcp__") else "functions"
        if tool in ASKED_SHARE:
            decision, source = self._decision(tool)
            self._emit(
                "codex.tool_decision",
                {
                    "tool_name": tool,
                    "tool_namespace": namespace,
                    "call_id": call_id,
                    "decision": decision,
                    "source": source,
                },
            )
            if decision == "abort":
                return False
            if decision == "denied":
                self.t += rng.randint(100, 400)
                return True
        median, sigma, success_rate = TOOL_BEHAVIOUR[tool]
        seconds = rng.lognormvariate(math.log(median), sigma)
        if tool == "exec_command" and "p95-spike" in self._active():
            seconds *= DURATION_FACTOR_DURING_SPIKE
        duration_ms = max(1, min(int(seconds * 1000), 600_000))
        self.t += duration_ms
        self.tool_seq += 1
        self._emit(
            "codex.tool_result", self._result(tool, namespace, call_id, duration_ms, rng.random() < success_rate)
        )
        self.t += rng.randint(50, 300)
        return True

    def _decision(self, tool: str) -> tuple[str, str]:
        rng = self.rng
        if self.dev.approval_policy == "never" or rng.random() >= ASKED_SHARE[tool]:
            self.t += rng.randint(5, 60)
            return "approved", "Config"
        self.t += rng.randint(1_500, 30_000)  # the human reads and answers
        return pick(rng, USER_DECISIONS), "User"

    def _result(self, tool: str, namespace: str, call_id: str, duration_ms: int, ok: bool) -> dict[str, AttrValue]:
        mcp = tool.startswith("mcp__")
        return {
            "tool_result_seq": self.tool_seq,
            "tool_name": tool,
            "tool_namespace": namespace,
            "call_id": call_id,
            "duration_ms": str(duration_ms),
            "success": "true" if ok else "false",
            "output_truncated": False,
            "agent_name": "/root",
            "arguments": TOOL_ARGUMENTS[tool],
            "output": "Process exited with code 0\n" if ok else "error: tool call failed\n",
            "mcp_server": "github" if mcp else "",
            "mcp_server_origin": "config" if mcp else "",
        }

    # --- helpers ------------------------------------------------------------------------------------

    def _emit(self, name: str, attributes: dict[str, AttrValue]) -> None:
        self.events.append(SimEvent(self.t, name, attributes, self.common, self.resource))

    def _active(self) -> frozenset[str]:
        return active_kinds(self.incidents, self.t) if self.incidents else frozenset()

    def _resource(self) -> dict[str, str]:
        dev = self.dev
        resource = {
            "env": "prod",
            "service.version": dev.app_version,
            "host.name": dev.host,
            "telemetry.sdk.name": "opentelemetry",
            "service.name": "codex_exec" if self.exec_run else "codex-app-server",
            "telemetry.sdk.version": "0.31.0",
            "telemetry.sdk.language": "rust",
        }
        if dev.identity == "apikey":  # the admin's OTEL_RESOURCE_ATTRIBUTES names the person
            resource["user.email"] = dev.email
            resource["service.instance.id"] = _uuid(self.rng)
        return resource

    def _common(self) -> dict[str, AttrValue]:
        dev = self.dev
        common: dict[str, AttrValue] = {"conversation.id": _uuid(self.rng), "app.version": dev.app_version}
        common["auth_mode"] = "ApiKey" if dev.identity == "apikey" else "Chatgpt"
        common["originator"] = (
            "codex_exec" if self.exec_run else ("codex_vscode" if dev.terminal == "vscode" else "codex-tui")
        )
        if dev.identity != "apikey":
            common["user.account_id"] = dev.account_id
        if dev.identity == "chatgpt":
            common["user.email"] = dev.email
        common.update({"terminal.type": dev.terminal, "model": self.model, "slug": self.model})
        return common


def _geometric(rng: random.Random, mean: float) -> int:
    """0, 1, 2, ... with the given mean."""
    return int(math.log(1.0 - rng.random()) / math.log(mean / (1.0 + mean)))


def _uuid(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-7{h[13:16]}-{h[16:20]}-{h[20:]}"
