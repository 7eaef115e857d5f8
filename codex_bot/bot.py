"""The whole bot as ``codex-bot serve`` runs it: /codex with every sub-command, buttons, and the schedulers.

The pieces live in their own packages (commands, alerts, digests, slack); this module only wires
them together once, so ``serve`` and the demo assemble exactly the same bot.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from slack_bolt import App

from codex_bot.alerts.scheduler import AlertScheduler
from codex_bot.charts.renderer import ChartRenderer
from codex_bot.commands import alerts_commands, digest_commands
from codex_bot.commands.alerts_commands import AlertCommandDeps
from codex_bot.commands.deps import CommandDeps, build_deps
from codex_bot.commands.digest_commands import DigestCommandDeps
from codex_bot.delivery.transport import Transport
from codex_bot.digests.definitions import DigestFile
from codex_bot.digests.schedule import DigestScheduler
from codex_bot.digests.service import definitions_for_bot, start_digest_scheduler
from codex_bot.settings import Settings
from codex_bot.slack.app import build_app
from codex_bot.slack.client import build_web_client
from codex_bot.slack.listeners import Services
from codex_bot.slack.slack_transport import SlackTransport
from codex_bot.store import Store

log = logging.getLogger(__name__)


def command_deps(settings: Settings, transport: Transport, store: Store,
                 digests: DigestFile) -> tuple[CommandDeps, AlertCommandDeps, DigestCommandDeps]:
    """``/codex`` with panels, help, alerts, silence, unsilence and digest, answering through ``transport``;
    the alert and digest parts are returned too, for the schedulers to share."""
    deps = build_deps(settings, transport)
    alert_deps = AlertCommandDeps.from_settings(settings, store, transport)
    alerts_commands.register(deps, alert_deps)
    digest_deps = DigestCommandDeps.from_settings(settings, store, transport, digests)
    digest_commands.register(deps, digest_deps)
    return deps, alert_deps, digest_deps


@dataclass
class Bot:
    """The Slack app plus the alert and digest schedulers that post through the same transport."""

    settings: Settings
    app: App
    deps: CommandDeps
    store: Store
    transport: Transport
    alerts: AlertCommandDeps  # its rules serve /codex alerts and the alert loop alike
    digests: DigestCommandDeps  # its definitions and renderer serve /codex digest and the schedules alike
    _alerts: AlertScheduler | None = field(default=None, init=False)
    _digests: DigestScheduler | None = field(default=None, init=False)

    def start_schedulers(self) -> None:
        self._alerts = AlertScheduler.from_settings(
            self.settings, self.store, self.transport, ChartRenderer.from_settings(self.settings), self.alerts.rules
        )
        self._alerts.start()
        self._digests = start_digest_scheduler(self.settings, self.store, self.transport, self.digests.definitions,
                                               self.digests.digests)
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
    transport = SlackTransport(client)
    store = Store.open(settings.state_db)
    digests = definitions_for_bot(settings)
    deps, alert_deps, digest_deps = command_deps(settings, transport, store, digests)
    app = build_app(client, Services(deps, alert_deps), signing_secret=signing_secret)
    return Bot(settings, app, deps, store, transport, alert_deps, digest_deps)
