"""Plan limits: one check before anything a plan limits is added, and what a tenant uses of each.

Race-safe: `require` takes a transaction-scoped advisory lock on (tenant, limit) before counting,
in the transaction that then inserts. A concurrent request for the same limit waits for the lock
until this transaction commits or rolls back, and its count (a new statement, so a new snapshot
under READ COMMITTED) then includes the row this one added. Unlimited plans take no lock and
count nothing.
"""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.context import Context
from app.core.errors import QuotaExceeded
from app.domain.fiscal import INDIA
from app.models.platform.plan import Plan
from app.repositories.identity.invitations import InvitationRepository
from app.repositories.platform.subscriptions import LimitUsageRepository, PlanRepository, SubscriptionRepository
from app.services.platform import subscriptions
from app.services.platform.subscriptions import Standing


class Limit(StrEnum):
    customers = "customers"
    invoices_this_month = "invoices_this_month"
    active_users = "active_users"
    products = "products"


# Limit -> the plans column that caps it (NULL = unlimited).
PLAN_COLUMNS = {
    Limit.customers: "max_customers",
    Limit.invoices_this_month: "max_invoices_per_month",
    Limit.active_users: "max_active_users",
    Limit.products: "max_products",
}


def month_bounds(now: datetime) -> tuple[datetime, datetime]:
    """The calendar month (Asia/Kolkata) containing `now`: [first instant, first instant of the next)."""
    start = now.astimezone(INDIA).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    following = (
        start.replace(year=start.year + 1, month=1) if start.month == 12 else start.replace(month=start.month + 1)
    )
    return start, following


async def used(session: AsyncSession, limit: Limit, now: datetime) -> int:
    usage = LimitUsageRepository(session)
    if limit == Limit.customers:
        return await usage.customers()
    if limit == Limit.products:  # archived products do not count (as customers)
        return await usage.products()
    if limit == Limit.active_users:  # a pending invitation holds a seat until it is accepted or ends
        return await usage.active_users() + await InvitationRepository(session).count_pending(now)
    return await usage.invoices_issued(*month_bounds(now))


async def require(session: AsyncSession, ctx: Context, limit: Limit) -> None:
    """Before adding one more of `limit` to the bound tenant: 402 when its plan does not allow it
    (or the subscription is locked). Call it in the transaction that adds, before adding.

    The locked check reuses the request's standing (RequireRole computed it on the same context):
    it is read once per request."""
    now = ctx.now
    if (await subscriptions.standing(session, ctx)).locked:
        raise await subscriptions.locked(session)
    current = await subscriptions.advance(session, ctx)  # not locked: advance writes the standing's state
    plan = await PlanRepository(session).get(current.plan_code)
    cap = getattr(plan, PLAN_COLUMNS[limit])
    if cap is None:
        return
    await SubscriptionRepository(session).lock(limit.value)
    in_use = await used(session, limit, now)
    if in_use >= cap:
        lifting = await PlanRepository(session).lifting(getattr(Plan, PLAN_COLUMNS[limit]), cap)
        raise QuotaExceeded(limit.value, cap, in_use, lifting)


async def report(session: AsyncSession, plan: Plan, now: datetime) -> dict[str, dict[str, int | None]]:
    """Each limit of `plan` with the bound tenant's current use ({"limit": None} = unlimited)."""
    return {
        limit.value: {"limit": getattr(plan, column), "used": await used(session, limit, now)}
        for limit, column in PLAN_COLUMNS.items()
    }


@dataclass(frozen=True)
class Overview:
    """What GET /tenants/subscription shows: the state in force now, its plan and each limit's use."""

    standing: Standing
    plan: Plan
    limits: dict[str, dict[str, int | None]]
    trial_days_remaining: int


async def overview(session: AsyncSession, ctx: Context) -> Overview:
    """Read-only: computed from the stored row and `ctx.now` (nothing is written by a read)."""
    now = ctx.now
    standing = await subscriptions.standing(session, ctx)
    plan = await PlanRepository(session).get(standing.state.plan_code)
    if plan is None:  # every subscription row references a plan (foreign key)
        raise LookupError(f"no plan {standing.state.plan_code!r}")
    return Overview(standing, plan, await report(session, plan, now), standing.trial_days_remaining(now))
