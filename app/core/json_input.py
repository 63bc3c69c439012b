"""Reading JSON that came from outside (webhook bodies) defensively: what PostgreSQL cannot store,
and fields of the expected shape or nothing."""

import re
from typing import Any

# PostgreSQL text holds neither a NUL nor a lone UTF-16 surrogate (json.loads makes one of "\ud800").
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def holds_unstorable_text(data: Any) -> bool:
    """Any key or string in `data` that PostgreSQL could not store, found without recursion (a
    body nested as deep as the parser allows must not exhaust the stack here)."""
    pending = [data]
    while pending:
        value = pending.pop()
        if isinstance(value, str):
            if UNSTORABLE.search(value):
                return True
        elif isinstance(value, dict):
            pending += list(value.keys()) + list(value.values())
        elif isinstance(value, list):
            pending += value
    return False


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def matching(pattern: re.Pattern[str], value: Any) -> str | None:
    """`value` if it is a string the whole of which matches `pattern`, else None."""
    return value if isinstance(value, str) and pattern.fullmatch(value) else None
