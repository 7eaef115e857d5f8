"""The composition root: the whole bot as ``codex-bot serve`` runs it, wired in one place.

``serve`` builds ONE Prometheus client, ONE chart renderer, ONE store and ONE outbox (:class:`Parts`),
then the /codex sub-commands, the Bolt app with its listeners and the two schedulers (alert cycles in
memory, digest slots persisted), each taking the parts it needs.  Domain classes take their
collaborators, never ``Settings``; the demo and ``codex-bot digest`` use the same builders, so they
assemble exactly the same pieces.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from slack_bolt import App

from codex_bot.access import AccessPolicy
from codex_bot.alerts.engine import AlertEngine
from codex_bot.alerts.loader import RuleSet, load_rules
from codex_bot.alerts.records import AlertRecords
from codex_bot.alerts.scheduler import AlertScheduler
from codex_bot.charts.renderer import ChartRenderer
from codex_bot.commands import alerts_commands, digest_commands
from codex_bot.commands.alerts_commands import AlertCommandDeps
from codex_bot.commands.deps import CommandDeps
from codex_bot.commands.digest_commands import DigestCommandDeps
from codex_bot.delivery.outbox import Outbox
from codex_bot.delivery.transport import Transport
from codex_bot.digests.compose import DigestComposer
from codex_bot.digests.definitions import DigestFile
from codex_bot.digests.schedule import DigestScheduler
from codex_bot.digests.service import Digests, definitions_for_bot, start_digest_scheduler
from codex_bot.metrics.client import PrometheusClient
from codex_bot.panels.cost import load_prices
from codex_bot.panels.service import Panels
from codex_bot.settings import Settings
from codex_bot.slack.app import build_app
from codex_bot.slack.client import build_web_client
from codex_bot.slack.listeners import Services
from codex_bot.slack.replies import PanelReplies, source_label
from codex_bot.slack.slack_transport import SlackTransport
from codex_bot.store import Store

log = logging.getLogger(__name__)


@dataclass
class Parts:
    """The collaborators one bot process shares, each built once from the settings."""

    settings: Settings
    panels: Panels  # its client is THE Prometheus client of the process
    renderer: ChartRenderer
    access: AccessPolicy
    store: Store
    outbox: Outbox
    transport: Transport

    @property
    def client(self) -> PrometheusClient:
        return self.panels.client

    def close(self) -> None:
        self.client.close()


def build_panels(settings: Settings, url: str | None = None) -> Panels:
    """The panels over a new Prometheus client (at ``url``, default the configured one)."""
    return Panels(PrometheusClient.from_settings(settings, url=url), settings.tz, load_prices(settings.prices_file))


def build_parts(settings: Settings, transport: Transport, store: Store) -> Parts:
    """One of each shared collaborator, from ``settings``; messages go out through ``transport``."""
    return Parts(settings, build_panels(settings), ChartRenderer.from_settings(settings), AccessPolicy.from_settings(settings),
                 store, Outbox(store), transport)


def panel_deps(parts: Parts) -> CommandDeps:
    """``/codex`` with the panels and help only (the sub-commands are added by :func:`command_deps`)."""
    replies = PanelReplies(parts.settings.tz, parts.renderer, source=source_label(parts.client.url))
    return CommandDeps(parts.panels, replies, parts.transport, parts.access)


def digest_service(panels: Panels, renderer: ChartRenderer | None, access: AccessPolicy, store: Store | None) -> Digests:
    """Digests over ``panels`` and ``renderer``, with the alert history of ``store`` when there is one."""
    composer = DigestComposer(panels, renderer, alerts=AlertRecords(store) if store else None, access=access)
    return Digests(composer, source_label(panels.client.url))


def rules_for_bot(settings: Settings) -> RuleSet:
    """The alert rules as a running bot takes them: bad rule files are logged and skipped."""
    rules = load_rules(settings.rules_dir, exclude=[settings.digests_file])
    for problem in rules.problems:
        log.error("alert rules: %s", problem)
    return rules


def alert_command_deps(parts: Parts, rules: RuleSet) -> AlertCommandDeps:
    return AlertCommandDeps(parts.store, rules, parts.outbox, parts.transport, parts.access, parts.settings.tz)


def digest_command_deps(parts: Parts, definitions: DigestFile) -> DigestCommandDeps:
    service = digest_service(parts.panels, parts.renderer, parts.access, parts.store)
    return DigestCommandDeps(service, definitions, parts.store, parts.outbox, parts.transport, parts.settings.timezone)


def alert_engine(parts: Parts, rules: RuleSet) -> AlertEngine:
    """The alert cycle over the shared client, renderer, store and outbox."""
    return AlertEngine(rules, parts.client, parts.panels.prices, parts.store, parts.outbox, parts.settings.tz,
                       interval=timedelta(seconds=parts.settings.alert_interval_seconds), renderer=parts.renderer,
                       transport=parts.transport)


def command_deps(parts: Parts, definitions: DigestFile) -> tuple[CommandDeps, AlertCommandDeps, DigestCommandDeps]:
    """``/codex`` with panels, help, alerts, silence, unsilence and digest; the alert and digest parts are
    returned too, for the listeners and the schedulers to share."""
    deps = panel_deps(parts)
    alerts = alert_command_deps(parts, rules_for_bot(parts.settings))
    alerts_commands.register(deps, alerts)
    digest = digest_command_deps(parts, definitions)
    digest_commands.register(deps, digest)
    return deps, alerts, digest


@dataclass
class Bot:
    """The Slack app plus the alert and digest schedulers that post through the same parts."""

    parts: Parts
    app: App
    deps: CommandDeps
    alerts: AlertCommandDeps  # its rules serve /codex alerts and the alert loop alike
    digests: DigestCommandDeps  # its definitions and renderer serve /codex digest and the schedules alike
    _alerts: AlertScheduler | None = field(default=None, init=False)
    _digests: DigestScheduler | None = field(default=None, init=False)

    @property
    def settings(self) -> Settings:
        return self.parts.settings

    @property
    def store(self) -> Store:
        return self.parts.store

    @property
    def transport(self) -> Transport:
        return self.parts.transport

    def start_schedulers(self) -> None:
        engine = alert_engine(self.parts, self.alerts.rules)
        self._alerts = AlertScheduler(engine, self.parts.outbox, self.parts.transport, engine.interval)
        self._alerts.start()
        self._digests = start_digest_scheduler(self.digests.definitions, self.digests.digests, self.parts.store,
                                               self.parts.outbox, self.parts.transport,
                                               f"sqlite:///{self.settings.state_db}")
        log.info("alert evaluation every %d s and digest schedules started", self.settings.alert_interval_seconds)

    def stop(self) -> None:
        for scheduler in (self._alerts, self._digests):
            if scheduler is not None:
                scheduler.shutdown()
        if self._alerts is not None or self._digests is not None:
            log.info("alert and digest schedules stopped")
        self._alerts = self._digests = None


def assemble(settings: Settings, *, signing_secret: str | None = None) -> Bot:
    """The bot wired from ``settings``; raises SlackSetupError when Slack rejects the token."""
    client = build_web_client(settings)
    parts = build_parts(settings, SlackTransport(client), Store.open(settings.state_db))
    deps, alerts, digest = command_deps(parts, definitions_for_bot(settings))
    app = build_app(client, Services(deps, alerts), signing_secret=signing_secret)
    return Bot(parts, app, deps, alerts, digest)
