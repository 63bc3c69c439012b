"""Usage quotas: each meter's monthly quota per plan, each tenant's 30-day cycles, consumption,
plan changes (upgrade carry-over, downgrade) and the monthly reset.

A cycle (`usage_periods` row) lasts 30 days from the tenant's own anchor: its first period starts
at registration (or, for a tenant that had none, at the start of its subscription state in force),
and each reset starts where the previous period ended. What is in force *now* follows from the
stored current period, the plan in force (app.services.platform.subscriptions) and the clock (`due`):

- no period yet -> the first one (`opened`);
- the plan in force differs from the period's plan (the trial ended, a paid period lapsed, a
  payment activated a plan) -> a new period from the moment the plan changed: an upgrade carries
  the previous period's remaining over, anything else starts fresh with the new plan's quota;
- the period has ended -> the next cycle (`reset`: the plan's quota, used 0).

A period that has been over for several cycles is replaced by the one containing now (the empty
cycles in between are not written). Reads compute this without writing; writes (consumption,
set-plan, `reset_if_due` for the job) write it down, serialised per (tenant, meter) by an advisory
lock and made exactly-once by the unique (tenant_id, meter, period_start). So a late or missing
job never blocks a tenant.
"""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.context import Context
from app.core.errors import NotFound
from app.domain.usage import MeterUsage, Report
from app.models.platform.plan import Plan
from app.models.platform.subscription import Subscription
from app.models.platform.usage import UsageKind, UsageLedgerEntry, UsagePeriod
from app.repositories.platform.subscriptions import PlanRepository, SubscriptionRepository
from app.repositories.platform.usage import MeterRepository, UsageLedgerRepository, UsagePeriodRepository
from app.services.platform import subscriptions

CYCLE = timedelta(days=30)
TOKENS = "tokens"


@dataclass(frozen=True)
class InForce:
    """The plan in force and the instant it came into force."""

    plan_code: str
    since: datetime


@dataclass(frozen=True)
class Due:
    """A period to open: its kind, bounds and plan; `carry` = an upgrade (remaining carried over)."""

    kind: UsageKind
    start: datetime
    plan_code: str
    carry: bool = False

    @property
    def end(self) -> datetime:
        return self.start + CYCLE


