import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, TenantScoped, Timestamps, tenant_fk
from app.models.billing.business import MONEY

PAYMENT_MODES = ("cash", "upi", "bank_transfer", "card", "cheque", "razorpay")


class Receipt(TenantScoped, Timestamps, Base):
    """Money received from a customer. What is neither allocated to invoices nor refunded is the
    customer's advance."""

    __tablename__ = "receipts"
    __table_args__ = (
        tenant_fk(["company_id"], "companies"),
        tenant_fk(["customer_id"], "customers"),
        CheckConstraint(f"mode IN {PAYMENT_MODES}", name="mode"),
        CheckConstraint("status IN ('active', 'void')", name="status"),
        CheckConstraint("amount > 0", name="amount"),
        CheckConstraint(
            "amount_allocated >= 0 AND amount_refunded >= 0 AND amount_allocated + amount_refunded <= amount",
            name="amount_allocated",
        ),
        Index(
            "uq_receipts_tenant_id_company_id_financial_year_number",
            "tenant_id",
            "company_id",
            "financial_year",
            "number",
            unique=True,
        ),
        Index("ix_receipts_tenant_id_receipt_date_id", "tenant_id", "receipt_date", "id"),
        Index("ix_receipts_tenant_id_customer_id_receipt_date", "tenant_id", "customer_id", "receipt_date"),
    )

    company_id: Mapped[uuid.UUID]
    customer_id: Mapped[uuid.UUID]
    number: Mapped[str] = mapped_column(String(16))
    financial_year: Mapped[str] = mapped_column(String(5))
    receipt_date: Mapped[date]
    amount: Mapped[Decimal] = mapped_column(MONEY)
    amount_allocated: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0.00"), server_default=text("0"))
    # sent back to the customer through the gateway (app.services.commerce.refunds); the advance
    # still to allocate is amount - amount_allocated - amount_refunded
    amount_refunded: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0.00"), server_default=text("0"))
    mode: Mapped[str] = mapped_column(String(20))
    reference: Mapped[str | None] = mapped_column(String(100))
    notes: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="active", server_default=text("'active'"))
    voided_at: Mapped[datetime | None]
    void_reason: Mapped[str | None] = mapped_column(Text)


class ReceiptAllocation(TenantScoped, Base):
    """Part of a receipt applied to an invoice. Voiding the receipt deletes its allocations
    (the audit trail keeps them)."""

    __tablename__ = "receipt_allocations"
    __table_args__ = (
        tenant_fk(["receipt_id"], "receipts"),
        tenant_fk(["invoice_id"], "invoices"),
        CheckConstraint("amount > 0", name="amount"),
        Index("ix_receipt_allocations_tenant_id_receipt_id", "tenant_id", "receipt_id"),
        Index("ix_receipt_allocations_tenant_id_invoice_id", "tenant_id", "invoice_id"),
        # The dashboard's average days to pay starts from the allocations dated in a range.
        Index("ix_receipt_allocations_tenant_id_allocated_on", "tenant_id", "allocated_on"),
    )

    receipt_id: Mapped[uuid.UUID]
    invoice_id: Mapped[uuid.UUID]
    amount: Mapped[Decimal] = mapped_column(MONEY)
    allocated_on: Mapped[date]
    created_at: Mapped[datetime] = mapped_column(server_default=text("now()"))
