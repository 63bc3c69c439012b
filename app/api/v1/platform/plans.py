"""The price list for the web app's pricing page (public: no token)."""

from fastapi import APIRouter

from app.api.deps import PUBLIC, SessionDep
from app.schemas.money import paise_to_rupees
from app.schemas.platform.plans import PlanList, PublicPlan
from app.services.platform import plans

router = APIRouter(tags=["plans"])


@router.get("/plans", response_model=PlanList, openapi_extra=PUBLIC)
async def list_plans(session: SessionDep) -> PlanList:
    """Every public, active plan, cheapest first: code, name, description, price (rupees and paise),
    whether GST is included in it, the GST rate and SAC, the price with GST, billing period, trial
    days, limits (null = unlimited), monthly token quota, and whether `POST /tenants/upgrade` sells it."""
    rows = await plans.public_plans(session)
    return PlanList(items=[PublicPlan.of(p, paise_to_rupees(plans.with_tax_paise(p))) for p in rows])