def aligned(anchor: datetime, now: datetime) -> datetime:
    """The start of the 30-day cycle counted from `anchor` that contains `now`."""
    anchor = min(anchor, now)
    return anchor + ((now - anchor) // CYCLE) * CYCLE


def due(period: UsagePeriod | None, in_force: InForce, now: datetime, *, upgrade: bool = False) -> Due | None:
    """The period that should replace `period` at `now`, or None if it is still the right one.
    `upgrade`: the plan in force ranks above the period's (its remaining is then carried over)."""
    if period is None:
        return Due(UsageKind.opened, aligned(in_force.since, now), in_force.plan_code)
    if period.plan_code != in_force.plan_code:
        anchor = in_force.since if period.period_start < in_force.since <= now else now
        start = aligned(anchor, now)
        return Due(UsageKind.plan_changed, start, in_force.plan_code, carry=upgrade)
    if period.period_end <= now:
        return Due(UsageKind.reset, aligned(period.period_end, now), period.plan_code)
    return None


def rank(plan: Plan) -> tuple[int, float]:
    """Plans order by price, then by token allowance (unlimited above all): the trial is above
    free, below the paid plans."""
    tokens = math.inf if plan.monthly_token_quota is None else plan.monthly_token_quota
    return plan.price_paise, tokens


def settled(period: UsagePeriod | None, meter: str) -> UsagePeriod:
    """`period`, read where the meter has been settled (or `due` found nothing to do, which it
    never does for a meter without a period): absent, the invariant is broken."""
    if period is None:
        raise LookupError(f"meter {meter!r} has no current period after settling")
    return period


async def stored_plan(plans: PlanRepository, code: str) -> Plan:
    """The plan a stored row names (by foreign key, so it exists)."""
    plan = await plans.get(code)
    if plan is None:
        raise LookupError(f"the stored plan {code!r} does not exist")
    return plan


def meter_usage(period: UsagePeriod) -> MeterUsage:
    return MeterUsage(
        period.meter,
        period.plan_code,
        period.quota,
        period.used,
        period.carried_over,
        period.period_start,
        period.period_end,
    )


# --- reading (nothing written) ------------------------------------------------------------------


async def report(session: AsyncSession, ctx: Context) -> Report:
    """The bound tenant's usage of every meter, as in force now (read-only: computed from the
    stored periods, the plan in force and the clock)."""
    now = ctx.now
    standing = await subscriptions.standing(session, ctx)
    in_force = InForce(standing.state.plan_code, standing.state.period_start)
    meters = [await _virtual(session, meter.code, in_force, now) for meter in await MeterRepository(session).all()]
    return _report(standing.state.period_end, meters)


def _report(plan_end: datetime | None, meters: list[MeterUsage]) -> Report:
    """`plan`: the plan the token meter is on (the plan in force, once settled); `plan_end_at`: the
    earliest of the periods' ends and the subscription state's own end (trial end, paid period end)."""
    tokens = next(m for m in meters if m.meter == TOKENS)
    ends = [m.period_end for m in meters] + ([plan_end] if plan_end is not None else [])
    return Report(tokens.plan_code, min(ends), meters)


async def _virtual(session: AsyncSession, meter: str, in_force: InForce, now: datetime) -> MeterUsage:
    period = await UsagePeriodRepository(session).current(meter)
    step = due(period, in_force, now, upgrade=await _is_upgrade(session, period, in_force))
    if step is None:
        return meter_usage(settled(period, meter))
    plan_quota = await MeterRepository(session).quota(step.plan_code, meter)
    carry = await _carry(session, period, step, plan_quota)
    quota = None if plan_quota is None else plan_quota + carry
    return MeterUsage(meter, step.plan_code, quota, 0, carry, step.start, step.end)


# --- writing periods ----------------------------------------------------------------------------


async def in_force_now(session: AsyncSession, ctx: Context) -> tuple[InForce, Subscription]:
    """Write down the subscription steps due by `ctx.now`, and return the plan in force."""
    row = await subscriptions.advance(session, ctx)
    return InForce(row.plan_code, row.current_period_start), row


async def _is_upgrade(session: AsyncSession, period: UsagePeriod | None, in_force: InForce) -> bool:
    if period is None or period.plan_code == in_force.plan_code:
        return False
    plans = PlanRepository(session)
    return rank(await stored_plan(plans, in_force.plan_code)) > rank(await stored_plan(plans, period.plan_code))


async def _carry(session: AsyncSession, previous: UsagePeriod | None, step: Due, plan_quota: int | None) -> int:
    """What an upgrade carries over: what was left at the upgrade, as GET /usage showed it (nothing
    from an unlimited period, nothing into an unlimited one). If the previous period had ended
    before, the old plan's next cycle had begun with nothing used: all of its quota was left."""
    if not step.carry or previous is None or plan_quota is None:
        return 0
    if previous.period_end > step.start:
        return previous.remaining or 0
    return await MeterRepository(session).quota(previous.plan_code, previous.meter) or 0


async def settle(session: AsyncSession, meter: str, in_force: InForce, now: datetime) -> tuple[UsagePeriod, bool]:
    """Make the stored current period of `meter` the one in force at `now` (see the module
    docstring); (period, whether one was opened). Exactly once per cycle: a per-(tenant, meter)
    lock, then a fresh, row-locked read, and the unique (tenant_id, meter, period_start) behind it.

    `in_force` may be stale (read without a lock: a plan change or payment may have committed
    since), so once something is due the plan in force is read again under the tenant's
    `subscription` lock, which every plan change holds until it commits: a stale view never
    switches a period. The caller has written down the steps due by `now` (`in_force_now`), so the
    stored current row is the plan in force. Locks in one order: subscription, meter, row."""
    repo = UsagePeriodRepository(session)
    period = await repo.current(meter)
    if due(period, in_force, now) is None:
        return settled(period, meter), False
    subscriptions_repo = SubscriptionRepository(session)
    await subscriptions_repo.lock("subscription")
    row = await subscriptions_repo.current()
    if row is None:  # registration and migration 0004 give every tenant one
        raise LookupError(f"tenant {subscriptions_repo.tenant_id} has no current subscription")
    in_force = InForce(row.plan_code, row.current_period_start)
    await repo.lock(meter)
    period = await repo.current(meter, for_update=True)
    step = due(period, in_force, now, upgrade=await _is_upgrade(session, period, in_force))
    if step is None:
        return settled(period, meter), False
    return await _open(session, meter, period, step, now), True


async def _open(
    session: AsyncSession, meter: str, previous: UsagePeriod | None, step: Due, now: datetime
) -> UsagePeriod:
    """Replace `previous` by a period for `step` (a new row; the same row when both would start at
    the same instant, as the unique key demands) and write the movements to the ledger."""
    repo = UsagePeriodRepository(session)
    plan_quota = await MeterRepository(session).quota(step.plan_code, meter)
    carry = await _carry(session, previous, step, plan_quota)
    quota = None if plan_quota is None else plan_quota + carry
    values = {
        "plan_code": step.plan_code,
        "period_end": step.end,
        "quota": quota,
        "carried_over": carry,
        "used": 0,
        "used_at_downgrade": 0,
    }
    if previous is not None and previous.period_start == step.start:
        for name, value in values.items():
            setattr(previous, name, value)
        period = previous
        await session.flush()
    else:
        if previous is not None:
            await repo.end(previous)
        period = await repo.add(UsagePeriod(meter=meter, period_start=step.start, is_current=True, **values))
    await record(session, period, step.kind, plan_quota, now, used=0, balance=plan_quota)
    if carry:
        await record(session, period, UsageKind.carried_over, carry, now)
    return period


async def record(
    session: AsyncSession,
    period: UsagePeriod,
    kind: UsageKind,
    quantity: int | None,
    now: datetime,
    *,
    used: int | None = None,
    balance: int | None = None,
    key: str | None = None,
) -> UsageLedgerEntry:
    """A ledger entry; `used`/`balance` default to the period's numbers after the movement."""
    return await UsageLedgerRepository(session).add(
        UsageLedgerEntry(
            period_id=period.id,
            meter=period.meter,
            plan_code=period.plan_code,
            kind=kind,
            quantity=quantity,
            used_after=period.used if used is None else used,
            balance_after=period.remaining if used is None else balance,
            idempotency_key=key,
            created_at=now,
        )
    )


async def open_first_periods(session: AsyncSession, ctx: Context, subscription: Subscription) -> None:
    """At registration: the first period of every meter, on the plan the tenant starts on."""
    now = ctx.now
    in_force = InForce(subscription.plan_code, subscription.current_period_start)
    for meter in await MeterRepository(session).all():
        await settle(session, meter.code, in_force, now)


async def reset_if_due(session: AsyncSession, ctx: Context) -> bool:
    """For the scheduled job, on the bound tenant: write down the subscription steps due, then for
    every meter whose period has ended (or whose plan in force changed) open the period in force
    at `ctx.now` (the job step's instant). True if a period was opened. Exactly once per cycle,
    also when run concurrently for the same tenant; a no-op when nothing is due."""
    now = ctx.now
    in_force, _ = await in_force_now(session, ctx)
    opened = False
    for meter in await MeterRepository(session).all():
        opened = (await settle(session, meter.code, in_force, now))[1] or opened
    return opened


# --- plan changes -------------------------------------------------------------------------------


async def apply_plan(session: AsyncSession, ctx: Context, plan_code: str) -> Report:
    """Put the bound tenant's meters on `plan_code` now, with set-plan's semantics and no payment
    check (for the Razorpay activation, which has verified the payment): a higher plan opens a new
    30-day period with quota = the plan's + the remaining carried over, used 0; a lower plan takes
    effect now in the current period with the plan's quota, `used` kept (a downgrade); the same
    plan changes nothing (so a repeated activation is a no-op). Call it in the activation's
    transaction *before* `subscriptions.activate_paid`: the meters then move from the plan in
    force before the payment (after it, a lower plan would already be in force, and settling on it
    starts a fresh quota, as when a paid period lapses)."""
    now = ctx.now
    await subscriptions.lock(session, ctx)  # locks in one order: subscription, meter, row
    in_force, _ = await in_force_now(session, ctx)
    target = await PlanRepository(session).get(plan_code)
    if target is None:
        raise NotFound(f"There is no plan {plan_code!r}.", code="plan-not-found")
    for meter in await MeterRepository(session).all():
        await _apply(session, meter.code, in_force, target, now)
    return await written_report(session, ctx)


async def _apply(session: AsyncSession, meter: str, in_force: InForce, target: Plan, now: datetime) -> None:
    """Settle the meter on the plan in force, then move it to `target` (upgrade or downgrade)."""
    period, _ = await settle(session, meter, in_force, now)
    if period.plan_code == target.code:
        return
    period = await locked_current(session, meter)
    current = await stored_plan(PlanRepository(session), period.plan_code)
    if rank(target) > rank(current):
        await _open(session, meter, period, Due(UsageKind.plan_changed, now, target.code, carry=True), now)
    else:
        await downgrade(session, period, target.code, now)


async def downgrade(session: AsyncSession, period: UsagePeriod, plan_code: str, now: datetime) -> None:
    """In force now, in the current cycle: the plan's quota (no carry-over), `used` kept. Used
    beyond the new quota stays as it was (remaining 0; nothing more can be consumed until the reset)."""
    quota = await MeterRepository(session).quota(plan_code, period.meter)
    period.plan_code, period.quota, period.carried_over = plan_code, quota, 0
    period.used_at_downgrade = period.used if quota is not None and period.used > quota else 0
    await session.flush()
    await record(session, period, UsageKind.plan_changed, quota, now)


async def written_report(session: AsyncSession, ctx: Context) -> Report:
    """The stored current periods, just settled or changed by the caller (nothing re-derived: the
    Razorpay activation may call `apply_plan` before it writes the subscription down)."""
    standing = await subscriptions.standing(session, ctx)
    repo = UsagePeriodRepository(session)
    meters = [
        meter_usage(settled(await repo.current(meter.code), meter.code))
        for meter in await MeterRepository(session).all()
    ]
    return _report(standing.state.period_end, meters)


async def locked_current(session: AsyncSession, meter: str) -> UsagePeriod:
    repo = UsagePeriodRepository(session)
    await repo.lock(meter)
    return settled(await repo.current(meter, for_update=True), meter)
