"""docs/configuration.md, generated from :class:`~codex_bot.settings.Settings` (names, defaults, descriptions).

``python -m codex_bot.settings_doc --write`` rewrites the page; ``tests/test_docs.py`` fails when it drifts.
"""

from __future__ import annotations

import argparse
import inspect
import re
import sys
import types
import typing
from pathlib import Path

import annotated_types
from pydantic import SecretStr
from pydantic.fields import FieldInfo

from codex_bot.settings import Settings, env_name

PAGE = Path(__file__).resolve().parent.parent / "docs" / "configuration.md"
_SECTION = re.compile(r"^\s*# --- (.+?) ---")
_FIELD = re.compile(r"^ {4}(\w+):")

HEADER = """\
# Configuration

<!-- Generated from codex_bot/settings.py by `python -m codex_bot.settings_doc --write`; do not edit by hand. -->

Every setting comes from the environment or a `.env` file in the working directory. codex-bot's own
settings carry the `CODEX_BOT_` prefix; Slack's use Slack's usual names. A bad value stops the command
with one line naming the variable. `deploy/.env.example` lists the same settings with example values.
"""


def sections() -> dict[str, list[str]]:
    """Field names under each ``# --- section ---`` comment of the Settings class, in source order."""
    grouped: dict[str, list[str]] = {}
    section = "general"
    for line in inspect.getsource(Settings).splitlines():
        if match := _SECTION.match(line):
            section = match.group(1)
        elif (match := _FIELD.match(line)) and match.group(1) in Settings.model_fields:
            grouped.setdefault(section, []).append(match.group(1))
    return grouped


def render() -> str:
    """The whole page."""
    parts = [HEADER]
    for section, names in sections().items():
        parts.append(
            f"\n## {section[0].upper()}{section[1:]}\n\n| variable | type | default | meaning |\n|---|---|---|---|\n"
        )
        for name in names:
            field = Settings.model_fields[name]
            meaning = (field.description or "").replace("|", r"\|")
            kind = " ".join([_type(field.annotation), *_bounds(field)])
            parts.append(f"| `{env_name(name)}` | {kind} | {_default(field)} | {meaning} |\n")
    return "".join(parts)


def _type(annotation: object) -> str:
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        return _type(args[0])
    if origin is typing.Literal:
        return " \\| ".join(f"`{a}`" for a in args)
    if origin in (typing.Union, types.UnionType):
        shown = [_type(a) for a in args if a is not type(None)]
        return " \\| ".join(shown) + (" (optional)" if type(None) in args else "")
    if origin is list:
        return "comma-separated list"
    if origin is dict:
        return "JSON object"
    if annotation is SecretStr:
        return "secret"
    if annotation is Path:
        return "path"
    return _NAMES.get(annotation, getattr(annotation, "__name__", str(annotation)))


_NAMES: dict[object, str] = {str: "text", int: "integer", float: "number", bool: "`true` \\| `false`"}


def _bounds(field: FieldInfo) -> list[str]:
    shown = []
    for bound in field.metadata:
        if isinstance(bound, annotated_types.Gt):
            shown.append(f"> {bound.gt}")
        elif isinstance(bound, annotated_types.Ge):
            shown.append(f"≥ {bound.ge}")
    return shown


def _default(field: FieldInfo) -> str:
    value = field.get_default(call_default_factory=True)
    if value is None:
        return "unset"
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if isinstance(value, list | dict | str) and not value:
        return "empty"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    return f"`{value}`"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Print (or --write) docs/configuration.md from Settings.")
    parser.add_argument("--write", action="store_true", help=f"rewrite {PAGE}")
    args = parser.parse_args(argv)
    if args.write:
        PAGE.write_text(render(), encoding="utf-8")
    else:
        sys.stdout.write(render())
    return 0


if __name__ == "__main__":
    sys.exit(main())
