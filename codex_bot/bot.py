"""The whole bot as ``codex-bot serve`` runs it: /codex with every sub-command, buttons, and the schedulers.

The pieces live in their own packages (commands, alerts, digests, slack); this module only wires
them together once, so ``serve`` and the demo assemble exactly the same bot.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from slack_bolt import App

from codex_bot.alerts.loader import RuleSet
from codex_bot.alerts.scheduler import AlertScheduler
from codex_bot.charts.renderer import ChartRenderer
from codex_bot.commands import alerts_commands, deliveries_commands, digest_commands, home, me, personal_digest
from codex_bot.commands.access import AccessPolicy
from codex_bot.commands.alerts_commands import AlertCommandDeps
from codex_bot.commands.deliveries_commands import DeliveryCommandDeps
from codex_bot.commands.deps import CommandDeps, build_deps
from codex_bot.commands.digest_commands import DigestCommandDeps
from codex_bot.commands.home import Home
from codex_bot.commands.identity import Identities
from codex_bot.digests.definitions import DigestFile
from codex_bot.digests.personal import PersonalDigests
from codex_bot.digests.schedule import DigestScheduler
from codex_bot.digests.service import definitions_for_bot, start_digest_scheduler
from codex_bot.outbox import Outbox, Outgoing
from codex_bot.settings import Settings
from codex_bot.slack.app import build_app
from codex_bot.slack.channel_check import ChannelProblem, check_channels
from codex_bot.slack.client import build_web_client
from codex_bot.slack.delivery_failures import FailureNotices, notice_message
from codex_bot.slack.mrkdwn import escape
from codex_bot.slack.people import SlackDirectory
from codex_bot.slack.slack_transport import SlackTransport
from codex_bot.slack.surfaces import SlackSurfaces, Surfaces
from codex_bot.slack.transport import Transport
from codex_bot.store import Store

log = logging.getLogger(__name__)


def command_deps(settings: Settings, transport: Transport, store: Store, digests: DigestFile,
                 identities: Identities) -> tuple[CommandDeps, AlertCommandDeps, DigestCommandDeps]:
    """``/codex`` with panels, help, me, alerts, silence, unsilence, digest and deliveries, answering through ``transport``
    (``identities`` tell which telemetry user a Slack user is, for ``me``); the alert and digest parts are
    returned too, for the schedulers to share."""
    deps = build_deps(settings, transport)
    me.register(deps, identities)
    alert_deps = AlertCommandDeps.from_settings(settings, store, transport, deps.panels, deps.replies)
    alerts_commands.register(deps, alert_deps)
    digest_deps = DigestCommandDeps.from_settings(settings, store, transport, digests)
    digest_commands.register(deps, digest_deps)
    deliveries_commands.register(deps, delivery_deps(settings, store, transport))
    return deps, alert_deps, digest_deps


def routed_channels(rules: RuleSet, digests: DigestFile, settings: Settings) -> dict[str, list[str]]:
    """Every channel the rules, the digests and the failure notices send to → what sends there."""
    uses: dict[str, list[str]] = {}
    routing = rules.routing
    found = [(rule.channel, f"rule {rule.name}") for rule in rules.rules if rule.channel]
    found += [(routing.default, "routing.default")] if routing.default else []
    found += [(channel, f"routing.by_severity.{severity}") for severity, channel in routing.by_severity.items()]
    found += [(channel, f"routing.by_label.{label}.{value}") for label, channels in routing.by_label.items()
              for value, channel in channels.items()]
    found += [(digest.channel, f"digest {digest.name}") for digest in digests.digests]
    found += [(settings.fallback_channel, "CODEX_BOT_FALLBACK_CHANNEL")] if settings.fallback_channel else []
    for channel, user in found:
        uses.setdefault(channel, []).append(user)
    return uses


def delivery_deps(settings: Settings, store: Store, transport: Transport) -> DeliveryCommandDeps:
    """What ``/codex deliveries`` and the Retry button of a failure notice need."""
    return DeliveryCommandDeps(Outbox.from_settings(store, settings), transport, AccessPolicy.from_settings(settings))


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
    personal: PersonalDigests | None = None  # composes the `to: each-user` digests
    _alerts: AlertScheduler | None = field(default=None, init=False)
    _digests: DigestScheduler | None = field(default=None, init=False)

    def check_channels(self) -> list[ChannelProblem]:
        """At start-up: log each channel the bot cannot post to (and the fix), and tell the admins and the
        fallback channel once a day while it lasts."""
        client = self.app.client
        problems = check_channels(client, routed_channels(self.alerts.rules, self.digests.definitions, self.settings))
        for problem in problems:
            (log.error if problem.blocking else log.warning)("channel check: %s", problem)
        blocking = [p for p in problems if p.blocking]
        if blocking:
            self._tell_channel_problems(blocking)
        else:
            log.info("channel check: the bot can post to every channel the rules and digests use")
        return problems

    def _tell_channel_problems(self, problems: Sequence[ChannelProblem]) -> None:
        text = ":warning: I can't post to some channels the alert rules or digests use:\n" + "\n".join(
            f"• {escape(str(p))}" for p in problems)
        digest = hashlib.sha256(text.encode()).hexdigest()[:12]
        day = datetime.now(UTC).strftime("%Y-%m-%d")
        outbox = Outbox(self.store)
        notices = FailureNotices.from_settings(self.settings)
        with self.store.transaction() as tx:
            for recipient in notices.recipients(""):
                outbox.enqueue(tx, Outgoing(f"channel-check:{day}:{digest}:{recipient}", recipient,
                                            notice_message(text), report=False))
        outbox.flush(self.transport)

    def start_schedulers(self) -> None:
        self._alerts = AlertScheduler.from_settings(
            self.settings, self.store, self.transport, ChartRenderer.from_settings(self.settings), self.alerts.rules
        )
        self._alerts.start()
        self._digests = start_digest_scheduler(self.settings, self.store, self.transport, self.digests.definitions,
                                               self.digests.digests, self.personal)
        log.info("alert evaluation every %d s and digest schedules started", self.settings.alert_interval_seconds)

    def stop(self) -> None:
        for scheduler in (self._alerts, self._digests):
            if scheduler is not None:
                scheduler.shutdown()
        if self._alerts is not None or self._digests is not None:
            log.info("alert and digest schedules stopped")
        self._alerts = self._digests = None


def home_of(deps: CommandDeps, store: Store, digests: DigestFile, surfaces: Surfaces, identities: Identities) -> Home:
    """The App Home on the commands' panels, renderer, access policy and clock."""
    return Home(deps.panels, identities, deps.access, store, digests, surfaces,  # type: ignore[arg-type]
                deps.replies.renderer, deps.replies.tz, deps.replies.source, lambda: deps.clock())


def assemble(settings: Settings, *, signing_secret: str | None = None) -> Bot:
    """The bot wired from ``settings``; raises SlackSetupError when Slack rejects the token."""
    client = build_web_client(settings)
    transport = SlackTransport(client)
    store = Store.open(settings.state_target)
    log.info("state database: %s", store.url)
    digests = definitions_for_bot(settings)
    directory = SlackDirectory(client)
    identities = Identities.from_settings(settings, directory)
    deps, alert_deps, digest_deps = command_deps(settings, transport, store, digests, identities)
    app = build_app(client, deps, signing_secret=signing_secret)
    alerts_commands.register_buttons(app, alert_deps)
    home.register(app, home_of(deps, store, digests, SlackSurfaces(client), identities))
    personal_digest.register(app, store)
    personal = PersonalDigests(deps.panels, identities, directory.members, store, settings.tz,  # type: ignore[arg-type]
                               deps.replies.source)
    deliveries_commands.register_buttons(app, delivery_deps(settings, store, transport))
    return Bot(settings, app, deps, store, transport, alert_deps, digest_deps, personal)

