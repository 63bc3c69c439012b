import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import CheckConstraint, Computed, Index, Numeric, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.domain.statuses import InvoiceStatus
from app.domain.zero_rated import PORT_CODE_PATTERN, SHIPPING_BILL_NUMBER_PATTERN, SupplyCategory, TaxTreatment
from app.models.base import Base, TenantScoped, Timestamps, tenant_fk
from app.models.billing.business import MONEY, RATE

QUANTITY = Numeric(15, 3)
UNIT_PRICE = Numeric(18, 4)
INVOICE_STATUSES = tuple(status.value for status in InvoiceStatus)
# What the document is in law: a tax invoice (Rule 46), a bill of supply (Rule 49: no tax, from a
# composition taxpayer, an unregistered supplier or for exempt supplies) or an invoice-cum-bill of
# supply (Rule 46A: taxable and exempt supplies to an unregistered recipient on one document).
DOCUMENT_TYPES = ("tax_invoice", "bill_of_supply", "invoice_cum_bill_of_supply")
# The supplier's registration when the document was issued (GST settings; no GSTIN = unregistered).
REGISTRATION_TYPES = ("regular", "composition", "unregistered")
# Exports and supplies to SEZ units/developers (app.domain.zero_rated): zero-rated, with payment of
# IGST or under bond / letter of undertaking without it.
SUPPLY_CATEGORIES = tuple(category.value for category in SupplyCategory)
TAX_TREATMENTS = tuple(treatment.value for treatment in TaxTreatment)
EXPORT_DETAILS = ("destination_country", "port_code", "shipping_bill_number", "shipping_bill_date")


