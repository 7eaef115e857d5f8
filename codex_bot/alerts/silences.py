"""Silences: a rule (optionally only some of its groups) is not notified until a given time.

A silenced alert is still evaluated and recorded; only its messages are held back.  When the
silence ends while the alert still fires, the firing message goes out then.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import RowMapping

from codex_bot.store import Store, add_migration

# Databases made before silences had their own migration got the table from store/001-core: IF NOT EXISTS.
add_migration(
    "alerts/001-silences",
    """CREATE TABLE IF NOT EXISTS silences (
        id {id},
        rule TEXT NOT NULL,
        matchers TEXT NOT NULL,        -- JSON object of labels that must match; {} = every group
        starts_at {real} NOT NULL,
        ends_at {real} NOT NULL,
        created_by TEXT NOT NULL,
        comment TEXT NOT NULL DEFAULT ''
    )""",
    "CREATE INDEX IF NOT EXISTS silences_active ON silences (rule, ends_at)",
)


@dataclass(frozen=True)
class Silence:
    id: int
    rule: str
    matchers: dict[str, str]  # labels that must match; {} silences every group of the rule
    starts_at: datetime
    ends_at: datetime
    created_by: str
    comment: str

    def covers(self, rule: str, labels: Mapping[str, str], at: datetime) -> bool:
        matching = all(labels.get(k) == v for k, v in self.matchers.items())
        return self.rule == rule and matching and self.starts_at <= at < self.ends_at

    @classmethod
    def from_row(cls, row: RowMapping) -> Silence:
        return cls(
            row["id"],
            row["rule"],
            json.loads(row["matchers"]),
            datetime.fromtimestamp(row["starts_at"], UTC),
            datetime.fromtimestamp(row["ends_at"], UTC),
            row["created_by"],
            row["comment"],
        )


class Silences:
    def __init__(self, store: Store) -> None:
        self.store = store

    def add(
        self,
        rule: str,
        starts_at: datetime,
        ends_at: datetime,
        created_by: str,
        matchers: Mapping[str, str] | None = None,
        comment: str = "",
    ) -> Silence:
        with self.store.transaction() as tx:
            row = tx.one(
                "INSERT INTO silences (rule, matchers, starts_at, ends_at, created_by, comment) VALUES"
                " (:rule, :matchers, :starts, :ends, :by, :comment) RETURNING *",
                {
                    "rule": rule,
                    "matchers": json.dumps(dict(matchers or {}), sort_keys=True),
                    "starts": starts_at.timestamp(),
                    "ends": ends_at.timestamp(),
                    "by": created_by,
                    "comment": comment,
                },
            )
        assert row is not None
        return Silence.from_row(row)

    def end(self, rule: str, at: datetime) -> int:
        """End every active silence of ``rule`` now; returns how many there were."""
        with self.store.transaction() as tx:
            cursor = tx.execute(
                "UPDATE silences SET ends_at = :at WHERE rule = :rule AND ends_at > :at",
                {"at": at.timestamp(), "rule": rule},
            )
            return cursor.rowcount

    def active(self, at: datetime) -> list[Silence]:
        rows = self.store.fetchall(
            "SELECT * FROM silences WHERE starts_at <= :at AND ends_at > :at ORDER BY ends_at",
            {"at": at.timestamp()},
        )
        return [Silence.from_row(row) for row in rows]

    def ended(self, rule: str, labels: Mapping[str, str], after: datetime, until: datetime) -> list[Silence]:
        """Silences of ``rule`` matching ``labels`` that ended in (``after``, ``until``], earliest first."""
        rows = self.store.fetchall(
            "SELECT * FROM silences WHERE rule = :rule AND ends_at > :after AND ends_at <= :until ORDER BY ends_at",
            {"rule": rule, "after": after.timestamp(), "until": until.timestamp()},
        )
        silences = [Silence.from_row(row) for row in rows]
        return [s for s in silences if all(labels.get(k) == v for k, v in s.matchers.items())]

    def covering(self, rule: str, labels: Mapping[str, str], at: datetime) -> Silence | None:
        return next((s for s in self.active(at) if s.covers(rule, labels, at)), None)
