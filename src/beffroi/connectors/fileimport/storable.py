"""What no database stores, refused before anything is stored, and values quoted in messages.

The NUL character (PostgreSQL refuses it) and lone UTF-16 surrogates (not characters at all)
anywhere in parsed JSON, keys included, NaN and Infinity, and JSON nested deeper than
:data:`MAX_JSON_DEPTH`: :func:`check_json` names the first offending place. The file import,
the API and the claim libraries apply the same checks.
"""

from __future__ import annotations

import json
import math
import re
from typing import Final

from beffroi.connectors.base import MalformedPayload

#: Deepest nesting of JSON accepted (Zeeschuimer's posts nest about 20 levels): deeper data
#: would exhaust Python's recursion when stored or shown.
MAX_JSON_DEPTH: Final = 64
#: Characters no database stores as text: NUL (PostgreSQL) and lone UTF-16 surrogates (not
#: characters at all; neither UTF-8 nor SQLite nor PostgreSQL take them).
_UNSTORABLE_RE = re.compile("[\x00\ud800-\udfff]")
_MAX_SHOWN = 80


def excerpt(value: object) -> str:
    """``value`` as a message quotes it: on one line, unstorable characters escaped, at most
    80 characters."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = escape_unstorable(text).replace("\n", " ").replace("\r", " ")
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 1] + "…"


def json_type(value: object) -> str:
    """What a JSON value is, in words for an error message."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, str):
        return "text"
    return type(value).__name__


class UnstorableJSON(MalformedPayload):
    """Parsed JSON that no database stores: nested too deeply, NUL, a lone surrogate,
    NaN or Infinity. ``too_deep`` tells the first case apart (it has its own message)."""

    def __init__(self, reason: str, *, too_deep: bool = False) -> None:
        super().__init__(reason)
        self.too_deep = too_deep


def escape_unstorable(text: str) -> str:
    """``text`` with the characters :func:`check_text` refuses written as escapes
    (``\\u0000``), so that a message quoting it can be printed and stored."""
    return _UNSTORABLE_RE.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


def check_json(value: object, *, noun: str = "field", max_depth: int = MAX_JSON_DEPTH) -> None:
    """Raise :class:`UnstorableJSON` when parsed JSON holds what no database stores.

    Walks ``value`` without recursion (it may be nested deeper than Python recurses) and
    names the first offending place, e.g. ``field 'author.name' contains a NUL character``.
    """
    # (value, its parent's path, its key or index, depth); a path is only spelled out for
    # containers and for the error, so long flat lists cost little.
    pending: list[tuple[object, str, str | int | None, int]] = [(value, "", None, 0)]
    while pending:
        current, parent, key, depth = pending.pop()
        if isinstance(current, str):
            if _UNSTORABLE_RE.search(current):
                check_text(current, _place(noun, _path(parent, key)))
            continue
        if isinstance(current, float) and not math.isfinite(current):
            raise UnstorableJSON(
                f"{_place(noun, _path(parent, key))}: {current} is not a number JSON allows"
            )
        if not isinstance(current, dict | list):
            continue
        if depth >= max_depth:
            raise UnstorableJSON(
                f"the JSON is nested more than {max_depth} levels deep (the limit)",
                too_deep=True,
            )
        path = _path(parent, key)
        if isinstance(current, list):
            pending.extend(
                (item, path, index, depth + 1) for index, item in reversed(list(enumerate(current)))
            )
            continue
        for name in current:
            if _UNSTORABLE_RE.search(str(name)):
                check_text(str(name), f"{_place(noun, _path(path, str(name)))}: its name")
        pending.extend(
            (item, path, str(name), depth + 1) for name, item in reversed(current.items())
        )


def _place(noun: str, path: str) -> str:
    return f"{noun} '{escape_unstorable(path)}'" if path else "a value"


def _path(parent: str, key: str | int | None) -> str:
    if key is None:
        return parent
    if isinstance(key, int):
        return f"{parent}[{key}]"
    return f"{parent}.{key}" if parent else key


def check_text(text: str, what: str) -> None:
    """Raise :class:`UnstorableJSON` when ``text`` holds a character no database stores;
    ``what`` names it in the message (``field 'text'``)."""
    match = _UNSTORABLE_RE.search(text)
    if match is None:
        return
    char = match.group()
    problem = (
        "a NUL character (\\u0000)"
        if char == "\x00"
        else f"\\u{ord(char):04x}, half of a UTF-16 surrogate pair and not a character"
    )
    raise UnstorableJSON(
        f"{what} contains {problem}, which cannot be stored; remove it or export the data again"
    )
