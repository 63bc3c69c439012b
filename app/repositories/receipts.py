import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import ColumnElement, delete, select, update

from app.models.invoice import Invoice
from app.models.receipt import Receipt, ReceiptAllocation
from app.repositories.base import SortKey, TenantRepository
from app.repositories.display_names import with_party_names

SORTS = {
    name: SortKey(column, descending=descending)
    for key, column in {
        "receipt_date": Receipt.receipt_date,
        "amount": Receipt.amount,
        "created_at": Receipt.created_at,
    }.items()
    for name, descending in ((key, False), (f"-{key}", True))
}


@dataclass(frozen=True)
class ReceiptFilters:
    customer_id: uuid.UUID | None = None
    company_id: uuid.UUID | None = None
    date_from: date | None = None
    date_to: date | None = None
    mode: str | None = None
    status: str | None = None
    unallocated: bool | None = None
    ids: list[uuid.UUID] | None = None


class ReceiptRepository(TenantRepository[Receipt]):
    model = Receipt

    async def list_page(
        self, filters: ReceiptFilters, *, limit: int, cursor: str | None, sort: str
    ) -> tuple[list[tuple[Receipt, str, str]], str | None]:
        """A page of (receipt, customer name, company name), the names joined in the same query."""
        stmt = with_party_names(select(Receipt), Receipt)
        for condition in _conditions(filters):
            stmt = stmt.where(condition)
        return await self.page(stmt, limit=limit, cursor=cursor, sort=SORTS[sort])

    async def take(self, receipt_id: uuid.UUID, amount: Decimal) -> Receipt | None:
        """Add `amount` to what the active receipt has allocated, in one guarded UPDATE: None when
        it would exceed the receipt's amount (or the receipt is void). The row lock it takes
        serialises concurrent allocations from the same receipt."""
        stmt = (
            update(Receipt)
            .where(Receipt.tenant_id == self.tenant_id, Receipt.id == receipt_id, Receipt.status == "active")
            .where(Receipt.amount_allocated + amount <= Receipt.amount)
            .values(amount_allocated=Receipt.amount_allocated + amount)
            .returning(Receipt)
            .execution_options(synchronize_session=False, populate_existing=True)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def add_many(self, receipts: list[Receipt]) -> None:
        for receipt in receipts:
            receipt.tenant_id = self.tenant_id
        self.session.add_all(receipts)
        await self.session.flush()

    async def add_allocations(self, allocations: list[ReceiptAllocation]) -> None:
        for allocation in allocations:
            allocation.tenant_id = self.tenant_id
        self.session.add_all(allocations)
        await self.session.flush()

    async def allocations(self, receipt_id: uuid.UUID) -> list[tuple[ReceiptAllocation, str | None]]:
        """The receipt's allocations with their invoices' numbers, oldest first."""
        stmt = (
            select(ReceiptAllocation, Invoice.number)
            .join(
                Invoice,
                (Invoice.tenant_id == ReceiptAllocation.tenant_id) & (Invoice.id == ReceiptAllocation.invoice_id),
            )
            .where(ReceiptAllocation.receipt_id == receipt_id)
            .order_by(ReceiptAllocation.created_at, ReceiptAllocation.id)
        )
        return [(allocation, number) for allocation, number in (await self.session.execute(stmt)).all()]

    async def delete_allocations(self, receipt_id: uuid.UUID) -> None:
        await self.session.execute(
            delete(ReceiptAllocation)
            .where(ReceiptAllocation.tenant_id == self.tenant_id, ReceiptAllocation.receipt_id == receipt_id)
            .execution_options(synchronize_session=False)
        )


def _conditions(f: ReceiptFilters) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if f.customer_id is not None:
        conditions.append(Receipt.customer_id == f.customer_id)
    if f.company_id is not None:
        conditions.append(Receipt.company_id == f.company_id)
    if f.date_from is not None:
        conditions.append(Receipt.receipt_date >= f.date_from)
    if f.date_to is not None:
        conditions.append(Receipt.receipt_date <= f.date_to)
    if f.mode is not None:
        conditions.append(Receipt.mode == f.mode)
    if f.status is not None:
        conditions.append(Receipt.status == f.status)
    if f.unallocated is True:
        conditions += [Receipt.status == "active", Receipt.amount_allocated < Receipt.amount]
    elif f.unallocated is False:
        conditions += [Receipt.status == "active", Receipt.amount_allocated == Receipt.amount]
    if f.ids is not None:
        conditions.append(Receipt.id.in_(f.ids))
    return conditions
