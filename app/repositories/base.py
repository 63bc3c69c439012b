"""Repositories hold every query. The session's bound tenant scopes them (ORM filter + RLS)."""

import base64
import json
import uuid
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, cast, literal, select, tuple_
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import AppError
from app.core.tenancy import required_tenant

M = TypeVar("M")
# invalid text representation, invalid datetime format, datetime overflow, numeric out of range
INVALID_VALUE_SQLSTATES = ("22P02", "22007", "22008", "22003")


class InvalidCursor(AppError):
    """400, not 422: the cursor is well-formed but not one this API issued (like a bad token)."""

    status, code, title = 400, "invalid-cursor", "Invalid cursor"


@dataclass(frozen=True)
class SortKey:
    """Order by `column` (NOT NULL), then by id, both in one direction: a total order for keysets."""

    column: Any | None = None
    descending: bool = False


def encode_cursor(values: list[Any]) -> str:
    raw = json.dumps([str(v) for v in values], separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(cursor: str, size: int) -> list[str]:
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, TypeError) as exc:
        raise InvalidCursor("The cursor is not one this API issued.") from exc
    if not isinstance(values, list) or len(values) != size or not all(isinstance(v, str) for v in values):
        raise InvalidCursor("The cursor is not one this API issued.")
    return values


class TenantRepository(Generic[M]):
    model: type[M]

    def __init__(self, session: AsyncSession, model: type[M] | None = None) -> None:
        self.session = session
        if model is not None:
            self.model = model

    @property
    def tenant_id(self) -> uuid.UUID:
        return required_tenant(self.session)

    async def get(self, id_: uuid.UUID, *, for_update: bool = False) -> M | None:
        stmt = select(self.model).where(self.model.id == id_)
        if for_update:
            stmt = stmt.with_for_update()
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def add(self, obj: M) -> M:
        obj.tenant_id = self.tenant_id
        self.session.add(obj)
        await self.session.flush()
        return obj

    async def page(
        self, stmt: Select, *, limit: int, cursor: str | None, descending: bool = False, sort: SortKey | None = None
    ) -> tuple[list[M], str | None]:
        """Keyset page ordered by (sort column, id), or by id alone (UUIDv7: creation order).
        A deep page costs what the first does: the cursor is a position, not an offset."""
        sort = sort or SortKey(descending=descending)
        columns = [c for c in (sort.column, self.model.id) if c is not None]
        if cursor:
            values = decode_cursor(cursor, len(columns))
            after = tuple_(*(cast(literal(v), c.type) for v, c in zip(values, columns, strict=True)))
            stmt = stmt.where(tuple_(*columns) < after if sort.descending else tuple_(*columns) > after)
        stmt = stmt.order_by(*(c.desc() if sort.descending else c.asc() for c in columns)).limit(limit + 1)
        try:
            rows = list((await self.session.execute(stmt)).scalars())
        except DBAPIError as exc:  # a forged cursor value that does not cast to the column's type
            if getattr(exc.orig, "sqlstate", None) in INVALID_VALUE_SQLSTATES:
                raise InvalidCursor("The cursor is not one this API issued.") from exc
            raise
        if len(rows) <= limit:
            return rows, None
        last = rows[limit - 1]
        return rows[:limit], encode_cursor([getattr(last, c.key) for c in columns])
