"""Usage quotas: GET /usage (and /tokens/usage, the web app's name), POST /usage/consume,
POST /tokens/set-plan."""

from typing import Annotated, Any

from fastapi import APIRouter, Header

from app.api.deps import ContextDep, CurrentUser, ManagerUser, SessionDep, WriterUser
from app.api.idempotency import KEY_PATTERN, IdempotentDep
from app.schemas.common import problem_responses
from app.schemas.platform.usage import ConsumeRead, ConsumeRequest, SetPlanRead, SetPlanRequest, UsageRead
from app.services.platform import token_plans, usage, usage_consume

router = APIRouter(tags=["usage"], responses=problem_responses(401, 422))


@router.get("/usage", response_model=UsageRead)
async def read_usage(_: CurrentUser, session: SessionDep, ctx: ContextDep) -> UsageRead:
    """The plan in force, the token quota, used and remaining (null quota/remaining = unlimited),
    when they next change, and every meter. Any member may read it; nothing is written."""
    return UsageRead.of(await usage.report(session, ctx))


@router.get("/tokens/usage", response_model=UsageRead)
async def read_token_usage(_: CurrentUser, session: SessionDep, ctx: ContextDep) -> UsageRead:
    """The same as GET /usage (the name the web app uses)."""
    return UsageRead.of(await usage.report(session, ctx))


@router.post("/usage/consume", response_model=ConsumeRead, responses=problem_responses(403, 404, 409))
async def consume(
    body: ConsumeRequest,
    _: WriterUser,
    session: SessionDep,
    ctx: ContextDep,
    idempotent: IdempotentDep,
    idempotency_key: Annotated[str, Header(pattern=KEY_PATTERN, include_in_schema=False)] = None,  # noqa: RUF013
) -> Any:
    """Debit `quantity` of `meter` atomically (owner, admin, accountant). Over the quota: 402
    `quota-exceeded` (`limit` = the meter, `limit_value`, `used`, `upgrade_plans`); concurrent
    debits never take the balance below zero. Supports `Idempotency-Key`: a repeated key debits once
    (the key is also kept in the usage ledger, so this holds after the stored response expires)."""

    async def debit() -> ConsumeRead:
        consumption = await usage_consume.consume(
            session, ctx, meter=body.meter, quantity=body.quantity, key=idempotency_key
        )
        return ConsumeRead.of_consumption(consumption)

    return await idempotent(200, debit)


@router.post("/tokens/set-plan", response_model=SetPlanRead, responses=problem_responses(400, 403, 404, 409))
async def set_plan(body: SetPlanRequest, _: ManagerUser, session: SessionDep, ctx: ContextDep) -> SetPlanRead:
    """Change the token plan (owner, admin). A higher plan carries the remaining tokens over (quota =
    the plan's + remaining, used 0, a new 30-day period) and, for a paid plan, needs a verified
    payment first (else 402 `payment-required`: POST /tenants/upgrade); the same plan changes nothing
    (`reset_used`: used = 0, after a renewal payment); a lower plan takes effect now with its quota,
    and the subscription follows."""
    change = await token_plans.set_plan(session, ctx, plan_code=body.plan, reset_used=body.reset_used)
    return SetPlanRead.of_change(change)
