"""The pickers under a panel reply: a select for the range, one per filter the panel takes, "Share in channel".

Slack sends back only the element that changed, so the request the reply answers travels in the
block id (``codex_panel:<request words>``, at most 255 characters) and each option's value is just
the new range or filter value.  Slack's limits are kept: at most 100 options per select, option
text ≤ 75 characters and values ≤ 150 (longer label values cannot be offered and are left out).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from slack_sdk.models.blocks import ActionsBlock, ButtonElement, Option, StaticSelectElement

BLOCK_PREFIX = "codex_panel:"
PICK_RANGE = "codex_pick_range"
PICK_FILTER = "codex_pick_filter_"  # + the filter key, e.g. codex_pick_filter_model
SHARE = "codex_share"
ANY = "-"  # the value of "any <key>" (a filter value is sent as "=" + value, so it never clashes)
RANGES = ("1h", "24h", "7d", "30d", "today", "yesterday", "this week", "last week")
MAX_BLOCK_ID = 255
MAX_OPTIONS = 100
MAX_OPTION_TEXT = 75
MAX_VALUE = 150


def _option(text: str, value: str) -> Option:
    shown = text if len(text) <= MAX_OPTION_TEXT else text[: MAX_OPTION_TEXT - 1] + "…"
    return Option(text=shown, value=value)


def range_select(current: str) -> StaticSelectElement:
    ranges = list(RANGES) if current in RANGES else [current, *RANGES]
    options = [_option(text, text) for text in ranges]
    chosen = next(o for o in options if o.value == current)
    return StaticSelectElement(action_id=PICK_RANGE, placeholder="Range", options=options, initial_option=chosen)


def filter_select(key: str, values: Sequence[str], current: str | None) -> StaticSelectElement:
    """``any <key>`` and the values that fit Slack's limits (the current one always among them)."""
    fitting = [v for v in values if len("=" + v) <= MAX_VALUE and v != current]
    first = [current] if current is not None else []
    shown = first + fitting[: MAX_OPTIONS - 1 - len(first)]  # "any" takes one place
    options = [_option(f"any {key}", ANY), *(_option(f"{key}={v}", "=" + v) for v in shown)]
    chosen = options[1] if current is not None else options[0]
    return StaticSelectElement(action_id=PICK_FILTER + key, placeholder=key, options=options, initial_option=chosen)


def picker_block(
    request_text: str, range_text: str, filters: Mapping[str, str], choices: Mapping[str, Sequence[str]], *, share: bool
) -> ActionsBlock | None:
    """The pickers for the reply to ``request_text``; None when the request is too long to carry."""
    block_id = BLOCK_PREFIX + request_text
    if len(block_id) > MAX_BLOCK_ID or any(len(value) + 1 > MAX_VALUE for value in filters.values()):
        return None
    elements: list[StaticSelectElement | ButtonElement] = [range_select(range_text)]
    elements += [filter_select(key, values, filters.get(key)) for key, values in choices.items()]
    if share:
        elements.append(ButtonElement(text="Share in channel", action_id=SHARE, value=request_text))
    return ActionsBlock(block_id=block_id, elements=elements)


def request_of(block_id: str) -> str:
    """The request words carried by a picker block's id."""
    return block_id.removeprefix(BLOCK_PREFIX)
