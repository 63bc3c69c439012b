import uuid
from decimal import Decimal

from sqlalchemy import CheckConstraint, Computed, Index, String, Text, func, text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, TenantScoped, Timestamps, tenant_fk
from app.models.billing.business import MONEY


class Customer(TenantScoped, Timestamps, Base):
    """Someone a tenant bills. `balance` (what they owe; negative = advance) moves in the same
    transaction as every document that changes it. `walk_in_company_id` is set on one row per
    company only: the walk-in customer its counter sales without a named customer are billed to
    (migration 0023; app.services.billing.customers.walk_in)."""

    __tablename__ = "customers"
    __table_args__ = (
        tenant_fk(["client_type_id"], "client_types"),
        tenant_fk(["account_manager_id"], "account_managers"),
        tenant_fk(["walk_in_company_id"], "companies"),
        CheckConstraint("billing_state_code ~ '^[0-9]{2}$'", name="billing_state_code"),
        CheckConstraint("payment_terms_days >= 0 AND payment_terms_days <= 365", name="payment_terms_days"),
        CheckConstraint("credit_limit IS NULL OR credit_limit >= 0", name="credit_limit"),
        # Search by prefix (GET /customers?q=, GET /invoices?q=): text_pattern_ops serves LIKE 'x%'.
        Index("ix_customers_tenant_id_lower_name", "tenant_id", func.lower(text("name"))),
        Index(
            "ix_customers_tenant_id_name_lower",
            "tenant_id",
            "name_lower",
            postgresql_ops={"name_lower": "text_pattern_ops"},
        ),
        Index("ix_customers_tenant_id_gstin", "tenant_id", "gstin", postgresql_ops={"gstin": "text_pattern_ops"}),
        Index("ix_customers_tenant_id_client_type_id", "tenant_id", "client_type_id"),
        Index("ix_customers_tenant_id_account_manager_id", "tenant_id", "account_manager_id"),
        Index(
            "uq_customers_tenant_id_walk_in_company_id",
            "tenant_id",
            "walk_in_company_id",
            unique=True,
            postgresql_where=text("walk_in_company_id IS NOT NULL"),
        ),
    )

    name: Mapped[str] = mapped_column(String(200))
    # lower(name), stored: a plain column, so that a prefix search reaches its index under row-level
    # security (lower() is not leakproof: a qual calling it is never an index condition there).
    name_lower: Mapped[str] = mapped_column(Text, Computed("lower((name)::text)", persisted=True))
    client_type_id: Mapped[uuid.UUID | None]
    account_manager_id: Mapped[uuid.UUID | None]
    gstin: Mapped[str | None] = mapped_column(String(15))
    pan: Mapped[str | None] = mapped_column(String(10))
    is_sez: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(20))
    billing_address_line1: Mapped[str | None] = mapped_column(String(200))
    billing_address_line2: Mapped[str | None] = mapped_column(String(200))
    billing_city: Mapped[str | None] = mapped_column(String(100))
    billing_state_code: Mapped[str] = mapped_column(String(2))
    billing_pincode: Mapped[str | None] = mapped_column(String(6))
    shipping_address_line1: Mapped[str | None] = mapped_column(String(200))
    shipping_address_line2: Mapped[str | None] = mapped_column(String(200))
    shipping_city: Mapped[str | None] = mapped_column(String(100))
    shipping_state_code: Mapped[str | None] = mapped_column(String(2))
    shipping_pincode: Mapped[str | None] = mapped_column(String(6))
    payment_terms_days: Mapped[int | None]
    credit_limit: Mapped[Decimal | None] = mapped_column(MONEY)
    opening_balance: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0.00"), server_default=text("0"))
    balance: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0.00"), server_default=text("0"))
    is_archived: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    # Payment reminders (app.services.billing.reminders) go to this customer when the tenant's are on.
    payment_reminders: Mapped[bool] = mapped_column(default=True, server_default=text("true"))
    walk_in_company_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