class Invoice(TenantScoped, Timestamps, Base):
    """A GST tax invoice. Drafts have no number; issuing assigns one and freezes the document.
    `amount_paid` and `amount_credited` move with allocations and credit notes by atomic UPDATEs;
    `balance_due` is derived from them by the database."""

    __tablename__ = "invoices"
    # balance_due is computed by the database: fetch it back with RETURNING on every write.
    __mapper_args__ = {"eager_defaults": True}
    __table_args__ = (
        tenant_fk(["company_id"], "companies"),
        tenant_fk(["customer_id"], "customers"),
        CheckConstraint(f"status IN {INVOICE_STATUSES}", name="status"),
        CheckConstraint("supply_type IN ('intra_state', 'inter_state')", name="supply_type"),
        CheckConstraint("place_of_supply ~ '^[0-9]{2}$'", name="place_of_supply"),
        CheckConstraint("(status = 'draft') = (number IS NULL)", name="number_when_issued"),
        CheckConstraint(f"document_type IN {DOCUMENT_TYPES}", name="document_type"),
        CheckConstraint(f"supplier_registration_type IN {REGISTRATION_TYPES}", name="supplier_registration_type"),
        CheckConstraint("due_date >= invoice_date", name="due_date"),
        CheckConstraint(f"supply_category IN {SUPPLY_CATEGORIES}", name="supply_category"),
        CheckConstraint(f"tax_treatment IN {TAX_TREATMENTS}", name="tax_treatment"),
        # A zero-rated supply says how it is made; a regular one has nothing to say.
        CheckConstraint(
            "(supply_category = 'regular') = (tax_treatment IS NULL)", name="tax_treatment_when_zero_rated"
        ),
        CheckConstraint(
            "supply_category = 'export' OR num_nulls(destination_country, port_code, shipping_bill_number, "
            "shipping_bill_date) = 4",
            name="export_details_of_exports",
        ),
        CheckConstraint("supply_category <> 'export' OR place_of_supply = '96'", name="export_place_of_supply"),
        CheckConstraint(
            "supply_category NOT IN ('sez_unit', 'sez_developer') OR supply_type = 'inter_state'",
            name="sez_inter_state",
        ),
        CheckConstraint("tax_treatment IS DISTINCT FROM 'under_lut' OR tax_total = 0", name="no_tax_under_lut"),
        CheckConstraint("destination_country ~ '^[A-Z]{2}$'", name="destination_country"),
        CheckConstraint(f"port_code ~ '{PORT_CODE_PATTERN}'", name="port_code"),
        CheckConstraint(f"shipping_bill_number ~ '{SHIPPING_BILL_NUMBER_PATTERN}'", name="shipping_bill_number"),
        CheckConstraint("(shipping_bill_number IS NULL) = (shipping_bill_date IS NULL)", name="shipping_bill"),
        CheckConstraint("shipping_bill_date >= invoice_date", name="shipping_bill_date"),
        CheckConstraint("amount_paid >= 0 AND amount_credited >= 0", name="settled_amounts"),
        CheckConstraint("amount_credited <= total", name="credited_within_total"),
        CheckConstraint("amount_paid <= total", name="paid_within_total"),
        Index(
            "uq_invoices_tenant_id_company_id_financial_year_number",
            "tenant_id",
            "company_id",
            "financial_year",
            "number",
            unique=True,
            postgresql_where=text("number IS NOT NULL"),
        ),
        Index("ix_invoices_tenant_id_invoice_date_id", "tenant_id", "invoice_date", "id"),
        Index("ix_invoices_tenant_id_customer_id_invoice_date", "tenant_id", "customer_id", "invoice_date"),
        Index("ix_invoices_tenant_id_due_date", "tenant_id", "due_date"),
        Index("ix_invoices_tenant_id_status", "tenant_id", "status"),
        # Search by number prefix (GET /invoices?q=).
        Index(
            "ix_invoices_tenant_id_number",
            "tenant_id",
            "number",
            postgresql_ops={"number": "text_pattern_ops"},
            postgresql_where=text("number IS NOT NULL"),
        ),
        # Payment reminders (migration 0020): open invoices by due date, for the scan across tenants
        # and each tenant's step (app.repositories.billing.invoices.open_condition).
        Index(
            "ix_invoices_tenant_id_open_due_date",
            "tenant_id",
            "due_date",
            postgresql_where=text("status IN ('issued', 'partially_paid') AND balance_due > 0"),
        ),
        # Counting a month's issued invoices for the free plan's limit (app/services/platform/entitlements.py).
        Index(
            "ix_invoices_tenant_id_issued_at", "tenant_id", "issued_at", postgresql_where=text("issued_at IS NOT NULL")
        ),
    )

    company_id: Mapped[uuid.UUID]
    customer_id: Mapped[uuid.UUID]
    status: Mapped[str] = mapped_column(String(20), default="draft", server_default=text("'draft'"))
    number: Mapped[str | None] = mapped_column(String(16))
    financial_year: Mapped[str | None] = mapped_column(String(5))
    invoice_date: Mapped[date]
    due_date: Mapped[date]
    place_of_supply: Mapped[str] = mapped_column(String(2))
    supply_type: Mapped[str] = mapped_column(String(20))
    reverse_charge: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    # Both follow the draft as it is composed and are frozen at issue, so that a document rendered
    # later prints its title and declaration as issued, whatever the settings say by then.
    document_type: Mapped[str] = mapped_column(String(30))
    supplier_registration_type: Mapped[str] = mapped_column(String(20))
    # Chosen on the draft (or following its parties: place of supply 96, an SEZ customer) and
    # frozen at issue, like document_type: what the Rule 46 endorsement prints.
    supply_category: Mapped[str] = mapped_column(String(20), server_default=text("'regular'"))
    tax_treatment: Mapped[str | None] = mapped_column(String(30))
    # An export's (Rule 46; GSTR-1 table 6A): ISO 3166-1 alpha-2, Indian customs port code,
    # shipping bill (or bill of export) number and date.
    destination_country: Mapped[str | None] = mapped_column(String(2))
    port_code: Mapped[str | None] = mapped_column(String(6))
    shipping_bill_number: Mapped[str | None] = mapped_column(String(7))
    shipping_bill_date: Mapped[date | None]
    notes: Mapped[str | None] = mapped_column(Text)
    terms: Mapped[str | None] = mapped_column(Text)
    # Who was billed, by whom, as the document showed it when last saved (Rule 46): later edits
    # of the customer or company never change an issued invoice.
    supplier: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
    recipient: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
    taxable_value: Mapped[Decimal] = mapped_column(MONEY)
    cgst_amount: Mapped[Decimal] = mapped_column(MONEY)
    sgst_amount: Mapped[Decimal] = mapped_column(MONEY)
    utgst_amount: Mapped[Decimal] = mapped_column(MONEY)
    igst_amount: Mapped[Decimal] = mapped_column(MONEY)
    tax_total: Mapped[Decimal] = mapped_column(MONEY)
    round_off: Mapped[Decimal] = mapped_column(MONEY)
    total: Mapped[Decimal] = mapped_column(MONEY)
    amount_paid: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0.00"), server_default=text("0"))
    amount_credited: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0.00"), server_default=text("0"))
    balance_due: Mapped[Decimal] = mapped_column(
        MONEY, Computed("GREATEST(total - amount_paid - amount_credited, 0)", persisted=True)
    )
    issued_at: Mapped[datetime | None]
    voided_at: Mapped[datetime | None]
    void_reason: Mapped[str | None] = mapped_column(Text)

    lines: Mapped[list["InvoiceLine"]] = relationship(
        lazy="raise", order_by="InvoiceLine.position", cascade="all, delete-orphan", passive_deletes=True
    )


