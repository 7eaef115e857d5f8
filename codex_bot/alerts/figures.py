"""A rule's figure reference (``panel.figure``), checked against the panel catalog."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property

from codex_bot.errors import UserError
from codex_bot.panels.catalog import PANELS, Panel, find_panel
from codex_bot.panels.figures import Figure


@dataclass(frozen=True)
class FigureRef:
    panel: str  # canonical panel name
    key: str  # figure key, e.g. "success_rate_pct"

    def __str__(self) -> str:
        return f"{self.panel}.{self.key}"

    @cached_property
    def definition(self) -> Panel:
        return find_panel(self.panel)

    @cached_property
    def figure(self) -> Figure:
        return next(f for f in self.definition.figures if f.key == self.key)

    @property
    def unit(self) -> str:
        return self.figure.unit


def _figure_list() -> str:
    return ", ".join(f"{p.name}.{f.key}" for p in PANELS for f in p.figures)


def parse_figure_ref(text: str) -> FigureRef:
    """``success.success_rate_pct`` → FigureRef; ValueError listing the valid figures otherwise."""
    panel_text, dot, key = text.strip().rpartition(".")
    if not dot or not panel_text:
        raise ValueError(f"{text!r} is not a figure; write panel.figure, one of: {_figure_list()}")
    try:
        panel = find_panel(panel_text)
    except UserError as exc:
        raise ValueError(str(exc)) from None
    keys = [f.key for f in panel.figures]
    if key not in keys:
        listed = ", ".join(keys) or "none (it has no single-number figures)"
        raise ValueError(f"the {panel.name} panel has no figure {key!r}; its figures: {listed}")
    return FigureRef(panel.name, key)


def check_filters(panel: str, filters: Mapping[str, str]) -> None:
    try:
        find_panel(panel).check_filter_keys(filters)
    except UserError as exc:
        raise ValueError(str(exc)) from None


def check_group_by(panel: str, labels: Iterable[str], filters: Mapping[str, str]) -> None:
    definition = find_panel(panel)
    for label in labels:
        if label not in definition.filters:
            valid = ", ".join(definition.filters) or "none"
            raise ValueError(f"the {panel} panel cannot be grouped by {label!r}; it can by: {valid}")
        if label in filters:
            raise ValueError(f"{label!r} is both a filter and a group_by label; keep one")
