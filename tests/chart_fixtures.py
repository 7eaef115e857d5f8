"""Chart test helpers: a PanelResult for every panel, the bundled renderer as a fixture, a PNG reader.

Import the fixture into a test module with ``from chart_fixtures import chart_renderer``.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from codex_bot.charts.local_renderer import LocalRenderer
from codex_bot.charts.renderer import ChartRenderer
from codex_bot.metrics.ranges import TimeRange
from codex_bot.panels.catalog import find_panel
from codex_bot.panels.result import PanelResult, Series

END = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
WEEK = TimeRange(END - timedelta(days=7), END, "7d", 3600)
MODELS = ("gpt-5-codex", "gpt-5", "o4-mini", "gpt-5-mini")
USERS = tuple(f"dev{i:02d}@example.com" for i in range(14))


@pytest.fixture(scope="session")
def chart_renderer() -> Iterator[ChartRenderer]:
    """A ChartRenderer talking to the bundled renderer, started once per test session."""
    with LocalRenderer() as local:
        yield ChartRenderer(local.url, timeout=10)


def hourly(name: str, scale: float, hours: int = 168, time_range: TimeRange = WEEK) -> Series:
    """A daily-cycle series: busy working hours, quiet nights (deterministic)."""
    points = []
    for h in range(hours + 1):
        t = time_range.start + timedelta(hours=h)
        busy = 1.0 if 8 <= t.hour <= 18 and t.weekday() < 5 else 0.15
        points.append((t, round(scale * busy * (1 + 0.3 * ((h * 7) % 5) / 5), 3)))
    return Series(name, points)


# Chart kinds for the headline-figure panels whose catalog entry says "none", so that every chart
# the charts module can draw is drawn here (a digest charts 14 panels: all but "cached").
def result(name: str, **data: object) -> PanelResult:
    """A result for catalog panel ``name`` (its title, unit, shape, chart kind, units) holding ``data``."""
    panel = find_panel(name)
    return PanelResult(
        panel.name,
        panel.title,
        panel.unit,
        panel.shape,
        panel.chart_kind,
        WEEK,  # type: ignore[arg-type]
        units=panel.units(),
        **data,
    )  # type: ignore[arg-type]


def shares(label: str, measure: str, counts: dict[str, float]) -> list[dict[str, object]]:
    total = sum(counts.values())
    return [{label: k, measure: v, "share_pct": 100 * v / total} for k, v in counts.items()]


def every_panel() -> dict[str, PanelResult]:
    """One realistic result per catalog panel, shaped as the panels service answers."""
    model_calls = {m: 900 // (i + 1) for i, m in enumerate(MODELS)}
    model_tokens = {m: 4_200_000 // (i + 1) ** 2 for i, m in enumerate(MODELS)}
    return {
        "tokens": result("tokens", figures={"input": 3_400_000, "output": 1_150_000, "total": 4_550_000}),
        "cached": result("cached", figures={"cached_input": 2_100_000}),
        "cache-rate": result("cache-rate", figures={"cache_rate_pct": 61.8}),
        "sessions": result("sessions", figures={"conversations": 212, "model_calls": 1_874}),
        "p95": result("p95", figures={"p95_seconds": 4.2}, series=[hourly("p95", 3.0)]),
        "usage": result(
            "usage", figures={"total": 4_550_000}, series=[hourly("input", 30_000), hourly("output", 9_000)]
        ),
        "conversations": result("conversations", figures={"conversations": 212}, series=[hourly("conversations", 3)]),
        "success": result("success", figures={"success_rate_pct": 97.3, "requests": 1_874, "failed": 51}),
        "terminals": result(
            "terminals",
            rows=shares(
                "terminal", "conversations", {"vscode": 120, "iTerm.app": 51, "xterm": 30, "Apple_Terminal": 11}
            ),
        ),
        "users": result(
            "users",
            rows=[
                {"user": u, "prompts": 300 - 19 * i, "conversations": 40 - 2 * i, "tokens": 900_000 - 50_000 * i}
                for i, u in enumerate(USERS)
            ],
        ),
        "models": result("models", rows=shares("model", "model_calls", model_calls)),
        "model-tokens": result("model-tokens", rows=shares("model", "tokens", model_tokens)),
        "tools": result(
            "tools",
            rows=shares(
                "tool",
                "calls",
                {
                    "exec_command": 1_530,
                    "apply_patch": 610,
                    "read_file": 420,
                    "mcp__github__create_pull_request": 35,
                    "web_search": 12,
                },
            ),
        ),
        "decisions": result(
            "decisions",
            rows=shares("decision", "count", {"approved": 410, "approved_for_session": 120, "denied": 25, "abort": 6}),
        ),
        "cost": result(
            "cost",
            figures={"total_usd": 41.27},
            notes=["estimate"],
            rows=[{"model": m, "usd": round(t / 1e6 * 6.1, 2)} for m, t in model_tokens.items()],
        ),
    }


@dataclass(frozen=True)
class Png:
    width: int
    height: int
    pixels: list[bytes]  # one entry per pixel (RGB or RGBA bytes)


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else b if pb <= pc else c


def _add_bytes(a: bytes, b: bytes) -> bytes:
    """Byte-wise (a + b) mod 256 of two equal-length strings, on big integers (no per-byte loop)."""
    low, high = int.from_bytes(b"\x7f" * len(a), "big"), int.from_bytes(b"\x80" * len(a), "big")
    x, y = int.from_bytes(a, "big"), int.from_bytes(b, "big")
    return (((x & low) + (y & low)) ^ ((x ^ y) & high)).to_bytes(len(a), "big")


def _unfilter(kind: int, line: bytearray, prior: bytes, bpp: int) -> bytes:
    if kind == 0:
        return bytes(line)
    if kind == 2:  # "Up", the most common filter in rendered charts
        return _add_bytes(bytes(line), prior)
    for i in range(len(line)):
        left = line[i - bpp] if i >= bpp else 0
        up = prior[i]
        corner = prior[i - bpp] if i >= bpp else 0
        predictor = (0, left, up, (left + up) // 2, _paeth(left, up, corner))[kind]
        line[i] = (line[i] + predictor) & 0xFF
    return bytes(line)


def read_png(data: bytes) -> Png:
    """Decode an 8-bit RGB/RGBA, non-interlaced PNG (what the renderer writes) with zlib only."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, chunks, header = 8, [], b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        header = body if kind == b"IHDR" else header
        chunks += [body] if kind == b"IDAT" else []
        pos += 12 + length
    width, height, depth, colour_type, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert depth == 8 and colour_type in (2, 6) and interlace == 0, "unsupported PNG variant"
    bpp = 4 if colour_type == 6 else 3
    raw, stride, prior = zlib.decompress(b"".join(chunks)), width * bpp, bytes(width * bpp)
    pixels = []
    for row in range(height):
        start = row * (stride + 1)
        line = _unfilter(raw[start], bytearray(raw[start + 1 : start + 1 + stride]), prior, bpp)
        pixels += [bytes(line[i : i + bpp]) for i in range(0, stride, bpp)]
        prior = line
    return Png(width, height, pixels)
