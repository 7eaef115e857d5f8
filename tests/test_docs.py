"""The docs by audience stay true: docs/configuration.md is what Settings generates, every setting is
described, every relative link (file and #anchor) in README.md and docs/*.md leads somewhere, and the
metric contract table lists the contract's labels."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from codex_bot.settings import Settings, env_name
from codex_bot.settings_doc import PAGE, render
from codex_bot.telemetry.contract import FAMILIES

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def test_configuration_page_is_generated_from_settings():
    assert PAGE == ROOT / "docs" / "configuration.md"
    assert PAGE.read_text(encoding="utf-8") == render(), (
        "docs/configuration.md is stale: run `.venv/bin/python -m codex_bot.settings_doc --write`"
    )


@pytest.mark.parametrize("field", list(Settings.model_fields))
def test_every_setting_is_described_on_the_configuration_page(field):
    description = Settings.model_fields[field].description
    assert description, f"give Settings.{field} a docstring: it is its line in docs/configuration.md"
    (line,) = [line for line in render().splitlines() if line.startswith(f"| `{env_name(field)}` |")]
    assert line.endswith(f"| {description.replace('|', chr(92) + '|')} |")


def anchors(page: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces as dashes, repeats numbered."""
    seen: dict[str, int] = {}
    found = set()
    in_code = False
    for line in page.read_text(encoding="utf-8").splitlines():
        in_code ^= line.startswith("```")
        if in_code or not (match := re.match(r"#{1,6} (.+)", line)):
            continue
        slug = re.sub(r"[^\w\- ]", "", match.group(1).lower()).replace(" ", "-")
        found.add(f"{slug}-{seen[slug]}" if slug in seen else slug)
        seen[slug] = seen.get(slug, 0) + 1
    return found


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_relative_links_lead_to_a_file_and_heading(page):
    for target in LINK.findall(page.read_text(encoding="utf-8")):
        if re.match(r"[a-z]+:", target):
            continue
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        assert linked.exists(), f"{page.name}: link to missing {target}"
        if anchor:
            assert anchor in anchors(linked), f"{page.name}: no heading #{anchor} in {linked.name}"


def test_readme_is_short_and_links_every_page():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) < 80
    assert "make demo" in readme and "make test" in readme
    for page in sorted((ROOT / "docs").glob("*.md")):
        assert f"(docs/{page.name})" in readme, f"README.md does not link docs/{page.name}"


def test_the_metric_contract_table_lists_each_familys_labels():
    """docs/operating.md's contract table names every series with exactly the contract's labels, in order."""
    text = (ROOT / "docs" / "operating.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| `(codex_\w+)` \| (?:counter|histogram) \| ([^|]+) \|", text, flags=re.M))
    assert {name: tuple(re.findall(r"`(\w+)`", labels)) for name, labels in rows.items()} == {
        family.series_name: family.labels for family in FAMILIES
    }
