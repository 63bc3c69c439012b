"""The customer ledger (the udhaar book): every movement of a customer's balance, as one SQL union,
with the running balance computed by a window SUM in PostgreSQL.

Movements (debit raises what the customer owes, credit lowers it):
- an issued invoice (any status but draft): debit of its total on its invoice date;
- a voided invoice, in addition: credit of its total on the day it was voided (Asia/Kolkata),
  so that the history before the void never changes;
- a receipt (active or void): credit of its amount on its receipt date;
- a voided receipt, in addition: debit of its amount on the day it was voided (Asia/Kolkata);
- a credit note: credit of its total on its credit note date;
- a refund through the payment gateway (app.services.commerce.refunds): debit of its amount on the
  day it was made (Asia/Kolkata), the money having gone back to the customer;
- a refund that failed, in addition: credit of its amount on the day it failed (the money stayed).

Entries are ordered by a total, stable key: (date, event time, document id, kind), where the event
time is the document's creation (or, for a void, the moment it was voided)."""

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Date, String, Text, cast, func, literal, literal_column, or_, select, tuple_, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.tenancy import required_tenant
from app.models.billing.business import MONEY
from app.models.billing.credit_note import CreditNote
from app.models.billing.customer import Customer
from app.models.billing.invoice import Invoice
from app.models.billing.receipt import Receipt
from app.models.commerce.online_payment import Refund

INDIA = "Asia/Kolkata"
# Sort rank of each kind of entry within the same date and event time.
KINDS = ("invoice", "receipt", "credit_note", "invoice_void", "receipt_void", "refund", "refund_failed")


@dataclass(frozen=True)
class Position:
    """Where an entry sits in the ledger's order: a keyset cursor points at the last entry seen."""

    entry_date: date
    event_at: datetime
    document_id: uuid.UUID
    rank: int


@dataclass(frozen=True)
class Totals:
    before_from: Decimal  # Σ (debit - credit) of movements dated before `from`
    through_to: Decimal  # Σ (debit - credit) of movements dated on or before `to`
    before_page: Decimal  # Σ (debit - credit) of movements that come before the page's first entry


def _const(value: str) -> Any:
    """A constant string written by this module (never user input), rendered inline."""
    return literal_column(f"'{value}'", Text)


def _kind(name: str) -> list[Any]:
    return [_const(name).label("type"), literal_column(str(KINDS.index(name))).label("rank")]


def _void_day(column: Any) -> Any:
    """The Indian calendar day of a timestamptz."""
    return cast(func.timezone(literal(INDIA, String), column), Date)


class LedgerRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @property
    def tenant_id(self) -> uuid.UUID:
        return required_tenant(self.session)

    def movements(self, customer_id: uuid.UUID) -> Any:
        """Every movement of the customer's balance, as a subquery (entry_date, type, rank,
        event_at, document_id, number, description, debit, credit)."""
        tid, zero = self.tenant_id, cast(literal_column("0"), MONEY)
        invoices = [Invoice.tenant_id == tid, Invoice.customer_id == customer_id]
        receipts = [Receipt.tenant_id == tid, Receipt.customer_id == customer_id]
        issued = select(
            Invoice.invoice_date.label("entry_date"),
            *_kind("invoice"),
            Invoice.created_at.label("event_at"),
            Invoice.id.label("document_id"),
            Invoice.number.label("number"),
            _const("Tax invoice").label("description"),
            Invoice.total.label("debit"),
            zero.label("credit"),
        ).where(*invoices, Invoice.status != "draft")
        invoice_voids = select(
            _void_day(Invoice.voided_at),
            *_kind("invoice_void"),
            Invoice.voided_at,
            Invoice.id,
            Invoice.number,
            func.concat_ws(": ", _const("Invoice voided"), Invoice.void_reason),
            zero,
            Invoice.total,
        ).where(*invoices, Invoice.status == "void", Invoice.voided_at.is_not(None))
        received = select(
            Receipt.receipt_date,
            *_kind("receipt"),
            Receipt.created_at,
            Receipt.id,
            Receipt.number,
            func.concat_ws(", ", _const("Receipt"), Receipt.mode, Receipt.reference),
            zero,
            Receipt.amount,
        ).where(*receipts)
        receipt_voids = select(
            _void_day(Receipt.voided_at),
            *_kind("receipt_void"),
            Receipt.voided_at,
            Receipt.id,
            Receipt.number,
            func.concat_ws(": ", _const("Receipt voided"), Receipt.void_reason),
            Receipt.amount,
            zero,
        ).where(*receipts, Receipt.status == "void", Receipt.voided_at.is_not(None))
        credited = select(
            CreditNote.credit_note_date,
            *_kind("credit_note"),
            CreditNote.created_at,
            CreditNote.id,
            CreditNote.number,
            func.concat_ws(
                ": ", func.concat(_const("Credit note against "), CreditNote.invoice_number), CreditNote.reason
            ),
            zero,
            CreditNote.total,
        ).where(CreditNote.tenant_id == tid, CreditNote.customer_id == customer_id)
        refunds = [Refund.tenant_id == tid, Refund.customer_id == customer_id]
        refunded = select(
            _void_day(Refund.created_at),
            *_kind("refund"),
            Refund.created_at,
            Refund.id,
            func.coalesce(Refund.razorpay_refund_id, _const("")),
            func.concat_ws(": ", _const("Refund"), Refund.reason),
            Refund.amount,
            zero,
        ).where(*refunds)
        refund_failures = select(
            _void_day(Refund.failed_at),
            *_kind("refund_failed"),
            Refund.failed_at,
            Refund.id,
            func.coalesce(Refund.razorpay_refund_id, _const("")),
            func.concat_ws(": ", _const("Refund failed"), Refund.failure_reason),
            zero,
            Refund.amount,
        ).where(*refunds, Refund.status == "failed", Refund.failed_at.is_not(None))
        return union_all(issued, invoice_voids, received, receipt_voids, credited, refunded, refund_failures).subquery(
            "movements"
        )

    async def customer_opening_balance(self, customer_id: uuid.UUID) -> Decimal | None:
        stmt = select(Customer.opening_balance).where(Customer.tenant_id == self.tenant_id, Customer.id == customer_id)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def totals(self, customer_id: uuid.UUID, *, date_from: date, date_to: date, after: Position | None) -> Totals:
        m = self.movements(customer_id)
        signed = m.c.debit - m.c.credit
        before_page = m.c.entry_date < date_from
        if after is not None:
            before_page = or_(before_page, _key(m) <= _position(after))

        def total(condition: Any) -> Any:
            return func.coalesce(func.sum(signed).filter(condition), 0)

        stmt = select(total(m.c.entry_date < date_from), total(m.c.entry_date <= date_to), total(before_page))
        row = (await self.session.execute(stmt)).one()
        return Totals(*(Decimal(value) for value in row))

    async def page(
        self,
        customer_id: uuid.UUID,
        *,
        date_from: date,
        date_to: date,
        after: Position | None,
        balance_before: Decimal,
        limit: int,
    ) -> list[Any]:
        """Up to limit + 1 entries dated in [date_from, date_to] after `after`, each with the
        running balance: balance_before + the window SUM of (debit - credit) up to that entry."""
        m = self.movements(customer_id)
        order = [m.c.entry_date, m.c.event_at, m.c.document_id, m.c.rank]
        running = func.sum(m.c.debit - m.c.credit).over(order_by=order, rows=(None, 0))
        stmt = (
            select(m, (literal(balance_before, MONEY) + running).label("balance"))
            .where(m.c.entry_date >= date_from, m.c.entry_date <= date_to)
            .order_by(*order)
            .limit(limit + 1)
        )
        if after is not None:
            stmt = stmt.where(_key(m) > _position(after))
        return list((await self.session.execute(stmt)).all())

    async def period(
        self, customer_id: uuid.UUID, *, date_from: date, date_to: date, balance_before: Decimal
    ) -> list[Any]:
        """Every entry dated in [date_from, date_to] in ledger order, each with its running balance
        (a statement of account prints them all; `page` serves the API a page at a time)."""
        stmt = self.period_statement(customer_id, date_from=date_from, date_to=date_to, balance_before=balance_before)
        return list((await self.session.execute(stmt)).all())

    def period_statement(
        self, customer_id: uuid.UUID, *, date_from: date, date_to: date, balance_before: Decimal
    ) -> Any:
        """`period`'s statement, for a caller that streams it (the ledger export)."""
        m = self.movements(customer_id)
        order = [m.c.entry_date, m.c.event_at, m.c.document_id, m.c.rank]
        running = func.sum(m.c.debit - m.c.credit).over(order_by=order, rows=(None, 0))
        return (
            select(m, (literal(balance_before, MONEY) + running).label("balance"))
            .where(m.c.entry_date >= date_from, m.c.entry_date <= date_to)
            .order_by(*order)
        )


def _key(m: Any) -> Any:
    return tuple_(m.c.entry_date, m.c.event_at, m.c.document_id, m.c.rank)


def _position(p: Position) -> Any:
    return tuple_(
        literal(p.entry_date, Date),
        literal(p.event_at, Invoice.created_at.type),
        literal(p.document_id),
        literal(p.rank),
    )
