"""The composition root: the whole bot as ``codex-bot serve`` runs it, wired in one place.

``serve`` builds ONE Prometheus client, ONE chart renderer, ONE access policy, ONE store and ONE outbox
(with the failure notices) (:class:`Parts`), then the /codex sub-commands, the App Home, personal
digests, the Bolt app with its listeners and the two schedulers (alert cycles with the budgets watch in
memory, digest slots persisted), each taking the parts it needs.  Domain classes take their
collaborators, never ``Settings``; the demo and ``codex-bot digest`` use the same builders, so they
assemble exactly the same pieces.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from slack_bolt import App

from codex_bot.access import AccessPolicy
from codex_bot.alerts.engine import AlertEngine
from codex_bot.alerts.loader import RuleSet, load_rules
from codex_bot.alerts.records import AlertRecords
from codex_bot.alerts.scheduler import AlertScheduler
from codex_bot.budgets.definitions import load_budgets
from codex_bot.budgets.watch import BudgetWatch
from codex_bot.charts.renderer import ChartRenderer
from codex_bot.commands import alerts_commands, deliveries_commands, digest_commands, me
from codex_bot.commands.alerts_commands import AlertCommandDeps
from codex_bot.commands.deliveries_commands import DeliveryCommandDeps
from codex_bot.commands.deps import CommandDeps
from codex_bot.commands.digest_commands import DigestCommandDeps
from codex_bot.commands.home import Home
from codex_bot.dashboard import DashboardLink, dashboard_link
from codex_bot.delivery.outbox import Outbox, Outgoing
from codex_bot.delivery.transport import Transport
from codex_bot.digests.compose import DigestComposer
from codex_bot.digests.definitions import DigestFile
from codex_bot.digests.personal import PersonalDigests
from codex_bot.digests.schedule import DigestScheduler
from codex_bot.digests.service import Digests, definitions_for_bot, start_digest_scheduler
from codex_bot.identity import Directory, Identities, load_accounts
from codex_bot.metrics.client import PrometheusClient
from codex_bot.panels.cost import load_prices
from codex_bot.panels.service import Panels
from codex_bot.settings import Settings
from codex_bot.slack.app import build_app
from codex_bot.slack.channel_check import ChannelProblem, check_channels
from codex_bot.slack.client import build_web_client
from codex_bot.slack.delivery_failures import FailureNotices, notice_message
from codex_bot.slack.listeners import Services
from codex_bot.slack.mrkdwn import escape
from codex_bot.slack.people import SlackDirectory
from codex_bot.slack.replies import PanelReplies, source_label
from codex_bot.slack.slack_transport import SlackTransport
from codex_bot.slack.surfaces import SlackSurfaces, Surfaces
from codex_bot.store import Store
from codex_bot.telemetry.labels import label_rule

log = logging.getLogger(__name__)


@dataclass
class Parts:
    """The collaborators one bot process shares, each built once from the settings."""

    settings: Settings
    panels: Panels  # its client is THE Prometheus client of the process
    renderer: ChartRenderer
    access: AccessPolicy
    store: Store
    outbox: Outbox  # tells CODEX_BOT_ADMIN_USERS / CODEX_BOT_FALLBACK_CHANNEL about permanent failures
    transport: Transport
    dashboard: DashboardLink | None = None  # "Open in dashboard" links (CODEX_BOT_DASHBOARD_URL_TEMPLATE)

    @property
    def client(self) -> PrometheusClient:
        return self.panels.client

    @property
    def source(self) -> str:
        """Where the figures come from, as the messages' footers say it."""
        return source_label(self.client.url)

    def close(self) -> None:
        self.client.close()


def build_panels(settings: Settings, url: str | None = None) -> Panels:
    """The panels over a new Prometheus client (at ``url``, default the configured one)."""
    return Panels(PrometheusClient.from_settings(settings, url=url), settings.tz, load_prices(settings.prices_file))


def build_outbox(settings: Settings, store: Store) -> Outbox:
    """The bot's outbox: permanent failures are told to CODEX_BOT_ADMIN_USERS / CODEX_BOT_FALLBACK_CHANNEL."""
    return Outbox(store, notices=FailureNotices.from_settings(settings))


def build_parts(settings: Settings, transport: Transport, store: Store) -> Parts:
    """One of each shared collaborator, from ``settings``; messages go out through ``transport``."""
    return Parts(
        settings,
        build_panels(settings),
        ChartRenderer.from_settings(settings),
        AccessPolicy.from_settings(settings),
        store,
        build_outbox(settings, store),
        transport,
        dashboard_link(settings.dashboard_url_template),
    )


