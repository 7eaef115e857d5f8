"""A transport for terminals and demos: prints messages readably and writes chart PNGs to a folder."""

from __future__ import annotations

import re
import sys
from itertools import count
from pathlib import Path
from typing import Any, TextIO

from slack_sdk.models.views import View

from codex_bot.delivery.message import Delivery, Destination, Message
from codex_bot.errors import ChartUnavailable
from codex_bot.slack.mrkdwn import unescape
from codex_bot.store import MessageRef

_EMPHASIS = re.compile(r"(?<![\w*_])([*_])(\S(?:[^*_\n]*\S)?)\1(?![\w*_])")
_LINK = re.compile(r"<([^|<>]+)\|([^<>]+)>")


def plain(mrkdwn: str) -> str:
    """Slack mrkdwn as terminal text: bold/italic markers and link markup removed, code fences dropped."""
    text = _LINK.sub(r"\2 (\1)", mrkdwn.replace("```", ""))
    return unescape(_EMPHASIS.sub(r"\2", text))


def _text(obj: dict[str, Any] | None) -> str:
    return plain(obj.get("text", "")) if obj else ""


def _field(field: dict[str, Any]) -> str:
    """A two-or-more-line field (label, value, change) on one line: ``Input: 3.4M  +25.0 % …``."""
    name, *rest = _text(field).splitlines() or [""]
    return f"{name}: {'  '.join(rest)}" if rest else name


def _element(element: dict[str, Any]) -> str:
    """A button's text, or a select's choice: ``Range: 7d ▾``."""
    if "text" in element:
        return _text(element["text"])
    chosen = _text((element.get("initial_option") or {}).get("text"))
    return f"{_text(element.get('placeholder'))}: {chosen} ▾"


def _block_lines(block: dict[str, Any]) -> list[str]:
    kind = block.get("type")
    if kind == "header":
        title = _text(block.get("text"))
        return [title, "=" * len(title)]
    if kind == "section":
        lines = _text(block.get("text")).splitlines() if block.get("text") else []
        return lines + ["  " + _field(f) for f in block.get("fields") or []]
    if kind == "context":
        return ["  " + " · ".join(_text(e) if e.get("type") != "image" else "" for e in block["elements"])]
    if kind == "image":
        return [f"[image: {block.get('alt_text', '')} {block.get('image_url', '')}]".replace("  ", " ")]
    if kind == "divider":
        return ["-" * 40]
    if kind == "actions":
        return ["  " + " ".join(f"[ {_element(e)} ]" for e in block.get("elements") or [])]
    return [f"[{kind} block]"]


def blocks_to_text(blocks: list[dict[str, Any]]) -> str:
    """Block Kit (as JSON dicts) as readable plain text."""
    return "\n".join(line for block in blocks for line in _block_lines(block))


def describe(to: Destination) -> str:
    """``#C123 (ephemeral to U42)`` for headers and logs."""
    where = to.channel + (f" thread {to.thread_ts}" if to.thread_ts else "")
    return where + (f" (ephemeral to {to.user})" if to.ephemeral else "")


class ConsoleTransport:
    """A :class:`~codex_bot.delivery.transport.Transport` that prints; charts become files in ``chart_dir``."""

    def __init__(self, chart_dir: Path, out: TextIO | None = None) -> None:
        self.chart_dir = chart_dir
        self.out = out if out is not None else sys.stdout
        self._numbers = count(1)

    def send(self, message: Message, destination: Destination) -> Delivery:
        return self._print(message, destination.channel, f"→ {describe(destination)}")

    def update(self, ref: MessageRef, message: Message) -> Delivery:
        return self._print(message, ref.channel, f"edits {ref.channel} {ref.ts}")

    def _print(self, message: Message, channel: str, where: str) -> Delivery:
        number = next(self._numbers)
        delivery = Delivery(channel=channel, ts=f"{number}.000000")
        body = blocks_to_text(message.blocks_json()) if message.blocks else message.text
        print(f"── message {number} {where} ──", file=self.out)
        print(body, file=self.out)
        for chart in message.charts:
            path = self._write(number, chart.filename, chart.png)
            delivery.files.append(str(path))
            print(f"[chart: {chart.title} → {path}]", file=self.out)
        print(file=self.out, flush=True)
        return delivery

    def _write(self, number: int, filename: str, png: bytes) -> Path:
        self.chart_dir.mkdir(parents=True, exist_ok=True)
        path = self.chart_dir / f"{number:03d}-{Path(filename).name}"
        path.write_bytes(png)
        return path


class ConsoleSurfaces:
    """The App Home's surfaces (:class:`~codex_bot.slack.surfaces.Surfaces`) for terminals: views are
    printed, charts written to ``chart_dir`` (``000-home-….png``; None: no chart), and there are no permalinks."""

    def __init__(self, chart_dir: Path | None, out: TextIO | None = None) -> None:
        self.chart_dir = chart_dir
        self.out = out if out is not None else sys.stdout

    def publish_home(self, user_id: str, view: View) -> None:
        print(f"── App Home of {user_id} (views.publish) ──", file=self.out)
        print(blocks_to_text(view.to_dict()["blocks"]), file=self.out)
        print(file=self.out, flush=True)

    def upload_image(self, png: bytes, filename: str, title: str) -> str:
        if self.chart_dir is None:
            raise ChartUnavailable("Chart not shown: the printed view has no folder for it.")
        self.chart_dir.mkdir(parents=True, exist_ok=True)
        path = self.chart_dir / f"000-home-{Path(filename).name}"
        path.write_bytes(png)
        print(f"[chart: {title} → {path}]", file=self.out)
        return str(path)

    def permalink(self, ref: MessageRef) -> str | None:
        return None
