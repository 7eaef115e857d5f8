"""One person's usage next to the team's: the panels of ``/codex me`` and the App Home "You" line.

The person's panels are the catalog's, filtered on their ``user`` label; their share of the team
is their figure over the same figure without the filter, never a rank.  Tool calls and approval
decisions are per person too (``codex_tool_calls`` and ``codex_tool_decisions`` carry ``user``); a
person who never made a tool call (or was never asked to approve one) has no ``user`` value on
those series, so their tool panels are asked without checking the value: they come back empty
instead of calling the person unknown.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from codex_bot.errors import BadFilter, UserError
from codex_bot.panels.request import PanelRequest
from codex_bot.panels.result import PanelResult
from codex_bot.panels.service import PanelRunner

MINE = ("tokens", "cost", "conversations", "model-tokens", "tools", "decisions")  # the person's (each takes user=)
TOOL_PANELS = ("tools", "decisions")  # may be empty for a person who has the others (see the docstring)
TEAM = ("tokens", "cost", "conversations")  # the team totals their shares are taken of
SHARED = (("tokens", "total"), ("cost", "total_usd"), ("conversations", "conversations"))  # (panel, figure)


class NoUsage(UserError):
    """Prometheus has no series for the person at all."""


@dataclass(frozen=True)
class Share:
    panel: str
    figure: str
    mine: float | None
    team: float | None

    @property
    def percent(self) -> float | None:
        return None if self.mine is None or not self.team else 100.0 * self.mine / self.team


@dataclass(frozen=True)
class PersonalUsage:
    label: str  # the person's telemetry user label
    mine: dict[str, PanelResult]  # by panel name
    team: dict[str, PanelResult]

    def row_total(self, panel: str, column: str) -> float | None:
        """The sum of ``column`` over the rows of the person's ``panel`` (0 without rows; None if not asked)."""
        result = self.mine.get(panel)
        return None if result is None else sum(row[column] or 0 for row in result.rows)

    @property
    def shares(self) -> list[Share]:
        return [
            Share(panel, key, self.mine[panel].figures.get(key), self.team[panel].figures.get(key))
            for panel, key in SHARED
            if panel in self.mine and panel in self.team
        ]


def personal_usage(
    panels: PanelRunner,
    label: str,
    range_text: str,
    at: datetime,
    mine: tuple[str, ...] = MINE,
    team: tuple[str, ...] = TEAM,
) -> PersonalUsage:
    """The person's ``mine`` panels and the team's ``team`` panels over ``range_text`` as of ``at``;
    :class:`NoUsage` when Prometheus knows the person's label on none of their non-tool panels."""
    requests = [PanelRequest(name, range_text, {"user": label}, check_values=name not in TOOL_PANELS) for name in mine]
    requests += [PanelRequest(name, range_text) for name in team]
    try:
        results = panels.run_many(requests, at)
    except BadFilter:  # its message would suggest other people's labels: say only that there is nothing
        raise NoUsage(f"I find no Codex telemetry for you (as `{label}`) in Prometheus yet.") from None
    return PersonalUsage(label, dict(zip(mine, results[: len(mine)])), dict(zip(team, results[len(mine) :])))
