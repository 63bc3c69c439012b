"""Orders (issue 12 §3).

PLACEHOLDER written with the schema so that online payments (helper `links`) can call it; helper
`orders` replaces it. Nothing may land with this body.
"""

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.context import Context
from app.models.commerce.online_payment import OnlinePayment


async def on_payment_captured(session: AsyncSession, ctx: Context, payment: OnlinePayment) -> str:
    """`payment` (purpose order) was just marked paid (by online_payments.on_captured, row locked):
    confirm the order (stock taken, invoice issued, receipt allocated) or, when it cannot be
    honoured, keep the money as an advance and flag the order. Answers the outcome."""
    raise NotImplementedError("issue 12: orders.on_payment_captured")
