"""Online payments of a tenant's customers: what a capture or a failure does (issue 12 §2).

PLACEHOLDER written with the schema so that the webhook (helper `gateway`) can call it; helper
`links` replaces the bodies. Nothing may land with these bodies.
"""

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.context import Context
from app.models.commerce.online_payment import OnlinePayment


async def on_captured(
    session: AsyncSession,
    ctx: Context,
    payment: OnlinePayment,
    *,
    razorpay_payment_id: str,
    amount_paise: int,
    source: str,
) -> str:
    """The gateway says `payment` was paid (source: "webhook" or "verify"); row locked by the caller."""
    raise NotImplementedError("issue 12: online_payments.on_captured")


async def on_failed(
    session: AsyncSession, ctx: Context, payment: OnlinePayment, *, razorpay_payment_id: str | None, reason: str | None
) -> str:
    """The gateway says an attempt to pay `payment` failed; row locked by the caller."""
    raise NotImplementedError("issue 12: online_payments.on_failed")
