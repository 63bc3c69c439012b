import uuid
from datetime import datetime

from sqlalchemy import select

from app.models.platform.audit import AuditLog
from app.repositories.base import TenantRepository


class AuditRepository(TenantRepository[AuditLog]):
    model = AuditLog

    async def add_many(self, rows: list[AuditLog]) -> None:
        """Several rows in one INSERT (a write that is two audited steps, e.g. invoice created and issued)."""
        for row in rows:
            row.tenant_id = self.tenant_id
        self.session.add_all(rows)
        await self.session.flush()

    async def list_page(
        self,
        *,
        limit: int,
        cursor: str | None,
        entity_type: str | None = None,
        entity_id: uuid.UUID | None = None,
        actor_user_id: uuid.UUID | None = None,
        action: str | None = None,
        date_from: datetime | None = None,
        date_to: datetime | None = None,
        descending: bool = True,
    ) -> tuple[list[AuditLog], str | None]:
        stmt = select(AuditLog)
        if entity_type is not None:
            stmt = stmt.where(AuditLog.entity_type == entity_type)
        if entity_id is not None:
            stmt = stmt.where(AuditLog.entity_id == entity_id)
        if actor_user_id is not None:
            stmt = stmt.where(AuditLog.actor_user_id == actor_user_id)
        if action is not None:
            stmt = stmt.where(AuditLog.action == action)
        if date_from is not None:
            stmt = stmt.where(AuditLog.at >= date_from)
        if date_to is not None:
            stmt = stmt.where(AuditLog.at < date_to)
        return await self.page(stmt, limit=limit, cursor=cursor, descending=descending)
