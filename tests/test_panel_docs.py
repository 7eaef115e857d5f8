"""docs/using.md lists every panel with its aliases, filters and figure/row keys (guards against drift)."""

from pathlib import Path

import pytest

from codex_bot.panels.catalog import PANELS

DOCS = (Path(__file__).parent.parent / "docs" / "using.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("panel", PANELS, ids=lambda p: p.name)
def test_panel_is_documented(panel):
    (line,) = [line for line in DOCS.splitlines() if line.startswith(f"| `{panel.name}` (")]
    for alias in panel.aliases:
        assert f"`{alias}`" in line
    assert f"| {', '.join(panel.filters)} |" in line
    for key in [f.key for f in panel.figures] + (list(panel.rows.units()) if panel.rows else []):
        assert f"`{key}`" in line
