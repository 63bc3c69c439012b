"""Repositories hold every query. The session's bound tenant scopes them (ORM filter + RLS)."""

import base64
import uuid
from typing import Generic, TypeVar

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import AppError
from app.core.tenancy import TENANT_KEY

M = TypeVar("M")


class InvalidCursor(AppError):
    status, code, title = 422, "invalid-cursor", "Invalid cursor"


def encode_cursor(last_id: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(last_id.bytes).rstrip(b"=").decode()


def decode_cursor(cursor: str) -> uuid.UUID:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        return uuid.UUID(bytes=raw)
    except (ValueError, TypeError) as exc:
        raise InvalidCursor("The cursor is not one this API issued.") from exc


class TenantRepository(Generic[M]):
    model: type[M]

    def __init__(self, session: AsyncSession, model: type[M] | None = None) -> None:
        self.session = session
        if model is not None:
            self.model = model

    @property
    def tenant_id(self) -> uuid.UUID:
        return self.session.info[TENANT_KEY]

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
        self, stmt: Select, *, limit: int, cursor: str | None, descending: bool
    ) -> tuple[list[M], str | None]:
        """Keyset page over ids (UUIDv7, so id order is creation order)."""
        if cursor:
            after = decode_cursor(cursor)
            stmt = stmt.where(self.model.id < after if descending else self.model.id > after)
        stmt = stmt.order_by(self.model.id.desc() if descending else self.model.id.asc()).limit(limit + 1)
        rows = list((await self.session.execute(stmt)).scalars())
        next_cursor = encode_cursor(rows[limit - 1].id) if len(rows) > limit else None
        return rows[:limit], next_cursor
