"""A tenant's payment gateway account, its webhook events, and the global webhook directory
(`gateway_webhooks`, migration 0024): which tenant a webhook id leads to, the one lookup that
runs before a tenant is bound."""

import uuid
from datetime import datetime

from sqlalchemy import delete, func, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.base import new_id
from app.models.commerce.gateway import GatewayEvent, PaymentGateway
from app.models.commerce.online_payment import OnlinePayment, Refund
from app.repositories.base import TenantOwnedRepository, TenantRepository


async def webhook_tenant(session: AsyncSession, webhook_id: str) -> uuid.UUID | None:
    """The tenant whose webhook URL ends in `webhook_id`, through the SECURITY DEFINER function of
    migration 0024 (it reveals nothing else). Needs no bound tenant: the webhook binds the answer."""
    stmt = text("SELECT gateway_webhook_tenant(:webhook_id)")
    return (await session.execute(stmt, {"webhook_id": webhook_id})).scalar()


async def tenants_with_gateway(session: AsyncSession, only: list[uuid.UUID] | None = None) -> list[uuid.UUID]:
    """The tenants that saved a payment gateway (ids only), through the SECURITY DEFINER function of
    migration 0028; no tenant bound (it sees past row-level security, answering nothing else)."""
    stmt = text("SELECT tenants_with_payment_gateway(CAST(:only AS uuid[]))")
    return sorted((await session.execute(stmt, {"only": only})).scalars())


async def claim_webhook(session: AsyncSession, webhook_id: str) -> bool:
    """Record `webhook_id` as the bound tenant's (the application role reaches `gateway_webhooks`
    only so). False if the id is taken already (by anyone)."""
    return bool((await session.execute(select(func.claim_gateway_webhook(webhook_id)))).scalar_one())


class PaymentGatewayRepository(TenantRepository[PaymentGateway]):
    model = PaymentGateway

    async def for_provider(
        self, provider: str, *, for_update: bool = False, key_share: bool = False
    ) -> PaymentGateway | None:
        """`for_update`: locked to change or remove it; `key_share`: locked FOR KEY SHARE (many
        readers at once) by a request about to make a payment or refund on it, so that a removal
        or another account's keys wait for that request and then see what it made."""
        stmt = select(PaymentGateway).where(PaymentGateway.provider == provider)
        if for_update:
            stmt = stmt.with_for_update()
        elif key_share:
            stmt = stmt.with_for_update(read=True, key_share=True)
        return (await self.session.execute(stmt.execution_options(populate_existing=True))).scalar_one_or_none()

    async def in_flight(self, now: datetime) -> tuple[int, int]:
        """What still depends on the saved account: (online payments still open on it: `created`,
        not sandbox, not past their expiry; refunds `pending` there)."""
        payments = select(func.count()).where(
            OnlinePayment.status == "created",
            OnlinePayment.is_sandbox.is_(False),
            or_(OnlinePayment.expires_at.is_(None), OnlinePayment.expires_at > now),
        )
        refunds = (
            select(func.count())
            .select_from(Refund)
            .join(
                OnlinePayment,
                (OnlinePayment.tenant_id == Refund.tenant_id) & (OnlinePayment.id == Refund.online_payment_id),
            )
            .where(Refund.status == "pending", OnlinePayment.is_sandbox.is_(False))
        )
        open_payments = (await self.session.execute(payments.select_from(OnlinePayment))).scalar_one()
        pending_refunds = (await self.session.execute(refunds)).scalar_one()
        return open_payments, pending_refunds

    async def remove(self, gateway: PaymentGateway) -> None:
        stmt = delete(PaymentGateway).where(PaymentGateway.tenant_id == self.tenant_id, PaymentGateway.id == gateway.id)
        await self.session.execute(stmt.execution_options(synchronize_session=False))
        self.session.expunge(gateway)


class GatewayEventRepository(TenantOwnedRepository[GatewayEvent]):
    model = GatewayEvent

    async def claim(
        self,
        *,
        event_id: str,
        event_type: str,
        online_payment_id: uuid.UUID | None,
        refund_id: uuid.UUID | None,
        outcome: str,
        at: datetime,
    ) -> bool:
        """Record the event unless it was applied before: False for a duplicate. A concurrent
        delivery of the same event waits on the unique index until this transaction ends, then
        finds it (ON CONFLICT DO NOTHING answers no row)."""
        stmt = (
            insert(GatewayEvent)
            .values(
                tenant_id=self.tenant_id,
                id=new_id(),
                event_id=event_id,
                event_type=event_type,
                online_payment_id=online_payment_id,
                refund_id=refund_id,
                outcome=outcome,
                received_at=at,
            )
            .on_conflict_do_nothing(index_elements=["tenant_id", "event_id"])
            .returning(GatewayEvent.id)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none() is not None

    async def set_outcome(self, event_id: str, outcome: str) -> None:
        """What applying the claimed event did (known once its effect ran, in the same transaction)."""
        stmt = (
            update(GatewayEvent)
            .where(GatewayEvent.tenant_id == self.tenant_id, GatewayEvent.event_id == event_id)
            .values(outcome=outcome[:40])
            .execution_options(synchronize_session=False)
        )
        await self.session.execute(stmt)
