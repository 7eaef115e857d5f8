"""What ``codex-bot demo`` does: simulate a fleet → backfill it → start Prometheus and the chart renderer →
answer slash commands → replay the alert rules through an incident → post the daily digest → show one person's
``/codex me`` and App Home → summarise → stop everything.

Every answer goes through the bot's own paths (``command_deps`` and ``answer`` for /codex, the
alert engine and its outbox, the digest composer and the outbox) into one transport: the console
(messages printed, charts written to ``out``) or Slack.  All instants sit on the backfill grid, so
the figures are exactly those of the simulated events.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TextIO

from codex_bot.alerts.records import AlertRecords
from codex_bot.bot import (
    Parts,
    alert_engine,
    build_parts,
    command_deps,
    digest_service,
    home_of,
    identities,
    rules_for_bot,
)
from codex_bot.commands.codex import answer
from codex_bot.commands.deps import CommandDeps
from codex_bot.commands.invocation import COMMAND, Invocation
from codex_bot.delivery.console import ConsoleSurfaces
from codex_bot.delivery.transport import Transport
from codex_bot.demo import fleet as demo_fleet
from codex_bot.demo.narration import DemoReport, Narrator, summary
from codex_bot.demo.stack import Services, local_services
from codex_bot.digests.definitions import DigestDefinition, DigestFile
from codex_bot.digests.layout import title
from codex_bot.digests.schedule import enqueue_digest, slot_key
from codex_bot.digests.service import load_definitions
from codex_bot.digests.slots import latest_slot, previous_slot
from codex_bot.settings import Settings
from codex_bot.simulate.fleet import next_full_hour
from codex_bot.simulate.people import MODELS, Developer, make_developers
from codex_bot.slack.people import FixedDirectory
from codex_bot.store import Store
from codex_bot.telemetry.labels import label_rule

USER = "U0LEAD"  # who types the demo's commands
CONSOLE_CHANNEL = "#codex-demo"
BUSIEST_MODEL = MODELS[0][0]  # the model the simulated fleet uses most
COMMANDS = (  # what the demo types after /codex
    "help",
    "tokens 7d",
    f"p95 24h model={BUSIEST_MODEL}",
    "users 30d",
    "models 7d",
    "cost 30d public",
    "success yesterday",
    "tokns 7d",
)
ME_COMMAND = "me 7d"
REPO = Path(__file__).resolve().parents[2]  # rules/ of the checkout, when not run from its root


@dataclass(frozen=True)
class DemoOptions:
    out: Path = Path("demo-out")
    developers: int = 25
    days: float = 30.0
    seed: int = 20261127
    step: int = 300  # backfill grid in seconds: 5 min keeps promtool's work small and rate windows full
    keep: bool = False  # keep the working folder (OTLP files, TSDB, state database)
    slack_channel: str | None = None  # post there (through ``transport``) instead of the console


@contextmanager
def timed(report: DemoReport, name: str) -> Iterator[None]:
    started = time.monotonic()
    try:
        yield
    finally:
        report.timings[name] = time.monotonic() - started


@contextmanager
def working_folder(keep: bool, report: DemoReport) -> Iterator[Path]:
    folder = report.workdir = Path(tempfile.mkdtemp(prefix="codex-bot-demo-"))
    try:
        yield folder
    finally:
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)


def local_file(configured: Path) -> Path:
    """``configured`` when it exists here, else the same path in the checkout (``codex-bot demo`` run elsewhere)."""
    return configured if configured.exists() or configured.is_absolute() else REPO / configured


def demo_settings(base: Settings, services: Services, state_db: Path, channel: str, step: int) -> Settings:
    """``base`` pointed at the demo's Prometheus, renderer and state; per-user figures allowed in ``channel``."""
    return base.model_copy(
        update={
            "prometheus_url": services.prometheus_url,
            "prometheus_bearer_token": None,
            "prometheus_basic_auth": None,
            "prometheus_headers": {},
            "quickchart_url": services.renderer_url,
            "chart_public_urls": False,
            "state_db": state_db,
            "database_url": None,
            "personal_data_channels": [channel.lstrip("#")],
            "alert_interval_seconds": step,
        }
    )


