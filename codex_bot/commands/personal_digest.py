"""The buttons of personal digests: stop them, or turn them back on (remembered in the state store)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, Respond

from codex_bot.digests.personal import set_opt_out
from codex_bot.slack.personal_blocks import OPT_IN, OPT_OUT, opted_message
from codex_bot.store import Store


def register(app: App, store: Store) -> None:
    """Ack at once; record the choice and confirm it privately in Bolt's lazy-listener thread."""

    def acknowledge(ack: Ack) -> None:
        ack()

    for action_id in (OPT_OUT, OPT_IN):
        app.action(action_id)(ack=acknowledge, lazy=[_listener(action_id == OPT_OUT, store)])


def _listener(out: bool, store: Store) -> Callable[..., None]:
    def act(body: dict[str, Any], respond: Respond) -> None:
        set_opt_out(store, body["user"]["id"], out)
        message = opted_message(out)
        respond(text=message.text, blocks=message.blocks_json(), response_type="ephemeral", replace_original=False)

    return act
