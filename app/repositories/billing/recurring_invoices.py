"""Recurring invoices (schedules) and their runs (the periods claimed)."""

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from app.models.base import new_id
from app.models.billing.customer import Customer
from app.models.billing.invoice import Invoice
from app.models.billing.recurring import RecurringInvoice, RecurringInvoiceRun
from app.repositories.base import SortKey, TenantRepository

SKIP_BATCH = 1000


@dataclass(frozen=True)
class RecurringFilters:
    status: str | None = None
    customer_id: uuid.UUID | None = None
    company_id: uuid.UUID | None = None


class RecurringInvoiceRepository(TenantRepository[RecurringInvoice]):
    model = RecurringInvoice

    async def get_for_update(self, id_: uuid.UUID) -> RecurringInvoice | None:
        """The schedule, locked, as stored (read again after waiting for the lock)."""
        stmt = (
            select(RecurringInvoice)
            .where(RecurringInvoice.id == id_)
            .execution_options(populate_existing=True)
            .with_for_update()
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def list_page(
        self, filters: RecurringFilters, *, limit: int, cursor: str | None
    ) -> tuple[list[tuple[RecurringInvoice, str]], str | None]:
        """A page of (schedule, customer name), newest first."""
        stmt = select(RecurringInvoice, Customer.name).join(
            Customer,
            (Customer.tenant_id == RecurringInvoice.tenant_id) & (Customer.id == RecurringInvoice.customer_id),
        )
        if filters.status is not None:
            stmt = stmt.where(RecurringInvoice.status == filters.status)
        if filters.customer_id is not None:
            stmt = stmt.where(RecurringInvoice.customer_id == filters.customer_id)
        if filters.company_id is not None:
            stmt = stmt.where(RecurringInvoice.company_id == filters.company_id)
        return await self.page(stmt, limit=limit, cursor=cursor, sort=SortKey(descending=True))

    async def due_ids(self, today: date, *, limit: int) -> list[uuid.UUID]:
        """Active schedules whose next period is dated on or before `today`, oldest period first."""
        stmt = (
            select(RecurringInvoice.id)
            .where(RecurringInvoice.status == "active", RecurringInvoice.next_date <= today)
            .order_by(RecurringInvoice.next_date, RecurringInvoice.id)
            .limit(limit)
        )
        return list((await self.session.execute(stmt)).scalars())

    async def lock_due(self, id_: uuid.UUID, today: date) -> RecurringInvoice | None:
        """The schedule locked if it is still due (read again as stored); None if another
        transaction holds it (SKIP LOCKED: that worker is issuing it) or it is not due any more."""
        stmt = (
            select(RecurringInvoice)
            .where(
                RecurringInvoice.id == id_,
                RecurringInvoice.status == "active",
                RecurringInvoice.next_date <= today,
            )
            .execution_options(populate_existing=True)
            .with_for_update(skip_locked=True)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()


class RecurringInvoiceRunRepository(TenantRepository[RecurringInvoiceRun]):
    model = RecurringInvoiceRun

    async def claim(
        self,
        schedule_id: uuid.UUID,
        *,
        index: int,
        period: tuple[date, date],
        outcome: str,
        at: datetime,
        invoice_id: uuid.UUID | None = None,
        send: bool = False,
        charge: bool = False,
    ) -> RecurringInvoiceRun | None:
        """The period's run, now this transaction's; None if it was claimed already (a concurrent
        claimer waits on the unique key until the first commits or rolls back)."""
        values: dict[str, Any] = {
            "tenant_id": self.tenant_id,
            "schedule_id": schedule_id,
            "period_index": index,
            "period_date": period[0],
            "period_end": period[1],
            "outcome": outcome,
            "invoice_id": invoice_id,
            "send": send,
            "charge": charge,
            "created_at": at,
            "id": new_id(),
        }
        stmt = (
            insert(RecurringInvoiceRun)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["tenant_id", "schedule_id", "period_index"])
            .returning(RecurringInvoiceRun.id)
        )
        run_id = (await self.session.execute(stmt)).scalar_one_or_none()
        if run_id is None:
            return None
        return await self.get(run_id)

    async def claimed(self, schedule_id: uuid.UUID, index: int) -> bool:
        stmt = select(RecurringInvoiceRun.id).where(
            RecurringInvoiceRun.schedule_id == schedule_id, RecurringInvoiceRun.period_index == index
        )
        return (await self.session.execute(stmt)).first() is not None

    async def skip(self, schedule_id: uuid.UUID, periods: list[tuple[int, date, date]], *, at: datetime) -> None:
        """Record `periods` (index, date, end) as skipped (any already claimed stay as they are)."""
        for start in range(0, len(periods), SKIP_BATCH):  # bounded statements, however long the pause
            rows = [
                {
                    "tenant_id": self.tenant_id,
                    "id": new_id(),
                    "schedule_id": schedule_id,
                    "period_index": index,
                    "period_date": day,
                    "period_end": end,
                    "outcome": "skipped",
                    "created_at": at,
                }
                for index, day, end in periods[start : start + SKIP_BATCH]
            ]
            stmt = insert(RecurringInvoiceRun).values(rows)
            await self.session.execute(
                stmt.on_conflict_do_nothing(index_elements=["tenant_id", "schedule_id", "period_index"])
            )

    async def pending_charges(self, *, limit: int) -> list[RecurringInvoiceRun]:
        """Issued periods whose payment link is still to be made, oldest first, locked (SKIP LOCKED:
        one another worker holds is that worker's)."""
        stmt = (
            select(RecurringInvoiceRun)
            .where(
                RecurringInvoiceRun.charge,
                RecurringInvoiceRun.online_payment_id.is_(None),
                RecurringInvoiceRun.charge_error.is_(None),
            )
            .order_by(RecurringInvoiceRun.created_at, RecurringInvoiceRun.id)
            .limit(limit)
            .execution_options(populate_existing=True)
            .with_for_update(skip_locked=True)
        )
        return list((await self.session.execute(stmt)).scalars())

    async def history_page(
        self, schedule_id: uuid.UUID, *, limit: int, cursor: str | None
    ) -> tuple[list[tuple[RecurringInvoiceRun, str | None, Any, str | None]], str | None]:
        """A page of (run, invoice number, invoice total, invoice status), latest period first."""
        stmt = (
            select(RecurringInvoiceRun, Invoice.number, Invoice.total, Invoice.status)
            .outerjoin(
                Invoice,
                (Invoice.tenant_id == RecurringInvoiceRun.tenant_id) & (Invoice.id == RecurringInvoiceRun.invoice_id),
            )
            .where(RecurringInvoiceRun.schedule_id == schedule_id)
        )
        sort = SortKey(RecurringInvoiceRun.period_index, descending=True)
        return await self.page(stmt, limit=limit, cursor=cursor, sort=sort)
