"""Breakdown rows: one row per label value with its columns and, optionally, its share of the total."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from codex_bot.formatting import Unit
from codex_bot.panels.measured import Measured

SHARE = "share_pct"


@dataclass(frozen=True)
class Column:
    key: str  # exact JSON key in each row
    unit: Unit
    parts: tuple[str, ...]  # grouped queries added together, e.g. ("input", "output") for tokens
    formula: str


@dataclass(frozen=True)
class Breakdown:
    """Rows by ``label``, sorted by the first column (largest first); rows that are all zero are left out."""

    label: str
    columns: tuple[Column, ...]
    share: bool = False  # add share_pct = 100 × first column / its total over all rows

    @property
    def main(self) -> Column:
        return self.columns[0]

    def units(self) -> dict[str, Unit]:
        units = {column.key: column.unit for column in self.columns}
        return {**units, SHARE: "percent"} if self.share else units

    def rows(self, measured: Measured) -> list[dict[str, Any]]:
        table: dict[str, dict[str, float]] = {}
        for column in self.columns:
            for part in column.parts:
                for name, value in measured.group(part).items():
                    row = table.setdefault(name, {c.key: 0.0 for c in self.columns})
                    row[column.key] += value
        rows: list[dict[str, Any]] = [
            {self.label: name, **values} for name, values in table.items() if any(values.values())
        ]
        rows.sort(key=lambda row: (-row[self.main.key], row[self.label]))
        return self._with_shares(rows) if self.share else rows

    def _with_shares(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        whole = sum(row[self.main.key] for row in rows)
        return [{**row, SHARE: 100.0 * row[self.main.key] / whole if whole else None} for row in rows]
