"""A tenant's subscription: the trial started at registration, the state in force at any instant,
and moving the stored state forward.

The stored current row says what was true when it was written; what is true *now* follows from
it and the clock (`effective`): a trial past its end is on the free plan (POST_TRIAL_MODE=free_tier)
or in grace for GRACE_DAYS and then locked (hard_lock), whether or not a job has written that down
yet. `advance` writes it down (one row per step, history kept): the scheduled job calls it, and
limit checks call it lazily before counting. It is idempotent and serialised per tenant.
"""

import calendar
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.context import Context
from app.core.errors import NotFound, SubscriptionLocked
from app.core.tenancy import required_tenant
from app.domain.subscription_policy import Policy
from app.models.platform.subscription import Subscription, SubscriptionStatus
from app.models.platform.tenant import Tenant
from app.repositories.platform.subscriptions import PlanRepository, SubscriptionRepository
from app.services.platform import audit, event_payloads, events

__all__ = ["Policy"]  # re-exported: the policy's home is app.domain.subscription_policy

TRIAL, FREE = "trial", "free"
FIELDS = ["plan_code", "status", "trial_start", "trial_end", "current_period_start", "current_period_end"]
# Statuses whose period, once over, is not renewed by itself (a payment renews it).
LAPSING = (SubscriptionStatus.trialing, SubscriptionStatus.active)


@dataclass(frozen=True)
class State:
    plan_code: str
    status: str
    period_start: datetime
    period_end: datetime | None

    @classmethod
    def of(cls, row: Subscription) -> "State":
        return cls(row.plan_code, row.status, row.current_period_start, row.current_period_end)


def next_state(state: State, policy: Policy) -> State | None:
    """The state this one turns into at its period end; None if it does not end by itself."""
    end = state.period_end
    if end is None:
        return None
    if state.status in LAPSING:
        if policy.mode == "free_tier":
            return State(FREE, SubscriptionStatus.free, end, None)
        if policy.grace_days > 0:
            return State(state.plan_code, SubscriptionStatus.grace, end, end + timedelta(days=policy.grace_days))
        return State(state.plan_code, SubscriptionStatus.locked, end, None)
    if state.status == SubscriptionStatus.grace:
        return State(state.plan_code, SubscriptionStatus.locked, end, None)
    return None


def effective(state: State, now: datetime, policy: Policy) -> State:
    """The state in force at `now`, from a stored one (every step due by then applied)."""
    while (step := next_state(state, policy)) is not None and step.period_start <= now:
        state = step
    return state


@dataclass(frozen=True)
class Standing:
    """The current row (as stored) and the state in force now."""

    row: Subscription
    state: State

    @property
    def locked(self) -> bool:
        return self.state.status == SubscriptionStatus.locked

    def trial_days_remaining(self, now: datetime) -> int:
        if self.state.status != SubscriptionStatus.trialing or self.row.trial_end is None:
            return 0
        return max(0, math.ceil((self.row.trial_end - now) / timedelta(days=1)))


async def _current(repo: SubscriptionRepository) -> Subscription:
    row = await repo.current()
    if row is None:  # registration and migration 0004 give every tenant one
        raise LookupError(f"tenant {repo.tenant_id} has no current subscription")
    return row


def _memo_key(session: AsyncSession) -> str:
    return f"subscription-standing:{required_tenant(session)}"


def _remember(session: AsyncSession, ctx: Context, row: Subscription) -> Subscription:
    ctx.memo[_memo_key(session)] = Standing(row, effective(State.of(row), ctx.now, ctx.policy))
    return row


async def lock(session: AsyncSession, ctx: Context) -> None:
    """Serialise the bound tenant's subscription changes (transaction-scoped); what this context
    read before waiting for the lock is forgotten, so the next read sees the rows others committed."""
    await SubscriptionRepository(session).lock("subscription")
    ctx.memo.pop(_memo_key(session), None)


async def standing(session: AsyncSession, ctx: Context) -> Standing:
    """Read-only: the bound tenant's state in force at `ctx.now` (nothing is written). Read once
    per context: the locked check of a write (RequireRole) and the limit check after it
    (`entitlements.require`) share it; the writes below keep it current."""
    key = _memo_key(session)
    known = ctx.memo.get(key)
    if isinstance(known, Standing):
        return known
    row = await _current(SubscriptionRepository(session))
    found = Standing(row, effective(State.of(row), ctx.now, ctx.policy))
    ctx.memo[key] = found
    return found


async def ensure_writable(session: AsyncSession, ctx: Context) -> None:
    """402 `subscription-locked` when the bound tenant's subscription is locked at `ctx.now`."""
    if (await standing(session, ctx)).locked:
        raise await locked(session)


async def locked(session: AsyncSession) -> SubscriptionLocked:
    return SubscriptionLocked(
        "The trial or paid period has ended: the account is read-only until a plan is bought.",
        upgrade_plans=await PlanRepository(session).purchasable(),
    )


