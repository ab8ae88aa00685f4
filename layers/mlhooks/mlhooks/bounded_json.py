"""JSON from users, within bounds: how deep it nests, and numbers Python can read.

Python's parser recurses once per level, so a document nested a few thousand deep exhausts the stack
(RecursionError), and an integer of more than 4,300 digits is refused with a ValueError (CPython's
guard against quadratic conversion). Both must be a clear 4xx, never a 500, so JSON text from a user
is measured first, in one linear pass that needs no stack, and parsed only when it fits.
"""

from __future__ import annotations

import json
from typing import Any

MAX_DEPTH = 64


class JsonRefused(ValueError):
    """JSON text that is not valid, or not within bounds; the message says which."""


def nesting_depth(value: Any) -> int:
    """How deep a parsed JSON value nests (iteratively: a hostile value must not exhaust the stack)."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            depth += 1
            deepest = max(deepest, depth)
            stack.extend((child, depth) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def lone_surrogate(value: Any) -> bool:
    """Whether any string of a parsed JSON value (a key or a value) holds half of a surrogate pair.
    JSON's `\\ud800` escape makes one, and it is no text: it cannot be encoded, stored or sent."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(item, dict):
            stack.extend(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def text_depth(text: str) -> int:
    """How deep JSON text nests, read in one pass that skips strings (so brackets inside them do
    not count). It does not validate: the parser does that once the depth is known to be safe."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def loads(text: str | bytes, *, max_depth: int = MAX_DEPTH) -> Any:
    """Parse JSON text from a user; JsonRefused (a ValueError) when it is invalid or out of bounds."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise JsonRefused("The JSON is not UTF-8 text.") from None
    if text_depth(text) > max_depth:
        raise JsonRefused(f"The JSON nests deeper than {max_depth} levels.")
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise JsonRefused(
            f"The JSON is not valid ({exc.msg} at line {exc.lineno}, column {exc.colno})."
        ) from None
    except (ValueError, RecursionError):
        # The int-digits limit; or a nesting the scan above did not count (it counts every bracket).
        raise JsonRefused("The JSON holds a number too long to read (more than 4,300 digits).") from None
    if lone_surrogate(value):
        raise JsonRefused("The JSON holds half of a surrogate pair (a lone \\ud800-\\udfff escape): no text.")
    return value
