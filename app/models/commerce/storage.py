"""Storage rent: agreements to store a customer's goods, the goods held under each (a ledger of
their own: customer goods are not the shop's sellable stock), and the periods billed."""

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKeyConstraint, Index, PrimaryKeyConstraint, SmallInteger, String, Text
from sqlalchemy import text as sql
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, TenantOwned, TenantScoped, Timestamps, tenant_fk, utcnow
from app.models.billing.business import MONEY, RATE
from app.models.billing.invoice import QUANTITY

AGREEMENT_STATUSES = ("active", "ended")
MOVEMENT_KINDS = ("receipt", "release")


def _in(column: str, values: tuple[str, ...]) -> str:
    return "{} IN ({})".format(column, ", ".join(f"'{v}'" for v in values))


class StorageAgreement(TenantScoped, Timestamps, Base):
    """A company stores a customer's goods for a monthly rent: `monthly_rate` percent of their
    declared value, prorated by the days stored (app.domain.storage_rent). `next_period_start` is
    the first period not billed yet and `next_bill_on` the day it is billed (its end); null once
    the agreement's last period is billed. `ended`: no more goods come in (an end date is set)."""

    __tablename__ = "storage_agreements"
    __table_args__ = (
        tenant_fk(["company_id"], "companies"),
        tenant_fk(["customer_id"], "customers"),
        CheckConstraint(_in("status", AGREEMENT_STATUSES), name="status"),
        CheckConstraint("monthly_rate > 0 AND monthly_rate < 100", name="monthly_rate"),
        CheckConstraint("billing_day BETWEEN 1 AND 28", name="billing_day"),
        CheckConstraint("gst_rate >= 0 AND gst_rate <= 100", name="gst_rate"),
        CheckConstraint("end_date IS NULL OR end_date >= start_date", name="end_date"),
        CheckConstraint("status = 'active' OR end_date IS NOT NULL", name="ended"),
        CheckConstraint("next_bill_on IS NULL OR next_bill_on > next_period_start", name="next_bill_on"),
        Index("ix_storage_agreements_tenant_id_customer_id", "tenant_id", "customer_id"),
        Index("ix_storage_agreements_tenant_id_status", "tenant_id", "status"),
        Index("ix_storage_agreements_next_bill_on", "next_bill_on", postgresql_where=sql("next_bill_on IS NOT NULL")),
    )

    company_id: Mapped[uuid.UUID]
    customer_id: Mapped[uuid.UUID]
    reference: Mapped[str | None] = mapped_column(String(50))
    monthly_rate: Mapped[Decimal] = mapped_column(RATE)
    billing_day: Mapped[int] = mapped_column(SmallInteger)
    # 18 %; 0 for storage the law exempts (e.g. of agricultural produce): a bill of supply
    gst_rate: Mapped[Decimal] = mapped_column(RATE, default=Decimal("18"), server_default=sql("18"))
    start_date: Mapped[date]
    end_date: Mapped[date | None]
    status: Mapped[str] = mapped_column(String(10), default="active", server_default=sql("'active'"))
    next_period_start: Mapped[date]
    next_bill_on: Mapped[date | None]
    notes: Mapped[str | None] = mapped_column(Text)
    # why the period due could not be billed at the last run (the job retries each run), else null
    billing_problem: Mapped[str | None] = mapped_column(String(500))


class StorageHolding(TenantOwned, Base):
    """What an agreement holds of a product now, and its declared value per unit (fixed at the
    first receipt). Changed only under the agreement's row lock, in the transaction that writes
    the movement; the database refuses a quantity below zero."""

    __tablename__ = "storage_holdings"
    __table_args__ = (
        PrimaryKeyConstraint("tenant_id", "agreement_id", "product_id"),
        tenant_fk(["agreement_id"], "storage_agreements"),
        tenant_fk(["product_id"], "products"),
        CheckConstraint("quantity >= 0", name="quantity"),
        CheckConstraint("unit_value > 0", name="unit_value"),
        Index("ix_storage_holdings_tenant_id_product_id", "tenant_id", "product_id"),
    )

    agreement_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    product_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    quantity: Mapped[Decimal] = mapped_column(QUANTITY)
    unit_value: Mapped[Decimal] = mapped_column(MONEY)
    last_movement_on: Mapped[date]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow, server_default=sql("now()"))


class StorageMovement(TenantScoped, Base):
    """Goods of the customer received into or released from storage, never updated or deleted;
    `quantity_after` is the holding it left."""

    __tablename__ = "storage_movements"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "agreement_id", "product_id"],
            ["storage_holdings.tenant_id", "storage_holdings.agreement_id", "storage_holdings.product_id"],
            name="fk_storage_movements_holding",  # the conventional name passes PostgreSQL's 63 characters
        ),
        CheckConstraint(_in("kind", MOVEMENT_KINDS), name="kind"),
        CheckConstraint("quantity > 0", name="quantity"),
        CheckConstraint("quantity_after >= 0", name="quantity_after"),
        Index("ix_storage_movements_tenant_id_agreement_id_id", "tenant_id", "agreement_id", "id"),
        Index(
            "ix_storage_movements_tenant_id_agreement_id_movement_date",
            "tenant_id",
            "agreement_id",
            "movement_date",
        ),
    )

    agreement_id: Mapped[uuid.UUID]
    product_id: Mapped[uuid.UUID]
    kind: Mapped[str] = mapped_column(String(10))
    quantity: Mapped[Decimal] = mapped_column(QUANTITY)
    quantity_after: Mapped[Decimal] = mapped_column(QUANTITY)
    movement_date: Mapped[date]
    reference: Mapped[str | None] = mapped_column(String(50))
    notes: Mapped[str | None] = mapped_column(Text)
    actor_user_id: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=sql("now()"))


class StorageRentPeriod(TenantOwned, Base):
    """A period of an agreement, billed once: the key (agreement, period start) is unique, written
    in the transaction that issues the invoice. `invoice_id` is null when nothing was stored."""

    __tablename__ = "storage_rent_periods"
    __table_args__ = (
        PrimaryKeyConstraint("tenant_id", "agreement_id", "period_start"),
        tenant_fk(["agreement_id"], "storage_agreements", name="fk_storage_rent_periods_agreement"),
        tenant_fk(["invoice_id"], "invoices"),
        CheckConstraint("period_end > period_start", name="period"),
        CheckConstraint("rent >= 0", name="rent"),
        CheckConstraint("invoice_id IS NOT NULL OR rent = 0", name="invoiced"),
    )

    agreement_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    period_start: Mapped[date] = mapped_column(primary_key=True)
    period_end: Mapped[date]
    invoice_id: Mapped[uuid.UUID | None]
    rent: Mapped[Decimal] = mapped_column(MONEY)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=sql("now()"))
