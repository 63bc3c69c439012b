"""The platform tenant's record of its invoices to subscribing tenants (saas_customers, saas_invoices)."""

import uuid

from sqlalchemy import func, select

from app.models.platform.saas_invoice import SaasCustomer, SaasInvoice
from app.repositories.base import TenantRepository


class SaasCustomerRepository(TenantRepository[SaasCustomer]):
    model = SaasCustomer

    async def of_subscriber(self, subscriber_tenant_id: uuid.UUID) -> SaasCustomer | None:
        stmt = select(SaasCustomer).where(SaasCustomer.subscriber_tenant_id == subscriber_tenant_id)
        return (await self.session.execute(stmt)).scalar_one_or_none()


class SaasInvoiceRepository(TenantRepository[SaasInvoice]):
    model = SaasInvoice

    async def lock_payment(self, payment_id: uuid.UUID) -> None:
        """Serialise the issue of one payment's invoice (transaction-scoped advisory lock)."""
        key = f"saas-invoice:{self.tenant_id}:{payment_id}"
        await self.session.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(key, 0))))

    async def of_payment(self, payment_id: uuid.UUID) -> SaasInvoice | None:
        stmt = select(SaasInvoice).where(SaasInvoice.payment_id == payment_id)
        return (await self.session.execute(stmt)).scalar_one_or_none()