def run(options: DemoOptions, settings: Settings, transport: Transport, out: TextIO | None = None) -> DemoReport:
    """The whole demo; every process it starts is stopped and its working folder removed, however it ends."""
    started = time.monotonic()
    settings = settings.model_copy(
        update={
            "rules_dir": local_file(settings.rules_dir),
            "digests_file": local_file(settings.digests_file),
            "budgets_file": local_file(settings.budgets_file),
        }
    )
    say = Narrator(out or sys.stdout, settings)
    report = DemoReport()
    clear_charts(options.out)
    definitions = load_definitions(settings)
    digest = definitions.digests[0] if definitions.digests else None
    at = next_full_hour(datetime.now(UTC))
    fleet = demo_fleet.plan(
        options.developers, options.days, options.seed, at, settings.timezone, digest_period(digest, at)
    )
    report.fleet = fleet
    with working_folder(options.keep, report) as work:
        simulate_and_backfill(fleet, options, settings, work, report, say)
        with local_services(work / "tsdb", work) as services:
            report.pids = services.pids
            say.say(f"• Prometheus at {services.prometheus_url} and the chart renderer at {services.renderer_url}")
            channel = options.slack_channel or CONSOLE_CHANNEL
            config = demo_settings(settings, services, work / "state.sqlite", channel, options.step)
            store = Store.open(config.state_db)
            parts = build_parts(config, transport, store)
            try:
                deps = commands(parts, definitions, fleet, channel, report, say)
                alerts(parts, fleet, report, say)
                if digest is not None:
                    post_digest(parts, digest, at, report, say)
                charts = None if options.slack_channel else options.out  # PNG files only in console mode
                personal(config, deps, definitions, store, channel, charts, report, say)
            finally:
                parts.close()
                store.close()
    report.timings["total"] = time.monotonic() - started
    report.charts = sorted(options.out.glob("*.png"))
    where = (
        f"posted in Slack channel {options.slack_channel}"
        if options.slack_channel
        else f"{len(report.charts)} chart PNG files in {options.out}/"
    )
    summary(report, say, where, options.keep)
    return report


def clear_charts(out: Path) -> None:
    """Remove the charts an earlier demo wrote (numbered ``NNN-name.png``)."""
    for old in out.glob("[0-9][0-9][0-9]-*.png"):
        old.unlink()


def digest_period(digest: DigestDefinition | None, at: datetime) -> tuple[datetime, datetime]:
    """The period the digest posted at ``at`` covers (the last day without a digest)."""
    slot = latest_slot(digest.trigger, at) if digest else None
    before = previous_slot(digest.trigger, slot) if digest and slot else None
    return (before, slot) if before and slot else (at - timedelta(days=1), at)


def simulate_and_backfill(
    fleet: demo_fleet.DemoFleet, options: DemoOptions, settings: Settings, work: Path, report: DemoReport, say: Narrator
) -> None:
    config = fleet.config
    say.say(
        f"codex-bot demo · {config.developers} developers × {config.days:g} days (seed {config.seed}) · "
        f"data up to {say.moment(fleet.at)}, the next full hour · times in {say.tz.key}"
    )
    say.say("• planted incidents: " + "; ".join(f"{i.kind} {say.span(i.start, i.end)}" for i in fleet.incidents))
    with timed(report, "simulate + backfill"):
        written, backfilled = demo_fleet.build(fleet, work, options.step, label_rule(settings))
    report.events, report.series = written.records, backfilled.series
    say.say(
        f"• simulated {written.records:,} telemetry events and backfilled them into a Prometheus TSDB: "
        f"{backfilled.series:,} series on a {options.step // 60}-minute grid "
        f"({report.timings['simulate + backfill']:.0f} s)"
    )


def demo_person(fleet: demo_fleet.DemoFleet) -> Developer:
    """The developer :data:`USER` is: the first whose events carry their e-mail (as Slack's profile shows it)."""
    config = fleet.config
    people = make_developers(config.developers, config.days, config.seed, config.late_joiner_share)
    return next(person for person in people if person.identity != "account-only")


