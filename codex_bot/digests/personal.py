"""``to: each-user`` digests: each person's own usage (``/codex me``'s answer) by DM, with an opt-out button.

"Each person" is every Slack member the bot can map to a telemetry ``user`` label who has telemetry and
has not opted out (``kv`` key ``digests/personal-opt-out/<user id>``); the others are skipped quietly.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from codex_bot.delivery.message import Message
from codex_bot.digests.compose import period
from codex_bot.digests.definitions import DigestDefinition
from codex_bot.digests.layout import DigestMessages
from codex_bot.errors import UserError
from codex_bot.identity import Identities
from codex_bot.panels.personal import personal_usage
from codex_bot.panels.service import PanelRunner
from codex_bot.slack.personal_blocks import opt_out_block, personal_message
from codex_bot.store import Store

log = logging.getLogger(__name__)

OPT_OUT_KEY = "digests/personal-opt-out/"  # + user id


def opted_out(store: Store, user_id: str) -> bool:
    return store.value(OPT_OUT_KEY + user_id) is not None


def set_opt_out(store: Store, user_id: str, out: bool) -> None:
    """Remember that ``user_id`` wants (``out`` False) or no longer wants personal digests."""
    with store.transaction() as tx:
        store.put_value(tx, OPT_OUT_KEY + user_id, "1" if out else None)


@dataclass
class PersonalDigests:
    """The scheduler's :data:`~codex_bot.digests.schedule.PersonalComposer`."""

    panels: PanelRunner
    identities: Identities
    members: Callable[[], list[str]]  # Slack user ids of the workspace's people
    store: Store
    tz: ZoneInfo
    source: str

    def __call__(self, definition: DigestDefinition, slot: datetime) -> list[tuple[str, DigestMessages]]:
        range_text, at = period(definition, slot)
        posts = []
        for user in self.members():
            if opted_out(self.store, user):
                continue
            try:
                usage = personal_usage(self.panels, self.identities.label(user), range_text, at)
            except UserError as exc:  # no label or no telemetry: nothing to tell them
                log.debug("personal digest %s: nothing for %s: %s", definition.name, user, exc)
                continue
            message = personal_message(usage, self.tz, self.source)
            posts.append(
                (user, DigestMessages(Message(message.text, [*message.blocks, opt_out_block(definition.name)])))
            )
        return posts
