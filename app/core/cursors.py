"""Keyset cursors: opaque to clients, signed by the server, every value checked before it reaches SQL.

A cursor is base64url(MAC ‖ JSON list of the last row's sort values as strings). The MAC is
HMAC-SHA256, truncated to 128 bits, over the list's name (which list and sort the cursor belongs
to) and the JSON, with a key derived from JWT_SECRET. A cursor that was not issued by this server
for this list and sort is refused with 400 `invalid-cursor` before it is even parsed; the values of
a genuine one are still parsed into their column's Python type (a NUL, an impossible offset or a
non-finite number are refused the same way), so nothing a client sends reaches SQL as text.
Rotating JWT_SECRET invalidates outstanding cursors: a client starts the list again.
"""

import base64
import binascii
import hashlib
import hmac
import json
import re
import unicodedata
import uuid
from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from app.core.config import get_settings
from app.core.errors import InvalidCursor

# session.info key holding the request's cursor key (set by get_session from the app's settings).
CURSOR_KEY = "cursor_key"
MAC_BYTES = 16
INVALID = "The cursor is not one this API issued for this list; start again without `cursor`."


@lru_cache
def cursor_key(secret: str) -> bytes:
    """A key of its own for cursors, derived from JWT_SECRET (a cursor MAC is never a token MAC)."""
    return hmac.new(secret.encode(), b"rms-billing keyset cursor v1", hashlib.sha256).digest()


def session_key(session: Any) -> bytes:
    """The request's cursor key (get_session puts it in the session); the process settings' otherwise."""
    return session.info.get(CURSOR_KEY) or cursor_key(get_settings().jwt_secret)


def _mac(key: bytes, scope: str, payload: bytes) -> bytes:
    return hmac.new(key, scope.encode() + b"\x00" + payload, hashlib.sha256).digest()[:MAC_BYTES]


def _text(value: Any) -> str:
    if isinstance(value, date):
        return value.isoformat()
    return format(value, "f") if isinstance(value, Decimal) else str(value)


def encode_cursor(key: bytes, scope: str, values: Sequence[Any]) -> str:
    payload = json.dumps([_text(v) for v in values], separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(_mac(key, scope, payload) + payload).rstrip(b"=").decode()


def _plain_text(value: str) -> str:
    """Text PostgreSQL can hold (no NUL, no lone surrogate); other controls may be in older rows."""
    if "\x00" in value or any(unicodedata.category(ch) == "Cs" for ch in value):
        raise ValueError("NUL or surrogate")
    return value


def _integer(value: str) -> int:
    if not re.fullmatch(r"-?[0-9]{1,18}", value):
        raise ValueError("not an integer")
    return int(value)


def _decimal(value: str) -> Decimal:
    if not re.fullmatch(r"-?[0-9]{1,30}(\.[0-9]{1,30})?", value):
        raise ValueError("not a decimal")
    return Decimal(value)


def _datetime(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError("no offset")
    return parsed


PARSERS: dict[type, Callable[[str], Any]] = {
    str: _plain_text,
    int: _integer,
    Decimal: _decimal,
    datetime: _datetime,  # before date: a datetime is a date
    date: date.fromisoformat,
    uuid.UUID: uuid.UUID,
}


def _parse(value: str, kind: type) -> Any:
    for python_type, parser in PARSERS.items():
        if issubclass(kind, python_type):
            return parser(value)
    raise ValueError(f"no cursor parser for {kind.__name__}")


def decode_cursor(key: bytes, scope: str, cursor: str, kinds: Sequence[type]) -> list[Any]:
    """The values of a cursor this server issued for `scope`, as `kinds`; anything else is InvalidCursor."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except (binascii.Error, ValueError) as exc:
        raise InvalidCursor(INVALID) from exc
    mac, payload = raw[:MAC_BYTES], raw[MAC_BYTES:]
    if len(mac) != MAC_BYTES or not hmac.compare_digest(mac, _mac(key, scope, payload)):
        raise InvalidCursor(INVALID)
    try:
        values = json.loads(payload)
        if not isinstance(values, list) or len(values) != len(kinds) or not all(isinstance(v, str) for v in values):
            raise ValueError("not a list of the expected size")
        return [_parse(v, kind) for v, kind in zip(values, kinds, strict=True)]
    except (ValueError, InvalidOperation, OverflowError) as exc:
        raise InvalidCursor(INVALID) from exc
