"""Alert states and firing episodes in the state database (tables from :mod:`codex_bot.store`).

An *episode* is one firing of one rule+group, from firing to resolution; its row also carries
what was sent about it (outbox keys, last reminder, acknowledgement).  Digests read the
episodes of a period with :meth:`AlertRecords.fired_between`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import RowMapping

from codex_bot.alerts.evaluate import StateKey, Transition
from codex_bot.alerts.rules import Rule
from codex_bot.alerts.state import AlertState
from codex_bot.store import Store, Tx, add_migration

# Databases made before the alert tables had their own migration got them from store/001-core: IF NOT EXISTS.
add_migration(
    "alerts/001-states-and-episodes",
    """CREATE TABLE IF NOT EXISTS alert_states (
        rule TEXT NOT NULL,
        group_key TEXT NOT NULL,       -- canonical JSON of the group labels, "{}" without group_by
        labels TEXT NOT NULL,
        state TEXT NOT NULL,           -- inactive | pending | firing | nodata | error
        value {real},
        threshold {real},
        active_since {real},           -- start of the current pending/firing run (unix seconds)
        evaluated_at {real} NOT NULL,
        episode_id INTEGER,            -- the open firing episode, if any
        PRIMARY KEY (rule, group_key)
    )""",
    """CREATE TABLE IF NOT EXISTS alert_episodes (
        id {id},
        rule TEXT NOT NULL,
        group_key TEXT NOT NULL,
        labels TEXT NOT NULL,
        severity TEXT NOT NULL,
        started_at {real} NOT NULL,    -- when the condition started to hold
        fired_at {real} NOT NULL,      -- when `for` was satisfied
        value {real},
        threshold {real},
        resolved_at {real},
        resolved_value {real},
        resolve_reason TEXT,
        posted_key TEXT,               -- outbox key of the firing message, once enqueued
        resolution_key TEXT,           -- outbox key of the resolution, once enqueued
        last_notified_at {real},
        acknowledged_by TEXT,
        acknowledged_at {real}
    )""",
    "CREATE INDEX IF NOT EXISTS alert_episodes_open ON alert_episodes (rule, group_key, resolved_at)",
    "CREATE INDEX IF NOT EXISTS alert_episodes_fired ON alert_episodes (fired_at)",
)
add_migration("alerts/002-episode-unit", "ALTER TABLE alert_episodes ADD COLUMN unit TEXT NOT NULL DEFAULT ''")
# At most one open episode per rule and group, even when two replicas' cycles overlap (PostgreSQL
# runs their transactions side by side): the second INSERT meets this index and does nothing.
add_migration(
    "alerts/003-one-open-episode",
    "CREATE UNIQUE INDEX alert_episodes_one_open ON alert_episodes (rule, group_key) WHERE resolved_at IS NULL",
)


def _ts(moment: datetime | None) -> float | None:
    return None if moment is None else moment.timestamp()


def _dt(value: float | None) -> datetime | None:
    return None if value is None else _at(value)


def _at(value: float) -> datetime:
    """A NOT NULL time column."""
    return datetime.fromtimestamp(value, UTC)


@dataclass(frozen=True)
class EpisodeRecord:
    id: int
    rule: str
    labels: dict[str, str]
    severity: str
    started_at: datetime
    fired_at: datetime
    value: float | None
    threshold: float | None
    resolved_at: datetime | None
    resolved_value: float | None
    resolve_reason: str | None
    posted_key: str | None
    resolution_key: str | None
    last_notified_at: datetime | None
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    unit: str = ""  # the rule figure's unit ("percent", "seconds", ...), for humanizing value and threshold

    @classmethod
    def from_row(cls, row: RowMapping) -> EpisodeRecord:
        return cls(
            row["id"],
            row["rule"],
            json.loads(row["labels"]),
            row["severity"],
            _at(row["started_at"]),
            _at(row["fired_at"]),
            row["value"],
            row["threshold"],
            _dt(row["resolved_at"]),
            row["resolved_value"],
            row["resolve_reason"],
            row["posted_key"],
            row["resolution_key"],
            _dt(row["last_notified_at"]),
            row["acknowledged_by"],
            _dt(row["acknowledged_at"]),
            row["unit"] or "",
        )

    @property
    def open(self) -> bool:
        return self.resolved_at is None


class AlertRecords:
    def __init__(self, store: Store) -> None:
        self.store = store

    # --- states ---

    def states(self) -> dict[StateKey, AlertState]:
        """The last stored state of every rule+group."""
        rows = self.store.fetchall(
            "SELECT s.*, e.fired_at AS fired FROM alert_states s LEFT JOIN alert_episodes e ON e.id = s.episode_id"
        )
        states = {}
        for row in rows:
            state = AlertState(
                row["rule"],
                json.loads(row["labels"]),
                row["state"],
                _at(row["evaluated_at"]),
                row["value"],
                row["threshold"],
                _dt(row["active_since"]),
                _dt(row["fired"]),
            )
            states[(state.rule, state.key)] = state
        return states

    def save(
        self, tx: Tx, states: Iterable[AlertState], transitions: Iterable[Transition], rules: Mapping[str, Rule]
    ) -> None:
        """Store the new states; open and close episodes for the transitions (in the caller's transaction)."""
        for t in transitions:
            if t.closed:
                self._close(tx, t)
            if t.opened:
                self._open(tx, t.state, rules[t.state.rule])
        for state in states:
            row = tx.one(
                "SELECT id FROM alert_episodes WHERE rule = :rule AND group_key = :key AND resolved_at IS NULL",
                {"rule": state.rule, "key": state.key},
            )
            tx.execute(
                "INSERT INTO alert_states (rule, group_key, labels, state, value, threshold, active_since, evaluated_at,"
                " episode_id) VALUES (:rule, :key, :labels, :state, :value, :threshold, :since, :at, :episode)"
                " ON CONFLICT (rule, group_key) DO UPDATE SET labels = excluded.labels, state = excluded.state,"
                " value = excluded.value, threshold = excluded.threshold, active_since = excluded.active_since,"
                " evaluated_at = excluded.evaluated_at, episode_id = excluded.episode_id",
                {
                    "rule": state.rule,
                    "key": state.key,
                    "labels": json.dumps(dict(state.labels)),
                    "state": state.state,
                    "value": state.value,
                    "threshold": state.threshold,
                    "since": _ts(state.active_since),
                    "at": _ts(state.evaluated_at),
                    "episode": row["id"] if row and state.firing else None,
                },
            )

    def forget(self, tx: Tx, rules: Iterable[str]) -> None:
        """Drop the states of rules that no longer exist (their open episodes are closed as removed)."""
        names = {f"r{i}": name for i, name in enumerate(rules)}
        marks = ", ".join(f":{mark}" for mark in names)
        tx.execute(f"DELETE FROM alert_states WHERE rule IN ({marks})", names)
        tx.execute(
            f"UPDATE alert_episodes SET resolved_at = :now, resolve_reason = 'rule removed'"
            f" WHERE rule IN ({marks}) AND resolved_at IS NULL",
            {**names, "now": time.time()},
        )

    def _open(self, tx: Tx, state: AlertState, rule: Rule) -> None:
        """Open an episode unless one is open already (another replica's overlapping cycle opened it).

        Looked up first, so PostgreSQL draws no episode number for nothing; when two replicas race past the
        look-up, the unique index on open episodes turns the second INSERT into nothing."""
        if tx.one(
            "SELECT id FROM alert_episodes WHERE rule = :rule AND group_key = :key AND resolved_at IS NULL",
            {"rule": state.rule, "key": state.key},
        ):
            return
        tx.execute(
            "INSERT INTO alert_episodes (rule, group_key, labels, severity, unit, started_at, fired_at, value,"
            " threshold) VALUES (:rule, :key, :labels, :severity, :unit, :started, :fired, :value, :threshold)"
            " ON CONFLICT DO NOTHING",
            {
                "rule": state.rule,
                "key": state.key,
                "labels": json.dumps(dict(state.labels)),
                "severity": rule.severity,
                "unit": rule.figure.unit,
                "started": _ts(state.active_since or state.evaluated_at),
                "fired": _ts(state.fired_at),
                "value": state.value,
                "threshold": state.threshold,
            },
        )

    def _close(self, tx: Tx, t: Transition) -> None:
        reason = "no data" if t.state.state == "nodata" else (t.state.reason or "recovered")
        tx.execute(
            "UPDATE alert_episodes SET resolved_at = :at, resolved_value = :value, resolve_reason = :reason"
            " WHERE rule = :rule AND group_key = :key AND resolved_at IS NULL",
            {
                "at": _ts(t.state.evaluated_at),
                "value": t.state.value,
                "reason": reason,
                "rule": t.state.rule,
                "key": t.state.key,
            },
        )

    # --- episodes ---

    def episode(self, episode_id: int) -> EpisodeRecord | None:
        row = self.store.fetchone("SELECT * FROM alert_episodes WHERE id = :id", {"id": episode_id})
        return EpisodeRecord.from_row(row) if row else None

    def needing_notice(self) -> list[EpisodeRecord]:
        """Open episodes, and closed ones whose firing was posted but whose resolution was not."""
        rows = self.store.fetchall(
            "SELECT * FROM alert_episodes WHERE resolved_at IS NULL"
            " OR (posted_key IS NOT NULL AND resolution_key IS NULL) ORDER BY id"
        )
        return [EpisodeRecord.from_row(row) for row in rows]

    def fired_between(self, start: datetime, end: datetime) -> list[EpisodeRecord]:
        """Episodes that fired in [start, end) — for digests."""
        rows = self.store.fetchall(
            "SELECT * FROM alert_episodes WHERE fired_at >= :start AND fired_at < :end ORDER BY fired_at",
            {"start": start.timestamp(), "end": end.timestamp()},
        )
        return [EpisodeRecord.from_row(row) for row in rows]

    def open_episode(self, rule: str, labels: dict[str, str] | None = None) -> list[EpisodeRecord]:
        rows = self.store.fetchall(
            "SELECT * FROM alert_episodes WHERE rule = :rule AND resolved_at IS NULL ORDER BY id", {"rule": rule}
        )
        found = [EpisodeRecord.from_row(row) for row in rows]
        return [e for e in found if labels is None or e.labels == labels]

    @staticmethod
    def mark(tx: Tx, episode_id: int, **columns: object) -> None:
        """Update the notification columns of an episode (posted_key, resolution_key, last_notified_at, ...)."""
        allowed = {"posted_key", "resolution_key", "last_notified_at", "acknowledged_by", "acknowledged_at"}
        if not set(columns) <= allowed:
            raise ValueError(f"not an episode notification column: {set(columns) - allowed}")
        values = {name: _ts(v) if isinstance(v, datetime) else v for name, v in columns.items()}
        assignments = ", ".join(f"{name} = :{name}" for name in columns)
        tx.execute(
            f"UPDATE alert_episodes SET {assignments} WHERE id = :episode_id", {**values, "episode_id": episode_id}
        )