def panel_deps(parts: Parts) -> CommandDeps:
    """``/codex`` with the panels and help only (the sub-commands are added by :func:`command_deps`)."""
    replies = PanelReplies(parts.settings.tz, parts.renderer, source=parts.source, dashboard=parts.dashboard)
    return CommandDeps(parts.panels, replies, parts.transport, parts.access)


def digest_service(
    panels: Panels,
    renderer: ChartRenderer | None,
    access: AccessPolicy,
    store: Store | None,
    dashboard: DashboardLink | None = None,
) -> Digests:
    """Digests over ``panels`` and ``renderer``, with the alert history of ``store`` when there is one."""
    composer = DigestComposer(panels, renderer, alerts=AlertRecords(store) if store else None, access=access)
    return Digests(composer, source_label(panels.client.url), dashboard)


def rules_for_bot(settings: Settings) -> RuleSet:
    """The alert rules as a running bot takes them: bad rule files are logged and skipped."""
    rules = load_rules(settings.rules_dir, exclude=settings.not_rules)
    for problem in rules.problems:
        log.error("alert rules: %s", problem)
    for warning in rules.warnings:
        log.warning("alert rules: %s", warning)
    return rules


def alert_command_deps(parts: Parts, rules: RuleSet, replies: PanelReplies | None = None) -> AlertCommandDeps:
    """The alert sub-commands and buttons; with ``replies``, Show evidence answers with the panels."""
    return AlertCommandDeps(
        parts.store,
        rules,
        parts.outbox,
        parts.transport,
        parts.access,
        parts.settings.tz,
        panels=parts.panels,
        replies=replies,
        dashboard=parts.dashboard,
    )


def digest_command_deps(parts: Parts, definitions: DigestFile) -> DigestCommandDeps:
    service = digest_service(parts.panels, parts.renderer, parts.access, parts.store, parts.dashboard)
    return DigestCommandDeps(service, definitions, parts.store, parts.outbox, parts.transport, parts.settings.timezone)


def delivery_deps(parts: Parts) -> DeliveryCommandDeps:
    """What ``/codex deliveries`` and the Retry button of a failure notice need."""
    return DeliveryCommandDeps(parts.outbox, parts.transport, parts.access)


def alert_engine(parts: Parts, rules: RuleSet) -> AlertEngine:
    """The alert cycle over the shared client, renderer, store and outbox."""
    return AlertEngine(
        rules,
        parts.client,
        parts.panels.prices,
        parts.store,
        parts.outbox,
        parts.settings.tz,
        interval=timedelta(seconds=parts.settings.alert_interval_seconds),
        renderer=parts.renderer,
        transport=parts.transport,
        dashboard=parts.dashboard,
    )


def budget_watch(parts: Parts) -> BudgetWatch | None:
    """The budgets of CODEX_BOT_BUDGETS_FILE to check after each alert cycle (None without any); a file
    with problems is logged and checks nothing, a user's budget for a channel not allowed is left out."""
    settings = parts.settings
    budgets = load_budgets(settings.budgets_file, settings.timezone)
    for problem in [*budgets.problems, *budgets.access_problems(parts.access)]:
        log.error("budgets: %s", problem)
    budgets.budgets = [b for b in budgets.budgets if b.user is None or parts.access.channel_allowed(b.channel)]
    if not budgets.budgets:
        return None
    return BudgetWatch(budgets, parts.panels, parts.store, parts.outbox, parts.source, parts.dashboard)


def alert_scheduler(parts: Parts, rules: RuleSet, scheduler: BaseScheduler | None = None) -> AlertScheduler:
    """The alert cycles (then the budgets) on the shared parts; on ``scheduler`` when given (see :meth:`Bot.start_schedulers`)."""
    engine = alert_engine(parts, rules)
    return AlertScheduler(engine, parts.outbox, parts.transport, engine.interval, budget_watch(parts), scheduler)


def command_deps(
    parts: Parts, definitions: DigestFile, identities: Identities
) -> tuple[CommandDeps, AlertCommandDeps, DigestCommandDeps, DeliveryCommandDeps]:
    """``/codex`` with panels, help, me, alerts, silence, unsilence, digest and deliveries (``identities``
    tell which telemetry user a Slack user is, for ``me``); the alert, digest and delivery parts are
    returned too, for the listeners and the schedulers to share."""
    deps = panel_deps(parts)
    me.register(deps, identities)
    alerts = alert_command_deps(parts, rules_for_bot(parts.settings), deps.replies)
    alerts_commands.register(deps, alerts)
    digest = digest_command_deps(parts, definitions)
    digest_commands.register(deps, digest)
    deliveries = delivery_deps(parts)
    deliveries_commands.register(deps, deliveries)
    return deps, alerts, digest, deliveries


def identities(settings: Settings, directory: Directory) -> Identities:
    """Which telemetry user a Slack user is (CODEX_BOT_USER_LABEL, CODEX_BOT_USER_ACCOUNT_MAP), over ``directory``."""
    return Identities(directory, label_rule(settings), load_accounts(settings.user_account_map))


