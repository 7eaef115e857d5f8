"""Safe Slack text: escaping untrusted strings for mrkdwn, and fitting any text within Slack's limits.

Every string that comes from people, rule files or telemetry (label values, filter values, rule
descriptions, notes, error reasons) goes through :func:`escape` (or :func:`code` inside backticks)
before it is put into mrkdwn, so ``<!channel>``, ``<@U…>`` and ``<https://evil|click>`` show as typed
instead of pinging everyone or hiding a link.  Every text object is made by :func:`mrkdwn` /
:func:`plain` (or cut by :func:`fit`), which never raise: a text over its limit is cut with a visible
"…", never inside an ``&amp;`` entity, a ``<link>`` or a code fence.  Commands, alerts and digests
all build their Block Kit text here.
"""

from __future__ import annotations

import re

from slack_sdk.models.blocks import MarkdownTextObject, PlainTextObject

# Slack's limits (Block Kit reference; chat.postMessage for the fallback text).
MAX_TEXT = 3000  # characters in a text object: section text, context element
MAX_FIELD = 2000  # characters in one section field
MAX_FIELDS = 10  # fields per section
MAX_HEADER = 150  # characters in a header
MAX_BUTTON = 75  # characters in a button's text
MAX_ALT_TEXT = 2000  # characters in an image's alt text
MAX_FALLBACK = 40_000  # characters in a message's top-level ``text``
MAX_BLOCKS = 50  # blocks per message
MAX_CONTEXT_ELEMENTS = 10  # elements per context block
ELLIPSIS = "…"
FENCE = "```"
EMPTY = "—"  # Slack refuses empty text objects

_OPEN_ENTITY = re.compile(r"&[a-z]*$")
_OPEN_LINK = re.compile(r"<[^>]*$")


def escape(text: object) -> str:
    """``text`` as literal mrkdwn: ``&``, ``<`` and ``>`` become entities (Slack's only control characters)."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unescape(text: str) -> str:
    """The literal text of escaped mrkdwn (the inverse of :func:`escape`)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def code(text: object) -> str:
    """``text`` escaped for an inline code span: no backtick or line break can end the span early."""
    return escape(text).replace("`", "ˋ").replace("\r", " ").replace("\n", " ")


def link(url: str, label: str) -> str:
    """A mrkdwn link ``<url|label>`` whose parts cannot break out of it."""
    return f"<{escape(url).replace('|', '%7C')}|{escape(label).replace('|', '¦')}>"


def fit(text: str, limit: int = MAX_TEXT) -> str:
    """``text`` cut to at most ``limit`` characters with a visible "…" (unchanged when it fits).

    The cut never ends inside an entity or a ``<…>`` link, and closes a code fence it leaves open.
    """
    if len(text) <= limit:
        return text
    room = limit - len(ELLIPSIS)
    while True:
        cut = _OPEN_LINK.sub("", _OPEN_ENTITY.sub("", text[: max(room, 0)]))
        suffix = ELLIPSIS + (FENCE if cut.count(FENCE) % 2 else "")
        if len(cut) + len(suffix) <= limit or room <= 0:
            return (cut + suffix)[:limit]
        room -= len(cut) + len(suffix) - limit


def mrkdwn(text: str, limit: int = MAX_TEXT) -> MarkdownTextObject:
    """A mrkdwn text object within ``limit`` (``text`` is mrkdwn already: escape untrusted parts first)."""
    return MarkdownTextObject(text=fit(text, limit) or EMPTY)


def plain(text: str, limit: int = MAX_TEXT) -> PlainTextObject:
    """A plain-text object (emoji codes shown as emoji) within ``limit``; plain text needs no escaping."""
    return PlainTextObject(text=fit(text, limit) or EMPTY, emoji=True)


def code_block(text: str, limit: int = MAX_TEXT) -> str:
    """``text`` (escaped here, backticks neutralised) as a ```` ``` ```` block of at most ``limit`` characters."""
    return FENCE + fit(escape(text).replace("`", "ˋ"), limit - 2 * len(FENCE)) + FENCE


def fit_fallback(text: str) -> str:
    """A message's notification text within Slack's 40,000 characters (Slack answers ``msg_too_long`` above)."""
    return fit(text, MAX_FALLBACK) or EMPTY
