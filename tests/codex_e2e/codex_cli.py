"""Install and run the real Codex CLI (npm package ``@openai/codex``) in isolation.

Each run gets its own ``CODEX_HOME`` (and ``HOME``), a scratch working directory, a minimal
environment (no inherited API keys) and an HTTP(S) proxy that refuses everything, so nothing
beyond loopback is reachable.  Codex runs in its own process group, and after it exits every
process still carrying that ``CODEX_HOME`` (e.g. the background ``app-server`` daemon the TUI
starts) is killed by PID.
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pytest

CODEX_VERSION = "0.169.0"
MODEL = "gpt-5.1-codex"
TERMINAL = "xterm"  # TERM given to Codex, exported as terminal.type
USER_EMAIL = "dev@e2e.example"  # resource user.email (OTEL_RESOURCE_ATTRIBUTES): the user label in email mode
_PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")
_LOOPBACK = "127.0.0.1,localhost,::1"


class CodexInstallError(RuntimeError):
    """npm could not install the pinned Codex CLI; the message carries npm's output."""


def codex_bin(prefix: Path) -> Path:
    return prefix / "node_modules" / ".bin" / "codex"


def installed_version(prefix: Path) -> str | None:
    """``codex --version``'s version under ``prefix``, or None when absent or broken."""
    binary = codex_bin(prefix)
    if not binary.exists():
        return None
    try:
        out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=30, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return out.split()[-1] if out.split() else None


def install_codex(prefix: Path, version: str = CODEX_VERSION) -> Path:
    """Install ``@openai/codex@version`` under ``prefix`` unless it is already there; return the binary."""
    if installed_version(prefix) == version:
        return codex_bin(prefix)
    prefix.mkdir(parents=True, exist_ok=True)
    command = [
        "npm",
        "install",
        "--prefix",
        str(prefix),
        "--no-audit",
        "--no-fund",
        "--prefer-offline",
        f"@openai/codex@{version}",
    ]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise CodexInstallError(f"`{' '.join(command)}` could not run: {exc}") from exc
    got = installed_version(prefix)
    if done.returncode != 0 or got != version:
        raise CodexInstallError(
            f"`{' '.join(command)}` exited {done.returncode}, codex --version gives {got!r}\n"
            f"stdout:\n{done.stdout[-3000:]}\nstderr:\n{done.stderr[-3000:]}"
        )
    return codex_bin(prefix)


def config_toml(api_base_url: str, otlp_base_url: str, protocol: str) -> str:
    """``$CODEX_HOME/config.toml``: the fake model provider, no approvals, all three OTLP signals."""

    def exporter(signal_path: str) -> str:
        return f'{{ otlp-http = {{ endpoint = "{otlp_base_url}/v1/{signal_path}", protocol = "{protocol}" }} }}'

    return f"""model = "{MODEL}"
model_provider = "mock"
approval_policy = "never"
sandbox_mode = "danger-full-access"
cli_auth_credentials_store = "file"

[model_providers.mock]
name = "Fake Responses API"
base_url = "{api_base_url}"
wire_api = "responses"
request_max_retries = 0
stream_max_retries = 0
supports_websockets = false

# The curated-plugins sync reaches github.com and chatgpt.com at start-up; nothing here needs it.
[features]
plugins = false

[otel]
environment = "e2e-test"
log_user_prompt = false
exporter = {exporter("logs")}
metrics_exporter = {exporter("metrics")}
trace_exporter = {exporter("traces")}
"""


@dataclass(frozen=True)
class CodexRun:
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    leftover_pids: tuple[int, ...]  # processes with our CODEX_HOME still alive after exit (then killed)


def _environment(home: Path, proxy_url: str) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "CODEX_HOME": str(home),
        "TERM": TERMINAL,
        "OTEL_RESOURCE_ATTRIBUTES": f"user.email={USER_EMAIL}",  # as an admin sets it without a ChatGPT login
        "LANG": "C.UTF-8",
        "NO_PROXY": _LOOPBACK,
        "no_proxy": _LOOPBACK,
    }
    env.update({name: proxy_url for name in _PROXY_VARS})
    return env


def pids_with_codex_home(home: Path) -> list[int]:
    """PIDs of live processes whose environment holds ``CODEX_HOME=<home>``."""
    marker = f"CODEX_HOME={home}".encode()
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if marker in environ.split(b"\0"):
            pids.append(int(entry.name))
    return pids


def kill_pids(pids: list[int]) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def run_exec(binary: Path, home: Path, cwd: Path, proxy_url: str, prompt: str, timeout: float = 120) -> CodexRun:
    """Run ``codex exec --skip-git-repo-check PROMPT``; leave no process behind.

    Output goes to files, not pipes, so a daemon that inherits them cannot hold the wait open.
    """
    started = time.monotonic()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = subprocess.Popen(
            [str(binary), "exec", "--skip-git-repo-check", prompt],
            cwd=cwd,
            env=_environment(home, proxy_url),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            start_new_session=True,
        )
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        seconds = time.monotonic() - started
        leftovers = pids_with_codex_home(home)  # children and daemons inherit CODEX_HOME
        try:
            os.killpg(process.pid, signal.SIGKILL)  # anything else left in its process group
        except ProcessLookupError:
            pass
        kill_pids(leftovers)
        stdout, stderr = (_read(f) for f in (out, err))
    if seconds >= timeout:
        stderr += f"\n[test] codex exec killed after {timeout}s"
    return CodexRun(process.returncode, stdout, stderr, seconds, tuple(leftovers))


def _read(file: IO[bytes]) -> str:
    file.seek(0)
    return file.read().decode(errors="replace")


def cached_codex(config: pytest.Config, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The pinned Codex CLI binary, installed with npm into pytest's cache on first use (per run when the
    cache is off); a failed install fails the test."""
    cache = getattr(config, "cache", None)
    folder = Path(cache.mkdir("codex-cli")) if cache else tmp_path_factory.mktemp("codex-cli")
    try:
        return install_codex(folder / CODEX_VERSION)
    except CodexInstallError as exc:
        pytest.fail(f"cannot install the Codex CLI: {exc}", pytrace=False)
