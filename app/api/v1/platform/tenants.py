from fastapi import APIRouter

from app.api.deps import BillingOwner, BillingUser, ContextDep, CurrentUser, SessionDep
from app.schemas.common import problem_responses
from app.schemas.platform.subscriptions import SubscriptionRead
from app.schemas.platform.tenants import TenantRead, TenantUpdate
from app.services.platform import entitlements, subscriptions, tenants

router = APIRouter(prefix="/tenants", tags=["tenants"], responses=problem_responses(401, 422))


@router.get("/me", response_model=TenantRead)
async def read_my_tenant(user: CurrentUser, session: SessionDep) -> TenantRead:
    return TenantRead.model_validate(await tenants.get_own(session, user))


@router.put("/me", response_model=TenantRead, responses=problem_responses(402, 403))
async def update_my_tenant(body: TenantUpdate, user: BillingUser, session: SessionDep, ctx: ContextDep) -> TenantRead:
    """Owner/admin. While the subscription is locked only the tax details (gstin, billing_state_code,
    billing_address) may change, so that the payment that unlocks it is invoiced to the GSTIN; any
    other field is 402 `subscription-locked` then."""
    changes = body.model_dump(exclude_unset=True)
    return TenantRead.model_validate(await tenants.update_own(session, ctx, user, changes))


@router.get("/subscription", response_model=SubscriptionRead)
async def read_my_subscription(_: CurrentUser, session: SessionDep, ctx: ContextDep) -> SubscriptionRead:
    """Plan, status and each limit with its current use, as in force now (any member may read it)."""
    return await _subscription(session, ctx)


@router.post("/subscription/cancel", response_model=SubscriptionRead, responses=problem_responses(403, 409))
async def cancel_subscription(_: BillingOwner, session: SessionDep, ctx: ContextDep) -> SubscriptionRead:
    """End the paid plan at the end of the period already paid for (`cancel_at_period_end`): nothing
    changes until then; at the period end the tenant moves to the free plan (POST_TRIAL_MODE=free_tier)
    or is locked without a grace period (hard_lock). Repeating it changes nothing. 409
    `subscription-not-cancellable` when no paid period is in force (trial, free, grace, locked)."""
    await subscriptions.set_cancel_at_period_end(session, ctx, cancel=True)
    return await _subscription(session, ctx)


@router.post("/subscription/resume", response_model=SubscriptionRead, responses=problem_responses(403, 409))
async def resume_subscription(_: BillingOwner, session: SessionDep, ctx: ContextDep) -> SubscriptionRead:
    """Withdraw a cancellation before the period ends: the plan lapses (or is renewed by a payment)
    as if it had never been cancelled. 409 `subscription-not-cancelled` when it is not set to end."""
    await subscriptions.set_cancel_at_period_end(session, ctx, cancel=False)
    return await _subscription(session, ctx)


async def _subscription(session: SessionDep, ctx: ContextDep) -> SubscriptionRead:
    overview = await entitlements.overview(session, ctx)
    state = overview.standing.state
    return SubscriptionRead.of(
        plan=overview.plan,
        row=overview.standing.row,
        status=state.status,
        period=(state.period_start, state.period_end),
        trial_days_remaining=overview.trial_days_remaining,
        limits=overview.limits,
        mode=ctx.settings.post_trial_mode,
    )
