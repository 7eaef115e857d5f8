"""Send a Prometheus-text file to VictoriaMetrics' import API (``/api/v1/import/prometheus``).

``url`` is where the import path is appended: a single-node server (``http://vm:8428``) or a
cluster's vminsert with its tenant (``http://vminsert:8480/insert/0/prometheus``).  After the import
the single-node server is asked to flush (``/internal/force_flush``) so the samples can be queried at
once; a cluster's vminsert has no such endpoint and its samples show up within a few seconds.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import requests

from codex_bot.errors import UserError

IMPORT_PATH = "/api/v1/import/prometheus"
FLUSH_PATH = "/internal/force_flush"


def check_url(url: str) -> None:
    """A :class:`UserError` unless ``url`` is an http(s) URL with a host (checked before any work)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UserError(f"--to-url {url!r} is not an http(s) URL; use e.g. http://127.0.0.1:8428")


def import_text(path: Path, url: str, timeout: float = 600.0) -> bool:
    """POST ``path`` (text exposition, millisecond timestamps) to ``url``; True when the store was flushed.

    Failures (unreachable, an HTTP error with VictoriaMetrics' reason) are a :class:`UserError`.
    """
    check_url(url)
    base = url.rstrip("/")
    with path.open("rb") as body:
        reply = _request("post", f"{base}{IMPORT_PATH}", timeout, data=body, headers={"Content-Type": "text/plain"})
    if reply.status_code not in (200, 204):
        raise UserError(f"{base}{IMPORT_PATH} answered HTTP {reply.status_code}: {_reason(reply)}")
    flushed = _request("get", f"{base}{FLUSH_PATH}", timeout)
    return flushed.status_code == 200


def _request(method: str, url: str, timeout: float, **kwargs: object) -> requests.Response:
    try:
        return requests.request(method, url, timeout=timeout, **kwargs)  # type: ignore[arg-type]
    except requests.exceptions.Timeout:
        raise UserError(f"{url} did not answer within {timeout:g} s") from None
    except requests.exceptions.RequestException as exc:
        raise UserError(f"cannot reach {url}: {type(exc).__name__}") from None


def _reason(reply: requests.Response) -> str:
    return " ".join(reply.text.split())[:300] or reply.reason or "no reason given"