def routed_channels(rules: RuleSet, digests: DigestFile, settings: Settings) -> dict[str, list[str]]:
    """Every channel the rules, the digests and the failure notices send to → what sends there."""
    uses: dict[str, list[str]] = {}
    routing = rules.routing
    found = [(rule.channel, f"rule {rule.name}") for rule in rules.rules if rule.channel]
    found += [(routing.default, "routing.default")] if routing.default else []
    found += [(channel, f"routing.by_severity.{severity}") for severity, channel in routing.by_severity.items()]
    found += [
        (channel, f"routing.by_label.{label}.{value}")
        for label, channels in routing.by_label.items()
        for value, channel in channels.items()
    ]
    found += [(digest.channel, f"digest {digest.name}") for digest in digests.digests]
    found += [(settings.fallback_channel, "CODEX_BOT_FALLBACK_CHANNEL")] if settings.fallback_channel else []
    for channel, user in found:
        uses.setdefault(channel, []).append(user)
    return uses


@dataclass
class Bot:
    """The Slack app plus the alert and digest schedulers that post through the same parts."""

    parts: Parts
    app: App
    deps: CommandDeps
    alerts: AlertCommandDeps  # its rules serve /codex alerts and the alert loop alike
    digests: DigestCommandDeps  # its definitions and renderer serve /codex digest and the schedules alike
    personal: PersonalDigests | None = None  # composes the `to: each-user` digests
    _scheduler: BaseScheduler | None = field(default=None, init=False)
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
            f"• {escape(str(p))}" for p in problems
        )
        digest = hashlib.sha256(text.encode()).hexdigest()[:12]
        day = datetime.now(UTC).strftime("%Y-%m-%d")
        outbox = self.parts.outbox
        recipients = outbox.notices.recipients("") if outbox.notices else []
        with self.store.transaction() as tx:
            for recipient in recipients:
                outbox.enqueue(
                    tx,
                    Outgoing(
                        f"channel-check:{day}:{digest}:{recipient}", recipient, notice_message(text), report=False
                    ),
                )
        outbox.flush(self.transport)

    def start_schedulers(self) -> None:
        """One APScheduler for the alert cycles and the digest schedules: started paused, so nothing runs
        before every job is added (and stale digest jobs removed), then resumed."""
        self._scheduler = BackgroundScheduler(timezone=UTC)
        self._scheduler.start(paused=True)
        self._alerts = alert_scheduler(self.parts, self.alerts.rules, self._scheduler)
        self._alerts.start()
        self._digests = start_digest_scheduler(
            self.digests.definitions,
            self.digests.digests,
            self.parts.store,
            self.parts.outbox,
            self.parts.transport,
            self.personal,
            scheduler=self._scheduler,
        )
        self._scheduler.resume()
        log.info("alert evaluation every %d s and digest schedules started", self.settings.alert_interval_seconds)

    def stop(self) -> None:
        """Stop the scheduler after its running jobs, then hand the alert lease over."""
        if self._scheduler is None:
            return
        self._scheduler.shutdown(wait=True)
        for part in (self._alerts, self._digests):
            if part is not None:
                part.shutdown()
        log.info("alert and digest schedules stopped")
        self._scheduler = self._alerts = self._digests = None


def home_of(deps: CommandDeps, store: Store, digests: DigestFile, surfaces: Surfaces, identities: Identities) -> Home:
    """The App Home on the commands' panels, renderer, access policy and clock."""
    return Home(
        deps.panels,
        identities,
        deps.access,
        store,
        digests,
        surfaces,
        deps.replies.renderer,
        deps.replies.tz,
        deps.replies.source,
        lambda: deps.clock(),
    )


def assemble(settings: Settings, *, signing_secret: str | None = None) -> Bot:
    """The bot wired from ``settings``; raises SlackSetupError when Slack rejects the token."""
    client = build_web_client(settings)
    parts = build_parts(settings, SlackTransport(client), Store.open(settings.state_target))
    log.info("state database: %s", parts.store.url)
    definitions = definitions_for_bot(settings)
    directory = SlackDirectory(client)
    people = identities(settings, directory)
    deps, alerts, digest, deliveries = command_deps(parts, definitions, people)
    home = home_of(deps, parts.store, definitions, SlackSurfaces(client), people)
    services = Services(deps, alerts, deliveries=deliveries, home=home, store=parts.store)
    app = build_app(client, services, signing_secret=signing_secret)
    personal = PersonalDigests(
        deps.panels,
        people,
        directory.members,
        parts.store,
        settings.tz,
        deps.replies.source,
    )
    return Bot(parts, app, deps, alerts, digest, personal)
