"""The SaaS's own tax invoices to its tenants: rows of the platform tenant (PLATFORM_TENANT_ID),
issued with this product's invoicing from its company (PLATFORM_COMPANY_ID)."""

import uuid
from datetime import datetime

from sqlalchemy import Index, func
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, TenantScoped, tenant_fk, utcnow


class SaasCustomer(TenantScoped, Base):
    """In the platform tenant: the customer that stands for a subscribing tenant."""

    __tablename__ = "saas_customers"
    __table_args__ = (
        tenant_fk(["customer_id"], "customers"),
        Index("uq_saas_customers_tenant_id_subscriber_tenant_id", "tenant_id", "subscriber_tenant_id", unique=True),
    )

    subscriber_tenant_id: Mapped[uuid.UUID]
    customer_id: Mapped[uuid.UUID]
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())


class SaasInvoice(TenantScoped, Base):
    """In the platform tenant: the tax invoice issued for one captured plan payment of a subscriber
    (`payment_id` is the subscriber's `payments.id`; no foreign key: another tenant's row)."""

    __tablename__ = "saas_invoices"
    __table_args__ = (
        tenant_fk(["invoice_id"], "invoices"),
        Index("uq_saas_invoices_tenant_id_payment_id", "tenant_id", "payment_id", unique=True),
        Index("ix_saas_invoices_tenant_id_subscriber_tenant_id", "tenant_id", "subscriber_tenant_id"),
    )

    subscriber_tenant_id: Mapped[uuid.UUID]
    payment_id: Mapped[uuid.UUID]
    invoice_id: Mapped[uuid.UUID]
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
