"""The public price list: every public, active plan with its price, tax terms and limits."""

from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.saas_pricing import price_with_tax
from app.models.platform.plan import Plan
from app.repositories.platform.subscriptions import PlanRepository
from app.schemas.money import paise_to_rupees


async def public_plans(session: AsyncSession) -> list[Plan]:
    return await PlanRepository(session).public()


def with_tax_paise(plan: Plan) -> int:
    """What one period of `plan` is charged (paise): its price, plus GST when the price excludes it."""
    price = paise_to_rupees(plan.price_paise)
    return int(price_with_tax(price, plan.gst_rate, includes_tax=plan.price_includes_tax) * 100)
