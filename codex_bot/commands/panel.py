"""``/codex <panel> [range] [filters] [public]``: one panel, answered privately or in the channel.

Every panel reply carries pickers (range, each filter the panel takes, "Share in channel" when
private); the values offered for ``user=`` are personal data, shown only to who may see them here.
"""

from __future__ import annotations

from codex_bot.access import PERSONAL_FILTERS, is_personal
from codex_bot.commands.deps import CommandDeps
from codex_bot.commands.invocation import Invocation
from codex_bot.delivery.message import Destination, Message
from codex_bot.panels.request import PanelRequest, parse_request
from codex_bot.slack.pickers import picker_block


def panel_reply(words: list[str], invocation: Invocation, deps: CommandDeps) -> tuple[Message, Destination]:
    """The rendered answer and where it goes; raises UserError subclasses for the asker to read."""
    return request_reply(parse_request(words), invocation, deps)


def request_reply(request: PanelRequest, invocation: Invocation, deps: CommandDeps) -> tuple[Message, Destination]:
    """The answer to a parsed ``request``, with its pickers, and where it goes (access checked)."""
    where = (invocation.user_id, invocation.channel_id, invocation.channel_name, request.public)
    if is_personal(request.panel, request.filters):
        deps.access.check_personal(*where)
    result = deps.panels.run(request, at=deps.clock(), choices=True)
    personal = deps.access.may_see_personal(*where)
    choices = {key: values for key, values in result.choices.items() if personal or key not in PERSONAL_FILTERS}
    pickers = picker_block(request.to_text(), request.range_text, request.filters, choices, share=not request.public)
    destination = invocation.public() if request.public else invocation.private()
    return deps.replies.compose(result, pickers), destination
