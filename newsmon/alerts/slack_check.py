"""Check a Slack payload against the limits Slack enforces, before it is queued or sent.

newsmon.alerts.render builds the payloads within these limits; this check is what the tests and
the Slack stand-in run on every body, so a payload Slack would refuse fails here first.
"""

from __future__ import annotations

import re
from typing import Any

from newsmon.alerts.render import (
    SLACK_BLOCK_ID_MAX,
    SLACK_CONTEXT_ELEMENTS_MAX,
    SLACK_FIELD_TEXT_MAX,
    SLACK_HEADER_MAX,
    SLACK_MAX_BLOCKS,
    SLACK_MESSAGE_TEXT_MAX,
    SLACK_SECTION_FIELDS_MAX,
    SLACK_SECTION_TEXT_MAX,
    SLACK_TEXT_OBJECT_MAX,
    slack_len,
)

_LINK_RE = re.compile(r"<(?:https?://|mailto:)[^<>|\s]+(?:\|[^<>]*)?>")
_QUOTE_RE = re.compile(r"^>", flags=re.MULTILINE)
_BARE_AMP_RE = re.compile(r"&(?!(?:amp|lt|gt);)")


def _check_text(obj: Any, where: str, limit: int, problems: list[str]) -> None:
    """Append to problems what is wrong with one text object (type, emptiness, length, escaping)."""
    if not isinstance(obj, dict) or obj.get("type") not in ("plain_text", "mrkdwn"):
        problems.append(f"{where}: not a plain_text/mrkdwn text object")
        return
    text = obj.get("text")
    if not isinstance(text, str) or not text:
        problems.append(f"{where}.text: missing or empty")
        return
    if slack_len(text) > limit:
        problems.append(f"{where}.text: {slack_len(text)} chars > {limit}")
    if obj["type"] == "mrkdwn":
        _check_escaped(text, f"{where}.text", problems)


def _check_escaped(text: str, where: str, problems: list[str]) -> None:
    """Append a problem if mrkdwn text has a raw &, < or > outside a link or a line-start quote."""
    # A ">" opening a line is mrkdwn's block quote, the one place a raw ">" is meant.
    bare = _QUOTE_RE.sub("", _LINK_RE.sub("", text))
    if "<" in bare or ">" in bare:
        problems.append(f"{where}: unescaped < or > outside a link")
    if _BARE_AMP_RE.search(text):
        problems.append(f"{where}: unescaped &")


def validate_slack_payload(payload: dict[str, Any]) -> list[str]:
    """Return the Slack limit violations of a webhook payload (an empty list means valid)."""
    problems: list[str] = []
    text = payload.get("text")
    blocks = payload.get("blocks")
    if not (isinstance(text, str) and text) and not blocks:
        problems.append("text: missing, and no blocks (Slack answers no_text)")
    if isinstance(text, str):
        if slack_len(text) > SLACK_MESSAGE_TEXT_MAX:
            problems.append(f"text: {slack_len(text)} chars > {SLACK_MESSAGE_TEXT_MAX}")
        _check_escaped(text, "text", problems)
    if blocks is None:
        return problems
    if not isinstance(blocks, list):
        return [*problems, "blocks: not a list"]
    if len(blocks) > SLACK_MAX_BLOCKS:
        problems.append(f"blocks: {len(blocks)} > {SLACK_MAX_BLOCKS}")
    for i, block in enumerate(blocks):
        where = f"blocks[{i}]"
        if not isinstance(block, dict):
            problems.append(f"{where}: not an object")
            continue
        block_id = block.get("block_id")
        if block_id is not None and slack_len(str(block_id)) > SLACK_BLOCK_ID_MAX:
            problems.append(f"{where}.block_id: longer than {SLACK_BLOCK_ID_MAX}")
        kind = block.get("type")
        if kind == "header":
            header = block.get("text")
            if not isinstance(header, dict) or header.get("type") != "plain_text":
                problems.append(f"{where}.text: a header needs a plain_text text object")
            else:
                _check_text(header, f"{where}.text", SLACK_HEADER_MAX, problems)
        elif kind == "section":
            fields = block.get("fields")
            if "text" not in block and not fields:
                problems.append(f"{where}: a section needs text or fields")
            if "text" in block:
                _check_text(block["text"], f"{where}.text", SLACK_SECTION_TEXT_MAX, problems)
            if fields is not None:
                if not isinstance(fields, list) or len(fields) > SLACK_SECTION_FIELDS_MAX:
                    problems.append(f"{where}.fields: more than {SLACK_SECTION_FIELDS_MAX}")
                else:
                    for j, field in enumerate(fields):
                        _check_text(field, f"{where}.fields[{j}]", SLACK_FIELD_TEXT_MAX, problems)
        elif kind == "context":
            elements = block.get("elements")
            if not isinstance(elements, list) or not elements:
                problems.append(f"{where}.elements: missing or empty")
            else:
                if len(elements) > SLACK_CONTEXT_ELEMENTS_MAX:
                    problems.append(
                        f"{where}.elements: {len(elements)} > {SLACK_CONTEXT_ELEMENTS_MAX}"
                    )
                for j, element in enumerate(elements):
                    _check_text(element, f"{where}.elements[{j}]", SLACK_TEXT_OBJECT_MAX, problems)
        elif kind != "divider":
            problems.append(f"{where}: block type {kind!r} is not one this module emits")
    return problems
