"""The dashboard's aggregate queries. Each one reads a tenant's rows through indexes that lead with
tenant_id and aggregates in PostgreSQL (FILTER, generate_series): no row reaches Python."""

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import TIMESTAMP, Date, Interval, String, and_, cast, func, literal, literal_column, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.tenancy import required_tenant
from app.domain.statuses import OPEN_STATUSES, SETTLEABLE_STATUSES
from app.models.billing.credit_note import CreditNote
from app.models.billing.customer import Customer
from app.models.billing.invoice import Invoice
from app.models.billing.receipt import Receipt, ReceiptAllocation
from app.repositories.billing.invoices import open_condition, overdue_condition

INDIA = "Asia/Kolkata"
# Invoices that count as billed: issued and not voided (drafts have no number, voids were cancelled).
BILLED_STATUSES = [s.value for s in SETTLEABLE_STATUSES]  # issued, partly or fully paid: not draft or void
# Aging buckets: name -> (lowest, highest) days past due, inclusive; None is unbounded.
BUCKETS: dict[str, tuple[int | None, int | None]] = {
    "current": (None, 0),
    "days_1_30": (1, 30),
    "days_31_60": (31, 60),
    "days_61_90": (61, 90),
    "days_over_90": (91, None),
}
# date_trunc's field, rendered as a constant so that SELECT and GROUP BY hold the same expression.
TRUNC_UNITS = {"month": "'month'", "week": "'week'", "day": "'day'"}


@dataclass(frozen=True)
class Tally:
    amount: Decimal
    count: int


def _tally(amount: Any, count: Any) -> Tally:
    return Tally(Decimal(amount), int(count))


def _sum(column: Any, condition: Any = None) -> Any:
    total = func.sum(column) if condition is None else func.sum(column).filter(condition)
    return func.coalesce(total, 0)


def _count(condition: Any = None) -> Any:
    return func.count() if condition is None else func.count().filter(condition)


def _day(value: date) -> Any:
    return literal(value, Date)


class DashboardRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @property
    def tenant_id(self) -> uuid.UUID:
        return required_tenant(self.session)

    async def invoice_metrics(self, *, date_from: date, date_to: date, today: date) -> dict[str, Tally]:
        """invoiced (billed invoices dated in range), outstanding and overdue (open invoices now),
        in one pass over the rows either index (tenant_id, invoice_date) or (tenant_id, status) finds."""
        in_range = and_(Invoice.status.in_(BILLED_STATUSES), Invoice.invoice_date.between(date_from, date_to))
        is_open = open_condition()
        overdue = overdue_condition(_day(today))
        stmt = select(
            _sum(Invoice.total, in_range),
            _count(in_range),
            _sum(Invoice.balance_due, is_open),
            _count(is_open),
            _sum(Invoice.balance_due, overdue),
            _count(overdue),
        ).where(
            Invoice.tenant_id == self.tenant_id,
            or_(
                and_(Invoice.invoice_date >= date_from, Invoice.invoice_date <= date_to),
                Invoice.status.in_([s.value for s in OPEN_STATUSES]),
            ),
        )
        row = (await self.session.execute(stmt)).one()
        return {
            "invoiced": _tally(row[0], row[1]),
            "outstanding": _tally(row[2], row[3]),
            "overdue": _tally(row[4], row[5]),
        }

    async def collected(self, *, date_from: date, date_to: date) -> Tally:
        stmt = select(_sum(Receipt.amount), _count()).where(
            Receipt.tenant_id == self.tenant_id,
            Receipt.receipt_date >= date_from,
            Receipt.receipt_date <= date_to,
            Receipt.status == "active",
        )
        return _tally(*(await self.session.execute(stmt)).one())

    async def credited(self, *, date_from: date, date_to: date) -> Tally:
        stmt = select(_sum(CreditNote.total), _count()).where(
            CreditNote.tenant_id == self.tenant_id,
            CreditNote.credit_note_date >= date_from,
            CreditNote.credit_note_date <= date_to,
        )
        return _tally(*(await self.session.execute(stmt)).one())

    async def customer_counts(self) -> tuple[int, int]:
        stmt = select(_count(), _count(Customer.balance > 0)).where(
            Customer.tenant_id == self.tenant_id, Customer.is_archived.is_(False)
        )
        active, with_balance = (await self.session.execute(stmt)).one()
        return int(active), int(with_balance)

    async def average_days_to_pay(self, *, date_from: date, date_to: date) -> Decimal | None:
        """Mean of (last allocation date - invoice date) over paid invoices whose last allocation
        falls in the range. Candidates are the invoices allocated to in the range; their last
        allocation is then taken over all their allocations."""
        tid = self.tenant_id
        touched = select(ReceiptAllocation.invoice_id).where(
            ReceiptAllocation.tenant_id == tid,
            ReceiptAllocation.allocated_on >= date_from,
            ReceiptAllocation.allocated_on <= date_to,
        )
        last = (
            select(ReceiptAllocation.invoice_id, func.max(ReceiptAllocation.allocated_on).label("paid_on"))
            .where(ReceiptAllocation.tenant_id == tid, ReceiptAllocation.invoice_id.in_(touched))
            .group_by(ReceiptAllocation.invoice_id)
            .subquery("last_allocation")
        )
        stmt = (
            select(func.round(func.avg(last.c.paid_on - Invoice.invoice_date), 1))
            .select_from(Invoice)
            .join(last, and_(Invoice.tenant_id == tid, Invoice.id == last.c.invoice_id))
            .where(Invoice.status == "paid", last.c.paid_on >= date_from, last.c.paid_on <= date_to)
        )
        value = (await self.session.execute(stmt)).scalar_one()
        return None if value is None else Decimal(value)

    async def revenue_chart(self, *, date_from: date, date_to: date, interval: str) -> list[Any]:
        """One row per period from the one holding date_from to the one holding date_to (generate_series),
        each with the invoiced and collected amounts dated inside both the period and the range."""
        unit = literal_column(TRUNC_UNITS[interval], String)

        def period_of(column: Any) -> Any:
            return cast(func.date_trunc(unit, cast(column, TIMESTAMP)), Date)

        start, end = cast(_day(date_from), TIMESTAMP), cast(_day(date_to), TIMESTAMP)
        step = cast(literal(f"1 {interval}", String), Interval)
        series = func.generate_series(func.date_trunc(unit, start), end, step).table_valued("period").render_derived()
        period = cast(series.c.period, Date)
        invoiced = (
            select(period_of(Invoice.invoice_date).label("period"), func.sum(Invoice.total).label("amount"))
            .where(
                Invoice.tenant_id == self.tenant_id,
                Invoice.invoice_date >= date_from,
                Invoice.invoice_date <= date_to,
                Invoice.status.in_(BILLED_STATUSES),
            )
            .group_by(period_of(Invoice.invoice_date))
            .subquery("invoiced")
        )
        collected = (
            select(period_of(Receipt.receipt_date).label("period"), func.sum(Receipt.amount).label("amount"))
            .where(
                Receipt.tenant_id == self.tenant_id,
                Receipt.receipt_date >= date_from,
                Receipt.receipt_date <= date_to,
                Receipt.status == "active",
            )
            .group_by(period_of(Receipt.receipt_date))
            .subquery("collected")
        )
        stmt = (
            select(
                period.label("period"),
                func.coalesce(invoiced.c.amount, 0).label("invoiced"),
                func.coalesce(collected.c.amount, 0).label("collected"),
            )
            .select_from(series)
            .outerjoin(invoiced, invoiced.c.period == period)
            .outerjoin(collected, collected.c.period == period)
            .order_by(period)
        )
        return list((await self.session.execute(stmt)).all())

    def _balances_on(self, as_of: date) -> Any:
        """Every invoice with a balance due on `as_of`, as it stood that day: issued (not draft),
        dated on or before it, not yet voided then (Indian date), its total less the allocations
        and credit notes dated on or before it. Columns: customer_id, days_past_due, balance."""
        tid, day = self.tenant_id, _day(as_of)
        paid = (
            select(_sum(ReceiptAllocation.amount))
            .where(
                ReceiptAllocation.tenant_id == tid,
                ReceiptAllocation.invoice_id == Invoice.id,
                ReceiptAllocation.allocated_on <= day,
            )
            .scalar_subquery()
        )
        credited = (
            select(_sum(CreditNote.total))
            .where(CreditNote.tenant_id == tid, CreditNote.invoice_id == Invoice.id, CreditNote.credit_note_date <= day)
            .scalar_subquery()
        )
        voided_on = cast(func.timezone(literal(INDIA, String), Invoice.voided_at), Date)
        balances = (
            select(
                Invoice.customer_id,
                (day - Invoice.due_date).label("days_past_due"),
                (Invoice.total - paid - credited).label("balance"),
            )
            .where(
                Invoice.tenant_id == tid,
                Invoice.status != "draft",
                Invoice.invoice_date <= day,
                or_(Invoice.voided_at.is_(None), voided_on > day),
            )
            .subquery("balances")
        )
        return select(balances).where(balances.c.balance > 0).subquery("open_on")

    @staticmethod
    def _bucket_columns(open_on: Any) -> list[Any]:
        """`<bucket>_amount` and `<bucket>_count` for each bucket, then `total_amount`, `total_count`."""
        days, columns = open_on.c.days_past_due, []
        for name, (low, high) in BUCKETS.items():
            bounds = [days >= low] if low is not None else []
            bounds += [days <= high] if high is not None else []
            condition = and_(*bounds)
            columns += [
                _sum(open_on.c.balance, condition).label(f"{name}_amount"),
                _count(condition).label(f"{name}_count"),
            ]
        return [*columns, _sum(open_on.c.balance).label("total_amount"), _count().label("total_count")]

    async def aging(self, *, as_of: date) -> dict[str, Tally]:
        """A tally per bucket (BUCKETS' names) and `total`."""
        row = (await self.session.execute(select(*self._bucket_columns(self._balances_on(as_of))))).one()
        return _tallies(row._mapping)

    async def customer_aging(self, customer_id: uuid.UUID, *, as_of: date) -> dict[str, Tally]:
        """`aging` of one customer's invoices (a statement of account's summary)."""
        open_on = self._balances_on(as_of)
        stmt = select(*self._bucket_columns(open_on)).where(open_on.c.customer_id == customer_id)
        row = (await self.session.execute(stmt)).one()
        return _tallies(row._mapping)

    async def aging_by_customer(self, *, as_of: date, limit: int) -> tuple[list[tuple[Any, dict[str, Tally]]], int]:
        """The `limit` customers owing most on `as_of` (ties by id), each as ((id, name), tallies),
        and how many customers owe anything on `as_of`."""
        open_on = self._balances_on(as_of)
        per_customer = (
            select(open_on.c.customer_id, *self._bucket_columns(open_on), func.count().over().label("owing"))
            .group_by(open_on.c.customer_id)
            .subquery("per_customer")
        )
        stmt = (
            select(per_customer, Customer.name)
            .join(Customer, and_(Customer.tenant_id == self.tenant_id, Customer.id == per_customer.c.customer_id))
            .order_by(per_customer.c.total_amount.desc(), per_customer.c.customer_id)
            .limit(limit)
        )
        rows = [row._mapping for row in (await self.session.execute(stmt)).all()]
        owing = int(rows[0]["owing"]) if rows else 0
        return [((row["customer_id"], row["name"]), _tallies(row)) for row in rows], owing


def _tallies(row: Any) -> dict[str, Tally]:
    return {name: _tally(row[f"{name}_amount"], row[f"{name}_count"]) for name in [*BUCKETS, "total"]}
