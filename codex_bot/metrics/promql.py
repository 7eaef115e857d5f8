"""PromQL text from values people typed: string literals, exact matchers, selectors.

Every label value goes through :func:`string_literal`, so no input can close the string,
add a matcher or change the query.  Filters use exact ``=`` matchers only: a value such as
``.*`` or ``a|b`` is compared literally, never as a regular expression.  The one regex matcher,
:func:`one_of`, takes plain words from code (``input|output``), nothing people typed.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping

_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_WORD = re.compile(r"\w+", re.ASCII)
_SHORT_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_UNPRINTABLE = {"Cc", "Cf", "Co", "Cn", "Zl", "Zp"}
_REPLACEMENT = "\\uFFFD"  # lone surrogates are not valid Unicode; Prometheus rejects them even escaped


def _escape_char(char: str) -> str:
    if char in _SHORT_ESCAPES:
        return _SHORT_ESCAPES[char]
    category = unicodedata.category(char)
    if category == "Cs":
        return _REPLACEMENT
    if category in _UNPRINTABLE:
        code = ord(char)
        return f"\\u{code:04X}" if code <= 0xFFFF else f"\\U{code:08X}"
    return char


def string_literal(value: str) -> str:
    """``value`` as a double-quoted PromQL string that evaluates back to exactly ``value``."""
    return '"' + "".join(_escape_char(char) for char in value) + '"'


def label_name(name: str) -> str:
    """``name`` if it is a valid label name; ValueError otherwise (names come from code, not users)."""
    if not _LABEL_NAME.fullmatch(name):
        raise ValueError(f"not a Prometheus label name: {name!r}")
    return name


def matchers(labels: Mapping[str, str]) -> str:
    """``a="x",b="y"``: exact matchers, labels in the given order."""
    return ",".join(f"{label_name(label)}={string_literal(value)}" for label, value in labels.items())


def one_of(label: str, words: Iterable[str]) -> str:
    """``label=~"a|b"``: a matcher for any of ``words``, each a plain word (letters, digits, ``_``)."""
    listed = sorted(set(words))
    if not listed or not all(_WORD.fullmatch(word) for word in listed):
        raise ValueError(f"one_of takes plain words, got {listed!r}")
    return f"{label_name(label)}=~{string_literal('|'.join(listed))}"


def selector(metric: str, labels: Mapping[str, str] | None = None, extra: Iterable[str] = ()) -> str:
    """``metric{a="x"}``, or the bare name when there is nothing to match; ``extra`` matchers
    (from :func:`one_of`) come last."""
    if not _METRIC_NAME.fullmatch(metric):
        raise ValueError(f"not a Prometheus metric name: {metric!r}")
    inner = ",".join(part for part in (matchers(labels or {}), *extra) if part)
    return f"{metric}{{{inner}}}" if inner else metric


def duration(seconds: int) -> str:
    """A range-vector duration such as ``604800s``."""
    if seconds <= 0:
        raise ValueError(f"a range needs a positive duration, got {seconds}")
    return f"{int(seconds)}s"
