"""``/codex <panel> [range] [filters] [public]``: one panel, answered privately or in the channel."""

from __future__ import annotations

from codex_bot.access import is_personal
from codex_bot.commands.deps import CommandDeps
from codex_bot.commands.invocation import Invocation
from codex_bot.delivery.message import Destination, Message
from codex_bot.panels.request import parse_request


def panel_reply(words: list[str], invocation: Invocation, deps: CommandDeps) -> tuple[Message, Destination]:
    """The rendered answer and where it goes; raises UserError subclasses for the asker to read."""
    request = parse_request(words)
    if is_personal(request.panel, request.filters):
        deps.access.check_personal(
            invocation.user_id, invocation.channel_id, invocation.channel_name, request.public
        )
    result = deps.panels.run(request, at=deps.clock())
    destination = invocation.public() if request.public else invocation.private()
    return deps.replies.compose(result), destination
