"""Online payments of the tenant's customers and their refunds."""

from sqlalchemy import select

from app.models.commerce.online_payment import OnlinePayment
from app.repositories.base import TenantRepository
from app.repositories.commerce.refunds import RefundRepository

# refunds have one repository (app/repositories/commerce/refunds.py), re-exported for the webhook
__all__ = ["OnlinePaymentRepository", "RefundRepository"]


class OnlinePaymentRepository(TenantRepository[OnlinePayment]):
    model = OnlinePayment

    async def by_gateway_ref(self, gateway_ref: str, *, for_update: bool = False) -> OnlinePayment | None:
        """The payment whose Payment Link or gateway order is `gateway_ref` (plink_... / order_...)."""
        stmt = select(OnlinePayment).where(OnlinePayment.gateway_ref == gateway_ref)
        if for_update:
            stmt = stmt.with_for_update()
        return (await self.session.execute(stmt.execution_options(populate_existing=True))).scalar_one_or_none()

    async def by_razorpay_payment_id(self, payment_id: str, *, for_update: bool = False) -> OnlinePayment | None:
        """The payment that Razorpay's payment `payment_id` paid (recorded at capture)."""
        stmt = select(OnlinePayment).where(OnlinePayment.razorpay_payment_id == payment_id)
        if for_update:
            stmt = stmt.with_for_update()
        return (await self.session.execute(stmt.execution_options(populate_existing=True))).scalar_one_or_none()
