"""What someone asked for: ``tokens 7d model=gpt-5-codex public`` → :class:`PanelRequest`.

Slash commands and the CLI both parse with :func:`parse_request`.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field

from codex_bot.errors import BadFilter, BadRange, UserError
from codex_bot.metrics.ranges import RANGE_FORMS, looks_like_range, normalize
from codex_bot.panels.catalog import find_panel

DEFAULT_RANGE = "24h"
PUBLIC_WORD = "public"


@dataclass(frozen=True)
class PanelRequest:
    panel: str  # canonical panel name
    range_text: str = DEFAULT_RANGE
    filters: dict[str, str] = field(default_factory=dict)
    public: bool = False  # post in the channel rather than only to the asker
    # False: a filter value Prometheus has never seen gives an empty answer, not BadFilter (e.g. the
    # tools panel of a person who never made a tool call, asked for next to their other panels)
    check_values: bool = True

    def to_text(self) -> str:
        """The words :func:`parse_request` reads back into this request (without ``public``)."""
        filters = [f"{key}={shlex.quote(value)}" for key, value in sorted(self.filters.items())]
        return " ".join([self.panel, shlex.quote(self.range_text), *filters])


def split_words(text: str) -> list[str]:
    """Shell-like words so ``user="a b"`` stays one word; plain whitespace split if quotes don't pair."""
    try:
        return shlex.split(text)
    except ValueError:
        return text.split()


def parse_request(words: Sequence[str] | str) -> PanelRequest:
    """``PANEL [RANGE] [key=value ...] [public]`` in any order after the panel; RANGE may be two words."""
    words = split_words(words) if isinstance(words, str) else list(words)
    if not words:
        raise UserError("Name a panel, e.g. `tokens 7d`.")
    panel = find_panel(words[0])
    range_text: str | None = None
    filters: dict[str, str] = {}
    public = False
    rest = words[1:]
    while rest:
        word = rest.pop(0)
        if rest and looks_like_range(f"{word} {rest[0]}"):  # "this week", "last week"
            word = f"{word} {rest.pop(0)}"
        if "=" in word:
            key, value = _filter(word)
            panel.check_filter_keys([key])
            if key in filters:
                raise BadFilter(f"{key}= is given twice; give each filter once.")
            filters[key] = value
        elif normalize(word) == PUBLIC_WORD:
            public = True
        elif looks_like_range(word):
            if range_text is not None:
                raise BadRange(f"Two ranges given ({range_text!r} and {word!r}); give one.")
            range_text = normalize(word)
        else:
            raise UserError(
                f"I don't understand {word!r}. Use `{panel.name} [RANGE] [key=value ...] [public]`, "
                f"RANGE one of: {RANGE_FORMS}; e.g. `{panel.example}`."
            )
    return PanelRequest(panel.name, range_text or DEFAULT_RANGE, filters, public)


def _filter(word: str) -> tuple[str, str]:
    key, _, value = word.partition("=")
    key = key.strip().lower()
    if not key or not value:
        raise BadFilter(f"A filter needs a name and a value, like model=gpt-5-codex (got {word!r}).")
    return key, value
