"""Which channel an alert goes to: the rule's own, then by label, then by severity, then the default.

In a rules file::

    routing:
      default: "#codex-alerts"
      by_severity: {critical: "#codex-oncall"}
      by_label:
        team: {payments: "#payments-codex"}
"""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field

from codex_bot.alerts.rules import Rule, Severity


class Routing(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    default: str | None = None
    by_severity: dict[Severity, str] = Field(default_factory=dict)
    by_label: dict[str, dict[str, str]] = Field(default_factory=dict)

    def channel_for(self, rule: Rule, labels: Mapping[str, str]) -> str | None:
        """The channel for ``rule``'s alert with ``labels`` (None: nowhere to send it)."""
        if rule.channel:
            return rule.channel
        for label, channels in self.by_label.items():
            value = labels.get(label, rule.filters.get(label))
            if value is not None and value in channels:
                return channels[value]
        return self.by_severity.get(rule.severity, self.default)

    def unrouted(self, rules: list[Rule]) -> list[Rule]:
        """The rules whose alerts could go nowhere."""
        return [r for r in rules if not r.channel and r.severity not in self.by_severity and self.default is None]
