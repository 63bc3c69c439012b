"""A tenant's business configuration: companies (one per GSTIN), client types, account
managers, service types, tax rates and GST settings."""

from datetime import date
from decimal import Decimal

from sqlalchemy import CheckConstraint, Index, Numeric, String, Text, func, text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, TenantScoped, Timestamps

MONEY = Numeric(18, 2)
RATE = Numeric(5, 2)
STATE_CODE_CHECK = "state_code ~ '^[0-9]{2}$'"


class Company(TenantScoped, Timestamps, Base):
    """A legal entity of the tenant that issues documents; its GSTIN fixes the supplier state."""

    __tablename__ = "companies"
    __table_args__ = (
        Index(
            "uq_companies_tenant_id_gstin",
            "tenant_id",
            "gstin",
            unique=True,
            postgresql_where=text("gstin IS NOT NULL"),
        ),
        CheckConstraint(STATE_CODE_CHECK, name="state_code"),
    )

    legal_name: Mapped[str] = mapped_column(String(200))
    trade_name: Mapped[str | None] = mapped_column(String(200))
    gstin: Mapped[str | None] = mapped_column(String(15))
    pan: Mapped[str | None] = mapped_column(String(10))
    state_code: Mapped[str] = mapped_column(String(2))
    address_line1: Mapped[str | None] = mapped_column(String(200))
    address_line2: Mapped[str | None] = mapped_column(String(200))
    city: Mapped[str | None] = mapped_column(String(100))
    pincode: Mapped[str | None] = mapped_column(String(6))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(20))
    bank_account_name: Mapped[str | None] = mapped_column(String(200))
    bank_account_number: Mapped[str | None] = mapped_column(String(34))
    ifsc: Mapped[str | None] = mapped_column(String(11))
    upi_vpa: Mapped[str | None] = mapped_column(String(100))
    default_terms: Mapped[str | None] = mapped_column(Text)
    is_archived: Mapped[bool] = mapped_column(default=False, server_default=text("false"))


class ClientType(TenantScoped, Timestamps, Base):
    __tablename__ = "client_types"
    __table_args__ = (
        Index("uq_client_types_tenant_id_lower_name", "tenant_id", func.lower(text("name")), unique=True),
    )

    name: Mapped[str] = mapped_column(String(100))
    is_active: Mapped[bool] = mapped_column(default=True, server_default=text("true"))


class AccountManager(TenantScoped, Timestamps, Base):
    __tablename__ = "account_managers"

    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(20))
    is_active: Mapped[bool] = mapped_column(default=True, server_default=text("true"))


class ServiceType(TenantScoped, Timestamps, Base):
    __tablename__ = "service_types"
    __table_args__ = (
        Index("uq_service_types_tenant_id_lower_name", "tenant_id", func.lower(text("name")), unique=True),
        CheckConstraint("default_rate >= 0", name="default_rate"),
        CheckConstraint("default_gst_rate >= 0 AND default_gst_rate <= 100", name="default_gst_rate"),
    )

    name: Mapped[str] = mapped_column(String(200))
    sac_hsn_code: Mapped[str | None] = mapped_column(String(8))
    unit: Mapped[str | None] = mapped_column(String(20))
    default_rate: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0.00"), server_default=text("0"))
    default_gst_rate: Mapped[Decimal] = mapped_column(RATE, default=Decimal("18.00"), server_default=text("18"))
    is_active: Mapped[bool] = mapped_column(default=True, server_default=text("true"))


class TaxRate(TenantScoped, Timestamps, Base):
    """A GST rate in force from a date (and until one, when the law changes)."""

    __tablename__ = "tax_rates"
    __table_args__ = (
        Index("uq_tax_rates_tenant_id_rate_effective_from", "tenant_id", "rate", "effective_from", unique=True),
        CheckConstraint("rate >= 0 AND rate <= 100", name="rate"),
        CheckConstraint("effective_to IS NULL OR effective_to >= effective_from", name="effective_range"),
    )

    name: Mapped[str] = mapped_column(String(50))
    rate: Mapped[Decimal] = mapped_column(RATE)
    effective_from: Mapped[date]
    effective_to: Mapped[date | None]


class GstSettings(TenantScoped, Timestamps, Base):
    """One row per tenant."""

    __tablename__ = "gst_settings"
    __table_args__ = (
        Index("uq_gst_settings_tenant_id", "tenant_id", unique=True),
        CheckConstraint("registration_type IN ('regular', 'composition')", name="registration_type"),
        CheckConstraint("default_due_days >= 0 AND default_due_days <= 365", name="default_due_days"),
    )

    registration_type: Mapped[str] = mapped_column(String(20), default="regular", server_default=text("'regular'"))
    round_off_enabled: Mapped[bool] = mapped_column(default=True, server_default=text("true"))
    default_due_days: Mapped[int] = mapped_column(default=15, server_default=text("15"))
    invoice_number_pattern: Mapped[str] = mapped_column(
        String(40), default="INV/{fy}/{seq:05}", server_default=text("'INV/{fy}/{seq:05}'")
    )
    credit_note_number_pattern: Mapped[str] = mapped_column(
        String(40), default="CN/{fy}/{seq:05}", server_default=text("'CN/{fy}/{seq:05}'")
    )
    receipt_number_pattern: Mapped[str] = mapped_column(
        String(40), default="RCT/{fy}/{seq:05}", server_default=text("'RCT/{fy}/{seq:05}'")
    )
    # Bills of supply numbered in a series of their own; NULL = the invoices' series and pattern.
    bill_of_supply_number_pattern: Mapped[str | None] = mapped_column(String(40))
