"""Slack's rules for a message's ``blocks`` (and ``text``), as the Web API checks them.

``block_errors`` answers like Slack's ``invalid_blocks``: one string per problem, each ending with the
JSON pointer of the offending value (``"must be less than 3001 characters [json-pointer:/blocks/0/text/text]"``).
It checks what slack_sdk's models check (``Block.parse`` + ``validate_json``) *and* the published limits
slack_sdk leaves out (context element text, field text, button text, URLs, ids, block counts).
"""

from __future__ import annotations

from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block

MAX_MESSAGE_BLOCKS = 50  # chat.postMessage / chat.update / chat.postEphemeral / response_url
MAX_VIEW_BLOCKS = 100  # views.publish / views.open / views.update
MAX_FALLBACK_TEXT = 40_000  # top-level ``text``; longer answers msg_too_long
MAX_TEXT = 3000  # any text object
MAX_FIELDS, MAX_FIELD_TEXT = 10, 2000  # section fields
MAX_HEADER = 150
MAX_CONTEXT_ELEMENTS = 10
MAX_ACTIONS_ELEMENTS = 25
MAX_BUTTON_TEXT, MAX_BUTTON_VALUE = 75, 2000
MAX_ID = 255  # block_id, action_id
MAX_ALT_TEXT, MAX_URL = 2000, 3000


def _at(message: str, pointer: str) -> str:
    return f"{message} [json-pointer:{pointer}]"


def _length(value: Any, limit: int, pointer: str, minimum: int = 0) -> list[str]:
    if not isinstance(value, str):
        return [_at("must be a string", pointer)]
    if len(value) > limit:
        return [_at(f"must be less than {limit + 1} characters", pointer)]
    if len(value) < minimum:
        return [_at(f"must be more than {minimum - 1} characters", pointer)]
    return []


def _items(value: Any, limit: int, pointer: str) -> list[str]:
    if not isinstance(value, list):
        return [_at("must be an array", pointer)]
    return [_at(f"must be no more than {limit} items", pointer)] if len(value) > limit else []


def _text_object(obj: Any, limit: int, pointer: str, kinds: tuple[str, ...] = ("plain_text", "mrkdwn")) -> list[str]:
    if not isinstance(obj, dict) or obj.get("type") not in kinds:
        return [_at(f"must be a text object of type {' or '.join(kinds)}", pointer)]
    return _length(obj.get("text"), limit, pointer + "/text", minimum=1)


def _element(element: Any, pointer: str) -> list[str]:
    """An interactive element or a context element."""
    if not isinstance(element, dict):
        return [_at("must be an object", pointer)]
    kind = element.get("type")
    problems: list[str] = []
    if "action_id" in element:
        problems += _length(element["action_id"], MAX_ID, pointer + "/action_id")
    if kind in ("plain_text", "mrkdwn"):
        problems += _text_object(element, MAX_TEXT, pointer)
    elif kind == "button":
        problems += _text_object(element.get("text"), MAX_BUTTON_TEXT, pointer + "/text", ("plain_text",))
        if "value" in element:
            problems += _length(element["value"], MAX_BUTTON_VALUE, pointer + "/value")
        if "url" in element:
            problems += _length(element["url"], MAX_URL, pointer + "/url")
    elif kind == "image":
        problems += _image(element, pointer)
    return problems


def _image(image: dict[str, Any], pointer: str) -> list[str]:
    problems = _length(image.get("alt_text"), MAX_ALT_TEXT, pointer + "/alt_text", minimum=1)
    if "image_url" in image:
        problems += _length(image["image_url"], MAX_URL, pointer + "/image_url", minimum=1)
    elif "slack_file" not in image:
        problems.append(_at("must provide image_url or slack_file", pointer))
    if "title" in image:
        problems += _text_object(image["title"], MAX_ALT_TEXT, pointer + "/title", ("plain_text",))
    return problems


def _section(block: dict[str, Any], pointer: str) -> list[str]:
    problems: list[str] = []
    if "text" not in block and "fields" not in block:
        problems.append(_at("must provide text or fields", pointer))
    if "text" in block:
        problems += _text_object(block["text"], MAX_TEXT, pointer + "/text")
    if "fields" in block:
        fields = block["fields"]
        problems += _items(fields, MAX_FIELDS, pointer + "/fields")
        for i, item in enumerate(fields if isinstance(fields, list) else []):
            problems += _text_object(item, MAX_FIELD_TEXT, f"{pointer}/fields/{i}")
    if "accessory" in block:
        problems += _element(block["accessory"], pointer + "/accessory")
    return problems


def _elements(block: dict[str, Any], limit: int, pointer: str) -> list[str]:
    elements = block.get("elements")
    problems = _items(elements, limit, pointer + "/elements")
    if isinstance(elements, list):
        if not elements:
            problems.append(_at("must provide at least 1 item", pointer + "/elements"))
        for i, element in enumerate(elements):
            problems += _element(element, f"{pointer}/elements/{i}")
    return problems


def _block_limits(block: dict[str, Any], pointer: str) -> list[str]:
    kind = block.get("type")
    problems = _length(block["block_id"], MAX_ID, pointer + "/block_id") if "block_id" in block else []
    if kind == "section":
        problems += _section(block, pointer)
    elif kind == "header":
        problems += _text_object(block.get("text"), MAX_HEADER, pointer + "/text", ("plain_text",))
    elif kind == "context":
        problems += _elements(block, MAX_CONTEXT_ELEMENTS, pointer)
    elif kind == "actions":
        problems += _elements(block, MAX_ACTIONS_ELEMENTS, pointer)
    elif kind == "image":
        problems += _image(block, pointer)
    return problems


def _model_errors(block: dict[str, Any], pointer: str) -> list[str]:
    """What slack_sdk's own block models reject (unknown types, their own limits)."""
    try:
        parsed = Block.parse(block)
        if parsed is None or parsed.type != block.get("type"):
            return [_at(f"unsupported block type {block.get('type')!r}", pointer + "/type")]
        parsed.validate_json()
    except (SlackObjectFormationError, TypeError, ValueError, AttributeError, KeyError) as exc:
        return [_at(f"invalid block: {exc}", pointer)]
    return []


def block_errors(blocks: Any, max_blocks: int = MAX_MESSAGE_BLOCKS) -> list[str]:
    """Every problem Slack would name for ``blocks`` (empty: Slack takes them)."""
    if not isinstance(blocks, list):
        return [_at("must be an array", "/blocks")]
    problems = _items(blocks, max_blocks, "/blocks")
    for i, block in enumerate(blocks):
        pointer = f"/blocks/{i}"
        if not isinstance(block, dict):
            problems.append(_at("must be an object", pointer))
            continue
        problems += _block_limits(block, pointer) or _model_errors(block, pointer)
    return problems


def message_error(text: Any, blocks: Any, max_blocks: int = MAX_MESSAGE_BLOCKS) -> dict[str, Any] | None:
    """Slack's error answer for a message with ``text`` and ``blocks`` (None: it is accepted)."""
    if not text and not blocks:
        return {"ok": False, "error": "no_text"}
    if isinstance(text, str) and len(text) > MAX_FALLBACK_TEXT:
        return {"ok": False, "error": "msg_too_long"}
    problems = block_errors(blocks, max_blocks) if blocks else []
    if problems:
        return {
            "ok": False,
            "error": "invalid_blocks",
            "errors": problems,
            "response_metadata": {"messages": [f"[ERROR] {p}" for p in problems]},
        }
    return None
