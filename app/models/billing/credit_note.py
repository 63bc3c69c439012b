import uuid
from datetime import date
from decimal import Decimal

from sqlalchemy import CheckConstraint, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, TenantScoped, Timestamps, tenant_fk
from app.models.billing.business import MONEY, RATE
from app.models.billing.invoice import QUANTITY


class CreditNote(TenantScoped, Timestamps, Base):
    """A credit against one issued invoice (CGST Rule 53): its own number and date, and the
    original invoice's number and date. Amounts are positive; they reduce what is owed."""

    __tablename__ = "credit_notes"
    __table_args__ = (
        tenant_fk(["company_id"], "companies"),
        tenant_fk(["customer_id"], "customers"),
        tenant_fk(["invoice_id"], "invoices"),
        CheckConstraint("total > 0", name="total"),
        Index(
            "uq_credit_notes_tenant_id_company_id_financial_year_number",
            "tenant_id",
            "company_id",
            "financial_year",
            "number",
            unique=True,
        ),
        Index("ix_credit_notes_tenant_id_credit_note_date_id", "tenant_id", "credit_note_date", "id"),
        Index("ix_credit_notes_tenant_id_invoice_id", "tenant_id", "invoice_id"),
        Index("ix_credit_notes_tenant_id_customer_id_credit_note_date", "tenant_id", "customer_id", "credit_note_date"),
    )

    company_id: Mapped[uuid.UUID]
    customer_id: Mapped[uuid.UUID]
    invoice_id: Mapped[uuid.UUID]
    number: Mapped[str] = mapped_column(String(16))
    financial_year: Mapped[str] = mapped_column(String(5))
    credit_note_date: Mapped[date]
    invoice_number: Mapped[str] = mapped_column(String(16))
    invoice_date: Mapped[date]
    reason: Mapped[str] = mapped_column(Text)
    is_full: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    # the goods of its product lines went back to stock (a `return` movement each); false = damaged
    restock: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    place_of_supply: Mapped[str] = mapped_column(String(2))
    supply_type: Mapped[str] = mapped_column(String(20))
    taxable_value: Mapped[Decimal] = mapped_column(MONEY)
    cgst_amount: Mapped[Decimal] = mapped_column(MONEY)
    sgst_amount: Mapped[Decimal] = mapped_column(MONEY)
    utgst_amount: Mapped[Decimal] = mapped_column(MONEY)
    igst_amount: Mapped[Decimal] = mapped_column(MONEY)
    tax_total: Mapped[Decimal] = mapped_column(MONEY)
    round_off: Mapped[Decimal] = mapped_column(MONEY)
    total: Mapped[Decimal] = mapped_column(MONEY)

    lines: Mapped[list["CreditNoteLine"]] = relationship(lazy="raise", order_by="CreditNoteLine.position")


class CreditNoteLine(TenantScoped, Base):
    __tablename__ = "credit_note_lines"
    __table_args__ = (
        tenant_fk(["credit_note_id"], "credit_notes"),
        tenant_fk(["invoice_line_id"], "invoice_lines"),
        Index("ix_credit_note_lines_tenant_id_invoice_line_id", "tenant_id", "invoice_line_id"),
        Index(
            "uq_credit_note_lines_tenant_id_credit_note_id_position",
            "tenant_id",
            "credit_note_id",
            "position",
            unique=True,
        ),
        CheckConstraint("taxable_value > 0", name="taxable_value"),
    )

    credit_note_id: Mapped[uuid.UUID]
    invoice_line_id: Mapped[uuid.UUID]
    position: Mapped[int]
    description: Mapped[str] = mapped_column(String(500))
    hsn_sac: Mapped[str | None] = mapped_column(String(8))
    quantity: Mapped[Decimal | None] = mapped_column(QUANTITY)
    gst_rate: Mapped[Decimal] = mapped_column(RATE)
    taxable_value: Mapped[Decimal] = mapped_column(MONEY)
    cgst_amount: Mapped[Decimal] = mapped_column(MONEY)
    sgst_amount: Mapped[Decimal] = mapped_column(MONEY)
    utgst_amount: Mapped[Decimal] = mapped_column(MONEY)
    igst_amount: Mapped[Decimal] = mapped_column(MONEY)
    total: Mapped[Decimal] = mapped_column(MONEY)
