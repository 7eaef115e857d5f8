"""Digests end to end: compose → lay out as messages; built once (codex_bot.bot) for the CLI, /codex and serve."""

from __future__ import annotations

import logging
from datetime import datetime

from apscheduler.schedulers.base import BaseScheduler

from codex_bot.dashboard import DashboardLink
from codex_bot.delivery.outbox import Outbox, Transport
from codex_bot.digests.compose import Digest, DigestComposer
from codex_bot.digests.definitions import (
    DigestDefinition,
    DigestFile,
    DigestFileError,
    load_digests,
)
from codex_bot.digests.layout import DigestMessages, digest_messages
from codex_bot.digests.schedule import DigestScheduler, PersonalComposer
from codex_bot.settings import Settings
from codex_bot.store import Store

log = logging.getLogger(__name__)


class Digests:
    """Renders digests; calling it with (definition, slot) is the scheduler's composer."""

    def __init__(self, composer: DigestComposer, source: str, dashboard: DashboardLink | None = None) -> None:
        self.composer = composer
        self.source = source
        self.dashboard = dashboard

    def render(
        self,
        definition: DigestDefinition,
        at: datetime,
        range_text: str | None = None,
        channel: str | None = None,
        channel_name: str | None = None,
    ) -> tuple[Digest, DigestMessages]:
        """The digest as of ``at`` (see :func:`codex_bot.digests.compose.period`) and its messages."""
        digest = self.composer.build(definition, at, range_text, channel, channel_name)
        return digest, digest_messages(digest, source=self.source, dashboard=self.dashboard)

    def __call__(self, definition: DigestDefinition, slot: datetime) -> DigestMessages:
        return self.render(definition, slot)[1]

    def close(self) -> None:
        """Close the Prometheus client."""
        self.composer.panels.client.close()


def load_definitions(settings: Settings) -> DigestFile:
    """``CODEX_BOT_DIGESTS_FILE`` (default ``rules/digests.yaml``) with the bot's timezone as default."""
    return load_digests(settings.digests_file, settings.timezone)


def checked_definitions(settings: Settings) -> DigestFile:
    """The digests file, its problems kept with it (then it has no digests) instead of raised."""
    try:
        return load_definitions(settings)
    except DigestFileError as exc:
        return DigestFile(settings.digests_file, problems=exc.problems)


def definitions_for_bot(settings: Settings) -> DigestFile:
    """The digests file as a running bot takes it: problems are logged, so one typo stops the digests,
    not the bot."""
    definitions = checked_definitions(settings)
    for problem in definitions.problems:
        log.error("digests: %s", problem)
    return definitions


def start_digest_scheduler(
    definitions: DigestFile,
    digests: Digests,
    store: Store,
    outbox: Outbox,
    transport: Transport,
    personal: PersonalComposer | None = None,
    scheduler: BaseScheduler | None = None,
) -> DigestScheduler | None:
    """For ``codex-bot serve``: schedule every defined digest (jobs kept in the state database).  None
    while the file has problems: the stored schedules and slot ledger stay as they are, so once the
    file is fixed a slot missed meanwhile is still posted within its grace period."""
    if definitions.problems:
        log.error("digests are not scheduled until %s is fixed", definitions.path)
        return None
    digest_scheduler = DigestScheduler(definitions.digests, digests, store, outbox, transport, personal=personal)
    digest_scheduler.start(scheduler=scheduler)  # jobs in the state database, through its engine
    return digest_scheduler
