"""JSON from clients, parsed with a nesting limit (HTTP bodies and Socket.IO packets share it).

The C parser recurses once per level, so a document nested thousands of levels deep ends in a
RecursionError (a 500 and a traceback) instead of a client error; no payload of this API nests more
than a few levels. Too deep is `JsonTooDeep`, a ValueError.
"""

from __future__ import annotations

import json
from typing import Any

MAX_DEPTH = 64


class JsonTooDeep(ValueError):
    """A JSON document nests arrays and objects deeper than allowed."""

    def __init__(self, max_depth: int) -> None:
        super().__init__(f"JSON nested deeper than {max_depth} levels")
        self.max_depth = max_depth


def loads(text: str | bytes, max_depth: int = MAX_DEPTH, **kwargs: Any) -> Any:
    """`json.loads`, refusing documents whose arrays and objects nest deeper than `max_depth` (JsonTooDeep)."""
    try:
        value = json.loads(text, **kwargs)
    except RecursionError:  # the parser gave up long before the end: far deeper than any limit
        raise JsonTooDeep(max_depth) from None
    if depth_exceeds(value, max_depth):
        raise JsonTooDeep(max_depth)
    return value


def depth_exceeds(value: Any, max_depth: int) -> bool:
    """Whether lists and dicts nest inside `value` deeper than `max_depth` levels (a scalar is level 0)."""
    level, current = 0, [value]
    while current:
        containers = [item for item in current if isinstance(item, list | dict)]
        if not containers:
            return False
        level += 1
        if level > max_depth:
            return True
        current = [child for item in containers for child in (item.values() if isinstance(item, dict) else item)]
    return False
