from fastapi import APIRouter

from app.api.deps import ContextDep, CurrentUser, ManagerUser, SessionDep
from app.schemas.common import problem_responses
from app.schemas.platform.subscriptions import SubscriptionRead
from app.schemas.platform.tenants import TenantRead, TenantUpdate
from app.services.platform import entitlements, tenants

router = APIRouter(prefix="/tenants", tags=["tenants"], responses=problem_responses(401, 422))


@router.get("/me", response_model=TenantRead)
async def read_my_tenant(user: CurrentUser, session: SessionDep) -> TenantRead:
    return TenantRead.model_validate(await tenants.get_own(session, user))


@router.put("/me", response_model=TenantRead, responses=problem_responses(403))
async def update_my_tenant(body: TenantUpdate, user: ManagerUser, session: SessionDep) -> TenantRead:
    changes = body.model_dump(exclude_unset=True)
    return TenantRead.model_validate(await tenants.update_own(session, user, changes))


@router.get("/subscription", response_model=SubscriptionRead)
async def read_my_subscription(_: CurrentUser, session: SessionDep, ctx: ContextDep) -> SubscriptionRead:
    """Plan, status and each limit with its current use, as in force now (any member may read it)."""
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