async def start_trial(session: AsyncSession, ctx: Context, tenant: Tenant) -> Subscription:
    """The trial of a new tenant (its `trial_*` fields mirror the row). `tenants.is_trial_used` is
    the one record of "one trial per tenant, ever": a tenant that has had one starts on free."""
    now = ctx.now
    plan = await PlanRepository(session).get(TRIAL)
    if tenant.is_trial_used or plan is None or not plan.is_active or plan.trial_days == 0:
        free = await _add(session, State(FREE, SubscriptionStatus.free, now, None), "subscription.started")
        return _remember(session, ctx, free)
    end = now + timedelta(days=plan.trial_days)
    tenant.trial_start_date, tenant.trial_end_date, tenant.is_trial_used = now, end, True
    await session.flush()
    trial = State(TRIAL, SubscriptionStatus.trialing, now, end)
    started = await _add(session, trial, "subscription.started", trial_start=now, trial_end=end)
    return _remember(session, ctx, started)


async def advance(session: AsyncSession, ctx: Context) -> Subscription:
    """Write down every transition due by `ctx.now` for the bound tenant and return the current
    row. Idempotent (a second call finds nothing to do) and safe when run concurrently (a
    per-tenant lock, then a fresh read). Runs in the caller's transaction: the job's, or a request's."""
    known = await standing(session, ctx)
    if known.state == State.of(known.row):
        return known.row
    await lock(session, ctx)
    repo = SubscriptionRepository(session)
    row = await _current(repo)
    while (step := next_state(State.of(row), ctx.policy)) is not None and step.period_start <= ctx.now:
        before = audit.snapshot(row, FIELDS)
        await repo.end(row, step.period_start)
        row = await _add(session, step, "subscription.changed", before=before, previous=row)
    return _remember(session, ctx, row)


async def _add(
    session: AsyncSession,
    state: State,
    action: str,
    *,
    before: dict[str, Any] | None = None,
    previous: Subscription | None = None,
    **trial: datetime | None,
) -> Subscription:
    if previous is not None:
        trial = {"trial_start": previous.trial_start, "trial_end": previous.trial_end}
    row = await SubscriptionRepository(session).add(
        Subscription(
            plan_code=state.plan_code,
            status=state.status,
            current_period_start=state.period_start,
            current_period_end=state.period_end,
            **trial,
        )
    )
    await audit.record(
        session,
        action=action,
        entity_type="subscription",
        entity_id=row.id,
        before=before,
        after=audit.snapshot(row, FIELDS),
    )
    change = action.removeprefix("subscription.")  # started, changed, activated, renewed, downgraded
    await events.record(
        session,
        "subscription.changed",
        resource_type="subscription",
        resource_id=row.tenant_id,  # the tenant's subscription (each change is a new row): in order per tenant
        payload=event_payloads.subscription(row, previous, change),
    )
    return row


def add_month(moment: datetime) -> datetime:
    """The same day and time a calendar month later, clamped to the month's last day (Jan 31 ->
    Feb 28/29): a paid plan's billing period ("month")."""
    year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
    return moment.replace(year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class Activation:
    """The current row after a paid activation, and the period the payment bought."""

    row: Subscription
    period_start: datetime
    period_end: datetime
    renewal: bool


async def activate_paid(session: AsyncSession, ctx: Context, *, plan_code: str) -> Activation:
    """Put the bound tenant on paid plan `plan_code` for one billing period (a calendar month) and
    return what was bought. Active on the same plan with time left: a renewal, the new period runs
    on from the current period end. Otherwise (trial, free, grace, locked, another plan) the period
    starts now; unused time of another plan is not credited. The current row ends and an `active`
    row starts (history kept, audited); its period end then lapses like any other (`next_state`).
    The caller guarantees one call per captured payment; calls are serialised per tenant."""
    now = ctx.now
    await lock(session, ctx)
    repo = SubscriptionRepository(session)
    row = await advance(session, ctx)
    end = row.current_period_end
    renewal = row.status == SubscriptionStatus.active and row.plan_code == plan_code and end is not None and end > now
    start = end if renewal and end is not None else now
    bought_end = add_month(start)
    before = audit.snapshot(row, FIELDS)
    await repo.end(row, now)
    state = State(plan_code, SubscriptionStatus.active, now, bought_end)
    action = "subscription.renewed" if renewal else "subscription.activated"
    new = _remember(session, ctx, await _add(session, state, action, before=before, previous=row))
    return Activation(new, start, bought_end, renewal)


async def switch_plan(session: AsyncSession, ctx: Context, *, plan_code: str) -> Subscription:
    """Record a downgrade the tenant chose, in force from `now` (history kept, audited): to a plan
    without a price, status `free`, open-ended; to a cheaper paid plan, `active` until the end of
    the period already paid for. The caller (`token_plans.set_plan`) checks that it is a downgrade the
    tenant may make (a cheaper paid plan only from an `active` paid period). Already on
    `plan_code`: nothing is written. Serialised per tenant; returns the current row."""
    now = ctx.now
    await lock(session, ctx)
    repo = SubscriptionRepository(session)
    row = await advance(session, ctx)
    if row.plan_code == plan_code:
        return row
    plan = await PlanRepository(session).get(plan_code)
    if plan is None:
        raise NotFound(f"There is no plan {plan_code!r}.", code="plan-not-found")
    if plan.price_paise == 0:
        state = State(plan_code, SubscriptionStatus.free, now, None)
    else:
        state = State(plan_code, SubscriptionStatus.active, now, row.current_period_end)
    before = audit.snapshot(row, FIELDS)
    await repo.end(row, now)
    return _remember(session, ctx, await _add(session, state, "subscription.downgraded", before=before, previous=row))
