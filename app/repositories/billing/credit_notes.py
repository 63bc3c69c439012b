import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select, type_coerce
from sqlalchemy.orm import attributes, selectinload

from app.models.billing.credit_note import CreditNote, CreditNoteLine
from app.models.billing.invoice import QUANTITY
from app.repositories.base import SortKey, TenantRepository
from app.repositories.billing.display_names import with_party_names

SORTS = {
    name: SortKey(column, descending=descending)
    for key, column in {
        "credit_note_date": CreditNote.credit_note_date,
        "total": CreditNote.total,
        "created_at": CreditNote.created_at,
    }.items()
    for name, descending in ((key, False), (f"-{key}", True))
}


@dataclass(frozen=True)
class CreditNoteFilters:
    invoice_id: uuid.UUID | None = None
    customer_id: uuid.UUID | None = None
    company_id: uuid.UUID | None = None
    date_from: date | None = None
    date_to: date | None = None
    ids: list[uuid.UUID] | None = None


class CreditNoteRepository(TenantRepository[CreditNote]):
    model = CreditNote

    async def get_with_lines(self, credit_note_id: uuid.UUID) -> CreditNote | None:
        stmt = select(CreditNote).where(CreditNote.id == credit_note_id).options(selectinload(CreditNote.lines))
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def list_page(
        self, filters: CreditNoteFilters, *, limit: int, cursor: str | None, sort: str, with_lines: bool
    ) -> tuple[list[tuple[CreditNote, str, str]], str | None]:
        """A page of (credit note, customer name, company name), the names joined in the same query."""
        stmt = with_party_names(select(CreditNote), CreditNote)
        if with_lines:
            stmt = stmt.options(selectinload(CreditNote.lines))
        for column, value in (
            (CreditNote.invoice_id, filters.invoice_id),
            (CreditNote.customer_id, filters.customer_id),
            (CreditNote.company_id, filters.company_id),
        ):
            if value is not None:
                stmt = stmt.where(column == value)
        if filters.date_from is not None:
            stmt = stmt.where(CreditNote.credit_note_date >= filters.date_from)
        if filters.date_to is not None:
            stmt = stmt.where(CreditNote.credit_note_date <= filters.date_to)
        if filters.ids is not None:
            stmt = stmt.where(CreditNote.id.in_(filters.ids))
        return await self.page(stmt, limit=limit, cursor=cursor, sort=SORTS[sort])

    async def add_lines(self, note: CreditNote, lines: list[CreditNoteLine]) -> None:
        for line in lines:
            line.tenant_id, line.credit_note_id = self.tenant_id, note.id
        self.session.add_all(lines)
        await self.session.flush()
        attributes.set_committed_value(note, "lines", sorted(lines, key=lambda line: line.position))

    async def credited_by_line(self, invoice_line_ids: list[uuid.UUID]) -> dict[uuid.UUID, tuple[Decimal, Decimal]]:
        """Per invoice line: (units credited by quantity, taxable value credited) over all credit notes."""
        if not invoice_line_ids:
            return {}
        stmt = (
            select(
                CreditNoteLine.invoice_line_id,
                type_coerce(func.coalesce(func.sum(CreditNoteLine.quantity), 0), QUANTITY),  # never NULL
                func.sum(CreditNoteLine.taxable_value),
            )
            .where(CreditNoteLine.invoice_line_id.in_(invoice_line_ids))
            .group_by(CreditNoteLine.invoice_line_id)
        )
        return {line_id: (quantity, taxable) for line_id, quantity, taxable in await self.session.execute(stmt)}
