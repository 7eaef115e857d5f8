"""One stable colour per name (model, token type, tool, terminal, user, outcome) in every chart.

Well-known names have fixed colours; any other name gets a colour from a hash of the name, so a
model keeps its colour across panels, charts and processes.  Within one chart two names never
share a colour: a later name whose colour is taken moves to the next free one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

# A qualitative palette readable on white (Tableau 20 order, light tints last).
PALETTE: tuple[str, ...] = (
    "#4E79A7",
    "#F28E2B",
    "#59A14F",
    "#E15759",
    "#76B7B2",
    "#EDC948",
    "#B07AA1",
    "#FF9DA7",
    "#9C755F",
    "#BAB0AC",
    "#A0CBE8",
    "#FFBE7D",
    "#8CD17D",
    "#F1CE63",
    "#86BCB6",
    "#D37295",
    "#FABFD2",
    "#D4A6C8",
    "#D7B5A6",
    "#79706E",
)

FIXED: dict[str, str] = {
    # token types (codex_bot.telemetry.contract.TOKEN_TYPES)
    "input": "#4E79A7",
    "output": "#F28E2B",
    "cached_input": "#76B7B2",
    "reasoning_output": "#B07AA1",
    # outcomes and approval decisions
    "succeeded": "#59A14F",
    "failed": "#E15759",
    "approved": "#59A14F",
    "approved_for_session": "#8CD17D",
    "denied": "#E15759",
    "abort": "#79706E",
    # Codex models people see most
    "gpt-5-codex": "#4E79A7",
    "gpt-5": "#F28E2B",
    "gpt-5-mini": "#EDC948",
    "gpt-5.1-codex": "#A0CBE8",
    "o3": "#B07AA1",
    "o4-mini": "#FF9DA7",
    "codex-mini-latest": "#9C755F",
    "gpt-4.1": "#86BCB6",
}

OTHER = "#BAB0AC"  # the "other" slice that gathers the long tail
REST = "#E6E6E6"  # the unfilled part of a gauge
THRESHOLD = "#D62728"
FIRING_FILL = "#FBE0E0"  # opaque: overlapping bars of the window show no seams


def colour(name: str) -> str:
    """The colour of ``name`` everywhere (before in-chart de-duplication)."""
    if name in FIXED:
        return FIXED[name]
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    return PALETTE[int.from_bytes(digest[:4], "big") % len(PALETTE)]


def colours(names: Sequence[str]) -> list[str]:
    """Colours for the names of one chart: each name's own colour unless an earlier name took it."""
    used: set[str] = set()
    chosen = []
    for name in names:
        wanted = colour(name)
        if wanted in used and len(used) < len(PALETTE):
            start = PALETTE.index(wanted) if wanted in PALETTE else 0
            wanted = next(
                c for c in (PALETTE[(start + i) % len(PALETTE)] for i in range(len(PALETTE))) if c not in used
            )
        used.add(wanted)
        chosen.append(wanted)
    return chosen


def translucent(hex_colour: str, alpha: float) -> str:
    """``#RRGGBB`` as an ``rgba()`` string (area fills)."""
    red, green, blue = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red}, {green}, {blue}, {alpha})"
