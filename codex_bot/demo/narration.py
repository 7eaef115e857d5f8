"""The demo's own lines around the bot's messages, and its closing summary."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from codex_bot.alerts.records import EpisodeRecord
from codex_bot.demo.fleet import DemoFleet
from codex_bot.settings import Settings


@dataclass
class DemoReport:
    """What ran, for the closing summary and for tests."""

    fleet: DemoFleet | None = None
    events: int = 0
    series: int = 0
    commands: list[str] = field(default_factory=list)
    alerts: list[EpisodeRecord] = field(default_factory=list)
    digest: str | None = None  # the posted digest's title
    home: dict[str, Any] | None = None  # the App Home view it published for the demo's person
    charts: list[Path] = field(default_factory=list)
    pids: tuple[int, ...] = ()
    timings: dict[str, float] = field(default_factory=dict)
    workdir: Path | None = None  # the working folder (removed at the end unless kept)


class Narrator:
    """The demo's own lines around the bot's messages."""

    def __init__(self, out: TextIO, settings: Settings) -> None:
        self.out = out
        self.tz = settings.tz

    def say(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    def section(self, text: str) -> None:
        self.say(f"\n━━ {text} ━━\n")

    def moment(self, at: datetime) -> str:
        return f"{at.astimezone(self.tz):%a %d %b %H:%M} {self.tz.key}"

    def span(self, start: datetime, end: datetime) -> str:
        return f"{start.astimezone(self.tz):%a %d %b %H:%M}–{end.astimezone(self.tz):%H:%M} {self.tz.key}"


def summary(report: DemoReport, say: Narrator, where: str, kept: bool) -> None:
    """What ran, how long it took, where the output is, and what was stopped."""
    timings, fleet = report.timings, report.fleet
    assert fleet is not None
    say.section(f"Done in {timings['total']:.0f} s")
    say.say(
        f"  fleet     {fleet.config.developers} developers × {fleet.config.days:g} days: {report.events:,} events, "
        f"{report.series:,} series (simulate + backfill {timings['simulate + backfill']:.0f} s)"
    )
    say.say(f"  commands  {len(report.commands)} answered: " + ", ".join(report.commands))
    for episode in report.alerts:
        resolved = f"resolved {say.moment(episode.resolved_at)}" if episode.resolved_at else "still firing"
        say.say(f"  alert     {episode.rule} fired {say.moment(episode.fired_at)}, {resolved}")
    if not report.alerts:
        say.say("  alert     none fired (the simulated team was too quiet during the incident)")
    say.say(f"  digest    {report.digest or 'not posted'}")
    say.say(f"  output    {where}")
    say.say(
        f"  stopped   Prometheus and the chart renderer (pids {', '.join(map(str, report.pids))}); "
        + (f"working files kept in {report.workdir}" if kept else "working files removed")
    )