class InvoiceLine(TenantScoped, Base):
    __tablename__ = "invoice_lines"
    __table_args__ = (
        tenant_fk(["invoice_id"], "invoices", ondelete="CASCADE"),
        tenant_fk(["service_type_id"], "service_types"),
        tenant_fk(["product_id"], "products"),
        Index("uq_invoice_lines_tenant_id_invoice_id_position", "tenant_id", "invoice_id", "position", unique=True),
        Index(
            "ix_invoice_lines_tenant_id_product_id",
            "tenant_id",
            "product_id",
            postgresql_where=text("product_id IS NOT NULL"),
        ),
        CheckConstraint("quantity > 0", name="quantity"),
        CheckConstraint("unit_price >= 0", name="unit_price"),
        CheckConstraint("discount >= 0", name="discount"),
        CheckConstraint("taxable_value >= 0", name="taxable_value"),
        CheckConstraint("gst_rate >= 0 AND gst_rate <= 100", name="gst_rate"),
    )

    invoice_id: Mapped[uuid.UUID]
    position: Mapped[int]
    service_type_id: Mapped[uuid.UUID | None]
    # the product the line sells (issue takes its stock; a void or credit note with restock returns it)
    product_id: Mapped[uuid.UUID | None]
    description: Mapped[str] = mapped_column(String(500))
    hsn_sac: Mapped[str | None] = mapped_column(String(8))
    quantity: Mapped[Decimal] = mapped_column(QUANTITY)
    unit: Mapped[str | None] = mapped_column(String(20))
    unit_price: Mapped[Decimal] = mapped_column(UNIT_PRICE)
    discount: Mapped[Decimal] = mapped_column(MONEY)
    gst_rate: Mapped[Decimal] = mapped_column(RATE)
    taxable_value: Mapped[Decimal] = mapped_column(MONEY)
    cgst_amount: Mapped[Decimal] = mapped_column(MONEY)
    sgst_amount: Mapped[Decimal] = mapped_column(MONEY)
    utgst_amount: Mapped[Decimal] = mapped_column(MONEY)
    igst_amount: Mapped[Decimal] = mapped_column(MONEY)
    total: Mapped[Decimal] = mapped_column(MONEY)
