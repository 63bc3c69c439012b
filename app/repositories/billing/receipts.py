import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import ColumnElement, bindparam, delete, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import Date, Numeric, String, Uuid

from app.domain.statuses import SETTLEABLE_STATUSES, InvoiceStatus
from app.models.billing.invoice import Invoice
from app.models.billing.receipt import Receipt, ReceiptAllocation
from app.repositories.base import SortKey, TenantRepository
from app.repositories.billing.display_names import with_party_names

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
class PaidInFull:
    """What paying an invoice with new receipts left: the invoice's amount paid, status and balance
    due, and its customer's balance and credit limit."""

    amount_paid: Decimal
    status: str
    balance_due: Decimal
    customer_balance: Decimal
    credit_limit: Decimal | None


# Receipts allocated in full to one invoice, in one statement (a counter sale's payments): the
# receipts and their allocations (from arrays, one element per receipt), the invoice settled by
# their sum under the same guard as `InvoiceRepository.settle` (an issued, partially paid or paid
# invoice with at least that much due; its status follows), and the customer's balance lowered by
# the sum only when the invoice took it. No row comes back when the guard failed. The allocations
# refer to receipts of the same statement: PostgreSQL checks the foreign keys at its end.
PAY_IN_FULL_SQL = f"""
WITH r AS (
    INSERT INTO receipts (tenant_id, id, company_id, customer_id, number, financial_year, receipt_date, amount,
                          amount_allocated, mode, reference, notes, status)
    SELECT :tenant_id, x.id, :company_id, :customer_id, x.number, x.financial_year, :day, x.amount, x.amount,
           x.mode, x.reference, NULL, 'active'
    FROM unnest(:ids, :numbers, :financial_years, :amounts, :modes, :references)
        AS x(id, number, financial_year, amount, mode, reference)
    RETURNING id
),
a AS (
    INSERT INTO receipt_allocations (tenant_id, id, receipt_id, invoice_id, amount, allocated_on)
    SELECT :tenant_id, y.id, y.receipt_id, :invoice_id, y.amount, :day
    FROM unnest(:allocation_ids, :ids, :amounts) AS y(id, receipt_id, amount)
    RETURNING id
),
inv AS (
    UPDATE invoices
    SET amount_paid = amount_paid + :paid,
        status = CASE
            WHEN total - (amount_paid + :paid) - amount_credited <= 0 THEN '{InvoiceStatus.paid.value}'
            WHEN amount_paid + :paid + amount_credited > 0 THEN '{InvoiceStatus.partially_paid.value}'
            ELSE '{InvoiceStatus.issued.value}'
        END,
        updated_at = now()
    WHERE tenant_id = :tenant_id AND id = :invoice_id
      AND status IN ({", ".join(f"'{s.value}'" for s in SETTLEABLE_STATUSES)})
      AND balance_due >= :paid
    RETURNING amount_paid, status, balance_due
),
c AS (
    UPDATE customers SET balance = balance - :paid, updated_at = now()
    WHERE tenant_id = :tenant_id AND id = :customer_id AND EXISTS (SELECT 1 FROM inv)
    RETURNING balance, credit_limit
)
SELECT inv.amount_paid, inv.status, inv.balance_due, c.balance, c.credit_limit,
       (SELECT count(*) FROM r) AS receipts, (SELECT count(*) FROM a) AS allocations
FROM inv CROSS JOIN c
"""
_PAY_IN_FULL = text(PAY_IN_FULL_SQL).bindparams(
    bindparam("ids", type_=ARRAY(Uuid())),
    bindparam("numbers", type_=ARRAY(String())),
    bindparam("financial_years", type_=ARRAY(String())),
    bindparam("amounts", type_=ARRAY(Numeric(18, 2))),
    bindparam("modes", type_=ARRAY(String())),
    bindparam("references", type_=ARRAY(String())),
    bindparam("allocation_ids", type_=ARRAY(Uuid())),
    bindparam("tenant_id", type_=Uuid()),
    bindparam("company_id", type_=Uuid()),
    bindparam("customer_id", type_=Uuid()),
    bindparam("invoice_id", type_=Uuid()),
    bindparam("day", type_=Date()),
    bindparam("paid", type_=Numeric(18, 2)),
)


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
        it would exceed the receipt's amount less what of it was refunded (or the receipt is void).
        The row lock it takes serialises concurrent allocations from the same receipt."""
        stmt = (
            update(Receipt)
            .where(Receipt.tenant_id == self.tenant_id, Receipt.id == receipt_id, Receipt.status == "active")
            .where(Receipt.amount_allocated + Receipt.amount_refunded + amount <= Receipt.amount)
            .values(amount_allocated=Receipt.amount_allocated + amount)
            .returning(Receipt)
            .execution_options(synchronize_session=False, populate_existing=True)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def refund(self, receipt_id: uuid.UUID, amount: Decimal) -> Receipt | None:
        """Add `amount` (negative: a refund that failed gives it back) to what the active receipt
        has refunded, in one guarded UPDATE: None when its advance (neither allocated nor refunded)
        does not cover it, or the receipt is void."""
        stmt = (
            update(Receipt)
            .where(Receipt.tenant_id == self.tenant_id, Receipt.id == receipt_id, Receipt.status == "active")
            .where(Receipt.amount_allocated + Receipt.amount_refunded + amount <= Receipt.amount)
            .where(Receipt.amount_refunded + amount >= 0)
            .values(amount_refunded=Receipt.amount_refunded + amount)
            .returning(Receipt)
            .execution_options(synchronize_session=False, populate_existing=True)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def allocated_to(self, receipt_id: uuid.UUID, invoice_id: uuid.UUID) -> list[ReceiptAllocation]:
        """The receipt's allocations to the invoice, newest first."""
        stmt = (
            select(ReceiptAllocation)
            .where(ReceiptAllocation.receipt_id == receipt_id, ReceiptAllocation.invoice_id == invoice_id)
            .order_by(ReceiptAllocation.created_at.desc(), ReceiptAllocation.id.desc())
        )
        return list((await self.session.execute(stmt)).scalars())

    async def shrink_allocation(self, allocation_id: uuid.UUID, amount: Decimal) -> None:
        """Take `amount` off an allocation (the row goes when nothing is left of it)."""
        await self.session.execute(
            delete(ReceiptAllocation)
            .where(
                ReceiptAllocation.tenant_id == self.tenant_id,
                ReceiptAllocation.id == allocation_id,
                ReceiptAllocation.amount <= amount,
            )
            .execution_options(synchronize_session=False)
        )
        await self.session.execute(
            update(ReceiptAllocation)
            .where(
                ReceiptAllocation.tenant_id == self.tenant_id,
                ReceiptAllocation.id == allocation_id,
                ReceiptAllocation.amount > amount,
            )
            .values(amount=ReceiptAllocation.amount - amount)
            .execution_options(synchronize_session=False)
        )

    async def pay_in_full(
        self, invoice: Invoice, receipts: list[Receipt], allocations: list[ReceiptAllocation]
    ) -> PaidInFull | None:
        """Write `receipts` (new, of the invoice's company and customer, dated `invoice`'s day) and
        their `allocations` (one each, its whole amount, to `invoice`), settle the invoice by their
        sum and lower its customer's balance by it, in one statement (PAY_IN_FULL_SQL). None, with
        nothing settled, when the invoice does not take that much (the caller's transaction must
        then fail: the receipts were written)."""
        paid = sum((r.amount for r in receipts), Decimal("0.00"))
        params = {
            "ids": [r.id for r in receipts],
            "numbers": [r.number for r in receipts],
            "financial_years": [r.financial_year for r in receipts],
            "amounts": [r.amount for r in receipts],
            "modes": [r.mode for r in receipts],
            "references": [r.reference for r in receipts],
            "allocation_ids": [a.id for a in allocations],
            "tenant_id": self.tenant_id,
            "company_id": invoice.company_id,
            "customer_id": invoice.customer_id,
            "invoice_id": invoice.id,
            "day": invoice.invoice_date,
            "paid": paid,
        }
        row = (await self.session.execute(_PAY_IN_FULL, params)).one_or_none()
        if row is None:
            return None
        return PaidInFull(row.amount_paid, row.status, row.balance_due, row.balance, row.credit_limit)

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
        conditions += [Receipt.status == "active", Receipt.amount_allocated + Receipt.amount_refunded < Receipt.amount]
    elif f.unallocated is False:
        conditions += [Receipt.status == "active", Receipt.amount_allocated + Receipt.amount_refunded == Receipt.amount]
    if f.ids is not None:
        conditions.append(Receipt.id.in_(f.ids))
    return conditions
