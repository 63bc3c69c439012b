"""Recurring invoices: a schedule (a customer, a company and invoice lines, every month, quarter or
year on a day of the month) and its periods (app.domain.recurrence), each claimed once in
`recurring_runs` with the invoice the scheduled job issued for it (or `skipped` while the
schedule was paused)."""

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import CheckConstraint, Index, Integer, SmallInteger, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, TenantScoped, Timestamps, tenant_fk

FREQUENCIES = ("monthly", "quarterly", "yearly")
# active: the job issues each period when its date comes; paused: nothing is issued (the periods
# dated while paused are skipped at resume); failed: issuing a period failed (the reason is kept),
# nothing more is issued until resumed (then that period and any after it are issued late, each
# dated its own date); ended: for good (by hand, by count or by end date).
SCHEDULE_STATUSES = ("active", "paused", "failed", "ended")
END_REASONS = ("ended", "count_reached", "end_date_reached")
RUN_OUTCOMES = ("issued", "skipped")
MAX_COUNT = 1200


def _in(column: str, values: tuple[str, ...]) -> str:
    return "{} IN ({})".format(column, ", ".join(f"'{v}'" for v in values))


class RecurringInvoice(TenantScoped, Timestamps, Base):
    """A schedule. `lines` holds invoice lines as POST /invoices takes them (JSON); each period's
    invoice is composed from them on its date, with the parties, rates and prices as they are
    then. `next_index`/`next_date`: the first period not yet claimed (the job's scan reads
    `next_date` of active schedules); `issued_count` the invoices issued so far (a `count` ends
    the schedule when reached)."""

    __tablename__ = "recurring_invoices"
    __table_args__ = (
        tenant_fk(["company_id"], "companies"),
        tenant_fk(["customer_id"], "customers"),
        CheckConstraint(_in("frequency", FREQUENCIES), name="frequency"),
        CheckConstraint(_in("status", SCHEDULE_STATUSES), name="status"),
        CheckConstraint(f"end_reason IS NULL OR {_in('end_reason', END_REASONS)}", name="end_reason"),
        CheckConstraint("day_of_month BETWEEN 1 AND 31", name="day_of_month"),
        CheckConstraint("end_date IS NULL OR end_date >= start_date", name="end_date"),
        CheckConstraint(f"count IS NULL OR count BETWEEN 1 AND {MAX_COUNT}", name="count"),
        CheckConstraint("due_days IS NULL OR due_days BETWEEN 0 AND 365", name="due_days"),
        CheckConstraint("next_index >= 0 AND issued_count >= 0", name="counters"),
        CheckConstraint("count IS NULL OR issued_count <= count", name="issued_count"),
        CheckConstraint("(status = 'ended') = (ended_at IS NOT NULL AND end_reason IS NOT NULL)", name="ended"),
        CheckConstraint("status = 'ended' OR next_date IS NOT NULL", name="next_date"),
        CheckConstraint("(status = 'paused') = (paused_on IS NOT NULL)", name="paused"),
        CheckConstraint("(status = 'failed') = (failed_at IS NOT NULL)", name="failed"),
        Index("ix_recurring_invoices_tenant_id_customer_id", "tenant_id", "customer_id"),
        Index("ix_recurring_invoices_tenant_id_status", "tenant_id", "status"),
        Index("ix_recurring_invoices_next_date_active", "next_date", postgresql_where=text("status = 'active'")),
    )

    company_id: Mapped[uuid.UUID]
    customer_id: Mapped[uuid.UUID]
    frequency: Mapped[str] = mapped_column(String(10))
    day_of_month: Mapped[int] = mapped_column(SmallInteger)
    start_date: Mapped[date]
    end_date: Mapped[date | None]
    count: Mapped[int | None] = mapped_column(Integer)
    place_of_supply: Mapped[str | None] = mapped_column(String(2))
    due_days: Mapped[int | None] = mapped_column(SmallInteger)
    notes: Mapped[str | None] = mapped_column(Text)
    terms: Mapped[str | None] = mapped_column(Text)
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    send: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    charge_by_link: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    status: Mapped[str] = mapped_column(String(10), default="active", server_default=text("'active'"))
    next_index: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    next_date: Mapped[date | None]
    issued_count: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    paused_on: Mapped[date | None]
    failed_at: Mapped[datetime | None]
    failure_code: Mapped[str | None] = mapped_column(String(60))
    failure_message: Mapped[str | None] = mapped_column(Text)
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str | None] = mapped_column(String(20))


class RecurringInvoiceRun(TenantScoped, Base):
    """One period of a schedule, claimed once: (schedule, period index) is unique, so two workers
            (or a re-run) cannot both issue it. `issued`: `invoice_id` is its invoice; `skipped`: dated
            while the schedule was paused. `send_error` / `charge_error`: why the invoice was not mailed or
            no payment link was made (the invoice stands). `send`: the invoice is to be mailed (the schedule's
    `send` when it was issued); `charge`: a payment link is wanted (the
        schedule's `charge_by_link` when it was issued); made by the job's next step, in a transaction of
        its own, `charge_attempts` counting the gateway's failures to answer."""

    __tablename__ = "recurring_runs"
    __table_args__ = (
        tenant_fk(["schedule_id"], "recurring_invoices", ondelete="CASCADE"),
        tenant_fk(["invoice_id"], "invoices"),
        tenant_fk(["online_payment_id"], "online_payments"),
        CheckConstraint(_in("outcome", RUN_OUTCOMES), name="outcome"),
        CheckConstraint("(outcome = 'issued') = (invoice_id IS NOT NULL)", name="invoice"),
        CheckConstraint("period_index >= 0 AND period_end >= period_date", name="period"),
        Index(
            "uq_recurring_runs_tenant_id_schedule_id_period_index",
            "tenant_id",
            "schedule_id",
            "period_index",
            unique=True,
        ),
        Index("uq_recurring_runs_tenant_id_invoice_id", "tenant_id", "invoice_id", unique=True),
        Index(
            "ix_recurring_runs_charge_pending",
            "tenant_id",
            "created_at",
            postgresql_where=text("charge AND online_payment_id IS NULL AND charge_error IS NULL"),
        ),
    )

    schedule_id: Mapped[uuid.UUID]
    period_index: Mapped[int]
    period_date: Mapped[date]
    period_end: Mapped[date]
    outcome: Mapped[str] = mapped_column(String(10))
    invoice_id: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime]
    send: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    sent: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    send_error: Mapped[str | None] = mapped_column(Text)
    charge: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    charge_attempts: Mapped[int] = mapped_column(SmallInteger, default=0, server_default=text("0"))
    online_payment_id: Mapped[uuid.UUID | None]
    charge_error: Mapped[str | None] = mapped_column(Text)