def commands(
    parts: Parts, definitions: DigestFile, fleet: demo_fleet.DemoFleet, channel: str, report: DemoReport, say: Narrator
) -> CommandDeps:
    """Each of :data:`COMMANDS` through the bot's own /codex path, answered as of the demo's "now"."""
    people = identities(parts.settings, FixedDirectory({USER: demo_person(fleet).email}))
    deps, *_ = command_deps(parts, definitions, people)
    deps.clock = lambda: fleet.at
    say.section(f"1 · Slash commands, answered as of {say.moment(fleet.at)}")
    for text in COMMANDS:
        say.say(f"$ {COMMAND} {text}")
        answer(Invocation(text, USER, channel, channel.lstrip("#")), deps)
        report.commands.append(text)
    return deps


def personal(
    settings: Settings,
    deps: CommandDeps,
    definitions: DigestFile,
    store: Store,
    channel: str,
    chart_dir: Path | None,
    report: DemoReport,
    say: Narrator,
) -> None:
    """``/codex me 7d`` and the App Home as :data:`USER` sees them (the home view is printed, also in Slack
    mode: the demo has no real person whose tab it could publish to)."""
    fleet = report.fleet
    assert fleet is not None
    email = demo_person(fleet).email
    say.section(f"4 · Your own numbers: /codex me and the App Home, as {USER} ({email}) sees them")
    say.say(f"$ {COMMAND} {ME_COMMAND}")
    answer(Invocation(ME_COMMAND, USER, channel, channel.lstrip("#")), deps)
    people = identities(settings, FixedDirectory({USER: email}))
    home = home_of(deps, store, definitions, ConsoleSurfaces(chart_dir, say.out), people)
    report.home = home.publish(USER).to_dict()


def alerts(parts: Parts, fleet: demo_fleet.DemoFleet, report: DemoReport, say: Narrator) -> None:
    """The alert engine over the repo's rules, replayed one cycle per grid step through the planted incident
    until its alert has fired and resolved (each cycle posts what a running bot would have posted then)."""
    settings = parts.settings
    engine = alert_engine(parts, rules_for_bot(settings))
    incident, step = fleet.alert_incident, engine.interval
    cycles = queries = 0
    say.section(
        f"2 · Alert rules ({len(engine.rules.rules)} in {settings.rules_dir}/), replayed through the planted "
        f"{incident.kind} of {say.span(incident.start, incident.end)}"
    )
    say.say(
        f"• one evaluation cycle every {step.total_seconds() / 60:g} minutes from {say.moment(incident.start)}; "
        "the messages they post:\n"
    )
    at = incident.start
    while at < fleet.resolve_by:
        at += step
        cycle = engine.run_cycle(at)
        cycles, queries = cycles + 1, queries + cycle.evaluation.queries
        for verb, episodes in (("fired", cycle.notices.posted), ("resolved", cycle.notices.resolved)):
            if episodes:
                say.say(f"  ↑ {verb} by the cycle at {say.moment(at)}\n")
        if cycle.notices.resolved:
            break
    say.say(f"• {cycles} cycles, {queries:,} PromQL queries")
    report.alerts = AlertRecords(parts.store).fired_between(fleet.config.start, fleet.at)


def post_digest(parts: Parts, digest: DigestDefinition, at: datetime, report: DemoReport, say: Narrator) -> None:
    """The digest's latest slot as the scheduler posts it: composed, put in the outbox, sent."""
    slot = latest_slot(digest.trigger, at)
    if slot is None:
        return
    settings, store, outbox = parts.settings, parts.store, parts.outbox
    local = slot.astimezone(digest.tz)
    say.section(
        f"3 · Digest {digest.name} ({settings.digests_file}), as posted on {local:%a %d %b %H:%M} "
        f"{digest.timezone} (its own timezone)"
    )
    digests = digest_service(parts.panels, parts.renderer, parts.access, store)
    built, messages = digests.render(digest, slot)
    key = slot_key(digest.name, slot)
    with store.transaction() as tx:
        enqueue_digest(outbox, tx, digest.channel, key, messages)
    outbox.flush(parts.transport)
    if outbox.status(key) == "sent":
        report.digest = title(built)
