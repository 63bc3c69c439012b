"""The tenant's full export (app/services/platform/tenant_data.py): its rows and chunks, the generic
walk over the tenant's tables that fills the zip, a user's own data (GET /users/me/export), and the
cross-tenant scan of due export work (migration 0034's SECURITY DEFINER function, tenant ids only)."""

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Table, delete, func, select, text, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.tenancy import required_tenant
from app.models.billing.credit_note import CreditNote
from app.models.billing.invoice import Invoice
from app.models.billing.receipt import Receipt
from app.models.identity.auth import AuthSession, EmailChange, UserInvitation
from app.models.platform.audit import AuditLog
from app.models.platform.data_export import TenantExport, TenantExportChunk
from app.models.platform.tenant import Tenant
from app.repositories.base import SortKey, TenantRepository

ACTIVE = ("pending", "running")


class TenantExportRepository(TenantRepository[TenantExport]):
    model = TenantExport

    async def add_unless_active(self, row: TenantExport) -> TenantExport | None:
        """Insert `row` unless the tenant has a pending/running export (uq_tenant_exports_active): a
        concurrent insert waits for the first to commit, then finds the conflict. None on conflict."""
        values = {c.key: getattr(row, c.key) for c in TenantExport.__table__.columns if getattr(row, c.key) is not None}
        values["tenant_id"] = self.tenant_id
        stmt = (
            insert(TenantExport)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["tenant_id"], index_where=text("status IN ('pending', 'running')"))
            .returning(TenantExport.id)
        )
        new_id = (await self.session.execute(stmt)).scalar_one_or_none()
        return None if new_id is None else await self.get(new_id)

    async def active(self) -> TenantExport | None:
        stmt = select(TenantExport).where(TenantExport.status.in_(ACTIVE))
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def count_since(self, moment: datetime) -> int:
        stmt = select(func.count()).select_from(TenantExport).where(TenantExport.created_at >= moment)
        return int((await self.session.execute(stmt)).scalar_one())

    async def list_page(
        self, *, limit: int, cursor: str | None, status: str | None = None
    ) -> tuple[list[TenantExport], str | None]:
        stmt = select(TenantExport)
        if status is not None:
            stmt = stmt.where(TenantExport.status == status)
        return await self.page(stmt, limit=limit, cursor=cursor, sort=SortKey(TenantExport.created_at, descending=True))

    async def due_ids(self, at: datetime) -> list[uuid.UUID]:
        """Exports to build now: pending/running with the next attempt due (never started, a failed
        attempt's retry, or a build that died mid-way)."""
        stmt = (
            select(TenantExport.id)
            .where(TenantExport.status.in_(ACTIVE), TenantExport.next_attempt_at <= at)
            .order_by(TenantExport.created_at)
        )
        return list((await self.session.execute(stmt)).scalars())

    async def claim(self, export_id: uuid.UUID, at: datetime) -> TenantExport | None:
        """The export, locked, if it is still to be built at `at` (another builder holding it is skipped)."""
        stmt = (
            select(TenantExport)
            .where(TenantExport.id == export_id, TenantExport.status.in_(ACTIVE), TenantExport.next_attempt_at <= at)
            .with_for_update(skip_locked=True)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def expire_due(self, at: datetime) -> list[uuid.UUID]:
        """Done exports whose link has expired become `expired`; their chunks are deleted. Their ids."""
        stmt = (
            update(TenantExport)
            .where(TenantExport.status == "done", TenantExport.expires_at <= at)
            .values(status="expired")
            .returning(TenantExport.id)
        )
        ids = list((await self.session.execute(stmt)).scalars())
        if ids:
            await self.session.execute(delete(TenantExportChunk).where(TenantExportChunk.export_id.in_(ids)))
        return ids

    async def delete_chunks(self, export_id: uuid.UUID) -> None:
        await self.session.execute(delete(TenantExportChunk).where(TenantExportChunk.export_id == export_id))

    async def add_chunk(self, export_id: uuid.UUID, seq: int, data: bytes) -> None:
        await self.session.execute(
            insert(TenantExportChunk).values(tenant_id=self.tenant_id, export_id=export_id, seq=seq, data=data)
        )

    async def chunk(self, export_id: uuid.UUID, seq: int) -> bytes | None:
        stmt = select(TenantExportChunk.data).where(
            TenantExportChunk.export_id == export_id, TenantExportChunk.seq == seq
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()


class TenantDataRepository:
    """Reads for the export: any tenant table walked generically, the issued documents, one user's
    data; all of the bound tenant (explicitly filtered, as well as by row-level security)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @property
    def tenant_id(self) -> uuid.UUID:
        return required_tenant(self.session)

    async def tenant_row(self) -> RowMapping | None:
        table: Table = Tenant.__table__  # type: ignore[assignment]
        stmt = select(table).where(table.c.id == self.tenant_id)
        return (await self.session.execute(stmt)).mappings().one_or_none()

    async def table_rows(self, table: Table, *, after: tuple[Any, ...] | None, limit: int) -> list[RowMapping]:
        """A keyset batch of the bound tenant's rows of `table` (which has a tenant_id), ordered by
        its primary key, after the key `after`."""
        key = list(table.primary_key.columns)
        stmt = select(table).where(table.c.tenant_id == self.tenant_id)
        if after is not None:
            stmt = stmt.where(tuple_(*key) > tuple_(*after))
        stmt = stmt.order_by(*key).limit(limit)
        return list((await self.session.execute(stmt)).mappings())

    async def document_ids(self, kind: str, *, after: uuid.UUID | None, limit: int) -> list[uuid.UUID]:
        """A batch of the ids of the issued invoices (voided ones included: they were issued), the
        credit notes, or the receipts, in id order after `after`."""
        model: Any = {"invoice": Invoice, "credit_note": CreditNote, "receipt": Receipt}[kind]
        stmt = select(model.id)
        if model is Invoice:
            stmt = stmt.where(Invoice.status != "draft")
        if after is not None:
            stmt = stmt.where(model.id > after)
        return list((await self.session.execute(stmt.order_by(model.id).limit(limit))).scalars())

    async def sessions_of(self, user_id: uuid.UUID) -> Sequence[AuthSession]:
        stmt = select(AuthSession).where(AuthSession.user_id == user_id).order_by(AuthSession.created_at)
        return (await self.session.execute(stmt)).scalars().all()

    async def invitations_by(self, user_id: uuid.UUID) -> Sequence[UserInvitation]:
        stmt = select(UserInvitation).where(UserInvitation.invited_by == user_id).order_by(UserInvitation.created_at)
        return (await self.session.execute(stmt)).scalars().all()

    async def email_changes_of(self, user_id: uuid.UUID) -> Sequence[EmailChange]:
        stmt = select(EmailChange).where(EmailChange.user_id == user_id).order_by(EmailChange.created_at)
        return (await self.session.execute(stmt)).scalars().all()

    async def audit_by(self, user_id: uuid.UUID, *, limit: int) -> Sequence[AuditLog]:
        """The user's own audit entries (what they did), newest first, at most `limit`."""
        stmt = (
            select(AuditLog)
            .where(AuditLog.actor_user_id == user_id)
            .order_by(AuditLog.at.desc(), AuditLog.id.desc())
            .limit(limit)
        )
        return (await self.session.execute(stmt)).scalars().all()


class DueExportRepository:
    """Cross-tenant: which tenants have export work due (migration 0034); no tenant bound."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def tenants(self, at: datetime, *, only: Sequence[uuid.UUID] | None = None) -> list[uuid.UUID]:
        rows = await self.session.execute(
            text("SELECT due_tenant_export_tenants(:at, CAST(:only AS uuid[]))"),
            {"at": at, "only": list(only) if only is not None else None},
        )
        return sorted(rows.scalars())
