"""What GSTR-1 reads: one company's documents dated in a month, the units of the products their
lines name, and the dated B2CL threshold (a global, read-only table)."""

import uuid
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app.models.billing.credit_note import CreditNote
from app.models.billing.gst_threshold import GstThreshold
from app.models.billing.invoice import Invoice, InvoiceLine
from app.models.catalog.product import Product
from app.repositories.base import TenantRepository


class Gstr1Repository(TenantRepository[Invoice]):
    model = Invoice

    async def invoices(self, company_id: uuid.UUID, first: date, last: date) -> list[Invoice]:
        """The company's issued (and voided) invoices dated first..last, with their lines, by number."""
        stmt = (
            select(Invoice)
            .where(
                Invoice.company_id == company_id,
                Invoice.invoice_date.between(first, last),
                Invoice.number.is_not(None),
            )
            .options(selectinload(Invoice.lines))
            .order_by(Invoice.invoice_date, Invoice.number)
        )
        return list((await self.session.execute(stmt)).scalars())

    async def credit_notes(self, company_id: uuid.UUID, first: date, last: date) -> list[tuple[CreditNote, Invoice]]:
        """The company's credit notes dated first..last with their lines, each with its invoice (no lines)."""
        stmt = (
            select(CreditNote, Invoice)
            .join(Invoice, Invoice.id == CreditNote.invoice_id)
            .where(CreditNote.company_id == company_id, CreditNote.credit_note_date.between(first, last))
            .options(selectinload(CreditNote.lines))
            .order_by(CreditNote.credit_note_date, CreditNote.number)
        )
        return [(note, invoice) for note, invoice in (await self.session.execute(stmt)).all()]

    async def product_units(self, product_ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
        """The GST UQC of each of these products."""
        if not product_ids:
            return {}
        rows = await self.session.execute(select(Product.id, Product.unit).where(Product.id.in_(product_ids)))
        return {product_id: unit for product_id, unit in rows.all()}

    async def line_units(self, line_ids: set[uuid.UUID]) -> dict[uuid.UUID, tuple[uuid.UUID | None, str | None]]:
        """The product and the unit of each of these invoice lines (lines of earlier months' invoices
        that this month's credit notes credit)."""
        if not line_ids:
            return {}
        stmt = select(InvoiceLine.id, InvoiceLine.product_id, InvoiceLine.unit).where(InvoiceLine.id.in_(line_ids))
        return {line_id: (product_id, unit) for line_id, product_id, unit in (await self.session.execute(stmt)).all()}


class GstThresholdRepository:
    """gst_thresholds: global dated data, read by every tenant."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def dated(self, kind: str) -> list[tuple[date, Decimal]]:
        """(effective_from, amount) of every row of `kind`, oldest first."""
        stmt = (
            select(GstThreshold.effective_from, GstThreshold.amount)
            .where(GstThreshold.kind == kind)
            .order_by(GstThreshold.effective_from)
        )
        return [(start, amount) for start, amount in (await self.session.execute(stmt)).all()]
