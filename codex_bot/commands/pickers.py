"""The pickers of a panel reply: choosing a range or filter answers again in place; "Share in channel" posts it.

Their listener is in :mod:`codex_bot.slack.listeners.actions`; :func:`pick` sends the changed request through :func:`~codex_bot.commands.panel.request_reply`
(same access checks, same panel service) and the answer replaces the message acted on, through
its ``response_url`` for a private reply or ``chat.update`` for a message in the channel.
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from typing import Any

from slack_bolt import Respond

from codex_bot.commands.codex import deliver
from codex_bot.commands.deps import CommandDeps
from codex_bot.commands.invocation import Invocation
from codex_bot.commands.panel import request_reply
from codex_bot.panels.request import PanelRequest, parse_request
from codex_bot.slack.pickers import ANY, PICK_FILTER, PICK_RANGE, SHARE, request_of
from codex_bot.slack.slack_errors import DELIVERY_FAILURES, failure_text
from codex_bot.store import MessageRef

log = logging.getLogger(__name__)
ACTIONS = re.compile(f"^({PICK_RANGE}|{PICK_FILTER}[a-z_]+|{SHARE})$")


def changed_request(action: dict[str, Any]) -> PanelRequest:
    """The request of the reply acted on, with the picked range or filter (or made public by Share)."""
    request = parse_request(request_of(str(action.get("block_id", ""))))
    action_id = action["action_id"]
    if action_id == SHARE:
        return replace(request, public=True)
    value = str(action["selected_option"]["value"])
    if action_id == PICK_RANGE:
        return replace(request, range_text=value)
    key = action_id.removeprefix(PICK_FILTER)
    filters = {k: v for k, v in request.filters.items() if k != key}
    if value != ANY:
        filters[key] = value.removeprefix("=")
    return replace(request, filters=filters)


def invocation_of(body: dict[str, Any], request: PanelRequest) -> Invocation:
    channel = body.get("channel") or {}
    channel_id = channel.get("id") or body["container"]["channel_id"]
    return Invocation(request.to_text(), body["user"]["id"], channel_id, channel.get("name"), body.get("response_url"))


def pick(body: dict[str, Any], respond: Respond, deps: CommandDeps) -> None:
    """Answer the changed request in place of the message acted on (Share: post it, drop the private one)."""
    action = body["actions"][0]
    request = changed_request(action)
    invocation = invocation_of(body, request)
    message, destination = request_reply(request, invocation, deps)
    container = body.get("container") or {}
    if action["action_id"] == SHARE:
        if deliver(message, destination, invocation, deps) is not None:
            respond(delete_original=True)
    elif container.get("is_ephemeral"):
        deliver(message, replace(destination, replace_original=True), invocation, deps)
    else:
        ref = MessageRef(invocation.channel_id, container["message_ts"])
        try:
            deps.transport.update(ref, message)
        except DELIVERY_FAILURES as exc:
            log.warning("panel message %s not updated: %s", ref, exc)
            respond(text=failure_text(exc), response_type="ephemeral", replace_original=False)
