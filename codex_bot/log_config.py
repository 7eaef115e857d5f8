"""Logging for every ``codex-bot`` sub-command, configured once at the CLI entry.

``CODEX_BOT_LOG_LEVEL`` sets the level of every logger.  Without it each sub-command has its own
default: INFO for the long-running ``serve`` and ``ingest``; for the one-shot commands WARNING
for codex-bot's own loggers and ERROR for libraries' (a retried request is not worth a line there);
``CODEX_BOT_LOG_FORMAT=json``
writes one JSON object per line (``time``, ``level``, ``logger``, ``message``, ``exception``)
instead of plain text, for log collectors.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Literal, TextIO

LogFormat = Literal["text", "json"]
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time (UTC, RFC 3339), level, logger, message, exception (or null)."""

    def format(self, record: logging.LogRecord) -> str:
        exception = self.formatException(record.exc_info) if record.exc_info else record.exc_text
        return json.dumps(
            {
                "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
                "level": record.levelname,
                "logger": record.name,
                "message": record.getMessage(),
                "exception": exception or None,
            },
            ensure_ascii=False,
        )


class _StderrHandler(logging.StreamHandler[TextIO]):
    """Writes to ``sys.stderr`` as it is when a record comes (test runners swap it)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: object) -> None:
        pass


@contextmanager
def logging_configured(level: str, fmt: LogFormat = "text", libraries: str | None = None) -> Iterator[None]:
    """Send codex-bot's records at ``level`` and above (other libraries' at ``libraries``, default the same)
    to stderr as text or JSON lines, until exit.

    Other handlers are left alone; on exit the loggers' levels and handlers are as they were
    (a sub-command run in-process, as the tests do, leaves no logging set-up behind).
    """
    root, ours = logging.getLogger(), logging.getLogger("codex_bot")
    handler = _StderrHandler()
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    previous = root.level, ours.level
    root.addHandler(handler)
    root.setLevel(libraries or level)
    ours.setLevel(level)
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(previous[0])
        ours.setLevel(previous[1])
