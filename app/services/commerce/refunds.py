"""Refunds through the tenant's gateway (issue 12 §3).

PLACEHOLDER written with the schema so that the webhook (helper `gateway`) can call it; helper
`refunds` replaces the body. Nothing may land with these bodies.
"""

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.context import Context
from app.models.commerce.online_payment import OnlinePayment, Refund


async def on_refund_event(
    session: AsyncSession,
    ctx: Context,
    payment: OnlinePayment,
    refund: Refund | None,
    *,
    razorpay_refund_id: str,
    status: str,
    amount_paise: int,
    reason: str | None,
) -> str:
    """A refund event (refund.created / refund.processed / refund.failed) for `payment`: `refund`
    is ours when it was made through the API (None: made in the Razorpay dashboard). Rows locked
    by the caller (payment, then refund)."""
    raise NotImplementedError("issue 12: refunds.on_refund_event")
