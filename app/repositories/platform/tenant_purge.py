"""The scheduled purge of a closed tenant (migration 0035): which of its tax documents to keep, keeping
them (retain_tax_document, migration 0031), and deleting its rows table by table.

Every method works on the BOUND tenant only: the SECURITY DEFINER functions read `app.tenant_id`
themselves (and purge_tenant_rows refuses a tenant that is not closed and due), the ORM reads are
filtered by it and by row-level security.
"""

import uuid
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import CursorResult, delete, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.tenancy import required_tenant
from app.models.billing.credit_note import CreditNote
from app.models.billing.invoice import Invoice
from app.models.platform.tenant import Tenant

RETAIN = text(
    "SELECT retain_tax_document(:kind, :document_id, :gstin, :number, :document_date, :retain_until, "
    "CAST(:document AS jsonb), :pdf)"
)


class TenantPurgeRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @property
    def tenant_id(self) -> uuid.UUID:
        return required_tenant(self.session)

    async def retained_ids(self, kind: str) -> set[uuid.UUID]:
        """The bound tenant's documents of this kind already kept (a resumed purge skips them)."""
        self.tenant_id  # noqa: B018 - TenantNotBound before any statement
        rows = await self.session.execute(text("SELECT retained_document_ids(:kind)"), {"kind": kind})
        return set(rows.scalars())

    async def issued_invoice_ids(self) -> list[uuid.UUID]:
        """Every invoice that was issued (it has a number), voided ones included: a cancelled tax
        invoice is part of the accounts s.36 requires to be kept."""
        stmt = select(Invoice.id).where(Invoice.number.is_not(None)).order_by(Invoice.invoice_date, Invoice.id)
        return list((await self.session.execute(stmt)).scalars())

    async def credit_note_ids(self) -> list[uuid.UUID]:
        stmt = select(CreditNote.id).order_by(CreditNote.credit_note_date, CreditNote.id)
        return list((await self.session.execute(stmt)).scalars())

    async def retain(
        self,
        *,
        kind: str,
        document_id: uuid.UUID,
        gstin: str | None,
        number: str,
        document_date: date,
        retain_until: date,
        document: str,
        pdf: bytes | None,
    ) -> bool:
        """Keep one document of the bound tenant (True if new, False if it was kept already)."""
        self.tenant_id  # noqa: B018
        params: dict[str, Any] = {
            "kind": kind,
            "document_id": document_id,
            "gstin": gstin,
            "number": number,
            "document_date": document_date,
            "retain_until": retain_until,
            "document": document,
            "pdf": pdf,
        }
        return bool((await self.session.execute(RETAIN, params)).scalar_one())

    async def delete_rows(self, table: str, batch: int | None, moment: datetime) -> int:
        """Delete up to `batch` (None: all) of the bound tenant's rows of `table`; how many went."""
        self.tenant_id  # noqa: B018
        stmt = text("SELECT purge_tenant_rows(:table, :batch, :moment)")
        return int((await self.session.execute(stmt, {"table": table, "batch": batch, "moment": moment})).scalar_one())

    async def delete_tenant(self) -> int:
        """The tenants row itself, last (row-level security: only the bound tenant's)."""
        stmt = delete(Tenant).where(Tenant.id == self.tenant_id)
        result = cast(CursorResult[Any], await self.session.execute(stmt))  # a DELETE's result is a CursorResult
        return result.rowcount
