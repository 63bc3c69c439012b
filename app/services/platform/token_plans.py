"""POST /tokens/set-plan: the tenant changes its token plan (upgrade with carry-over once paid,
same tier, downgrade). See app.services.platform.usage for periods and `apply_plan`."""

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.context import Context
from app.core.errors import NotFound, PaymentRequired, RuleViolation
from app.domain.subscription_policy import Policy
from app.domain.usage import PlanChange
from app.models.platform.payment import Payment
from app.models.platform.plan import Plan
from app.models.platform.subscription import Subscription, SubscriptionStatus
from app.models.platform.usage import UsageKind, UsagePeriod
from app.repositories.platform.payments import PaymentRepository
from app.repositories.platform.subscriptions import PlanRepository
from app.repositories.platform.usage import MeterRepository, UsageLedgerRepository, UsagePeriodRepository
from app.services.platform import subscriptions, usage


async def set_plan(session: AsyncSession, ctx: Context, *, plan_code: str, reset_used: bool) -> PlanChange:
    """POST /tokens/set-plan (owner/admin), the web app's semantics:
    - a higher plan: carry-over (see `apply_plan`); a paid plan needs the tenant's subscription in
      force to be `active` on it, which only a verified payment produces, else 402 payment-required;
    - the same plan: nothing, or with `reset_used` used = 0 (on a plan with a quota this needs a
      payment made during the current cycle: a renewal; each payment resets once);
    - a lower plan: in force now with its quota (`used` kept; `reset_used` ignored), and the
      subscription follows (`subscriptions.switch_plan`). The free plan is not offered in hard_lock
      mode (402 payment-required)."""
    now, policy = ctx.now, ctx.policy
    plans = PlanRepository(session)
    target = await plans.get(plan_code)
    if target is None:
        raise NotFound(f"There is no plan {plan_code!r}.", code="plan-not-found")
    if not (target.is_public and target.is_active):
        raise RuleViolation("plan", f"The plan {plan_code!r} cannot be chosen.", code="plan-not-selectable")
    await subscriptions.lock(session, ctx)  # locks in one order: subscription, meter, row
    in_force, row = await usage.in_force_now(session, ctx)
    stored = await UsagePeriodRepository(session).current(usage.TOKENS)
    meters = await MeterRepository(session).all()
    for meter in meters:
        await usage.settle(session, meter.code, in_force, now)
    tokens = usage.settled(await UsagePeriodRepository(session).current(usage.TOKENS), usage.TOKENS)
    current = await usage.stored_plan(plans, tokens.plan_code)
    if target.code == current.code:
        if stored is not None and stored.plan_code != target.code:  # the payment's plan, applied just now
            change = (
                "upgraded"
                if usage.rank(target) > usage.rank(await usage.stored_plan(plans, stored.plan_code))
                else "downgraded"
            )
        elif reset_used:
            change = await _reset_used(session, row, policy, tokens, target, now)
        else:
            change = "unchanged"
    elif usage.rank(target) > usage.rank(current):
        raise PaymentRequired(
            f"Upgrading to {target.code!r} needs a verified payment: POST /api/v1/tenants/upgrade.", plan=target.code
        )
    else:
        await _check_downgrade(row, policy, target, now)
        await subscriptions.switch_plan(session, ctx, plan_code=target.code)
        for meter in meters:
            period = await usage.locked_current(session, meter.code)
            if period.plan_code != target.code:
                await usage.downgrade(session, period, target.code, now)
        change = "downgraded"
    return PlanChange(change, await usage.written_report(session, ctx))


async def _check_downgrade(row: Subscription, policy: Policy, target: Plan, now: datetime) -> None:
    state = subscriptions.effective(subscriptions.State.of(row), now, policy)
    if target.price_paise == 0 and policy.mode == "hard_lock":
        raise PaymentRequired("The free plan is not offered: buy a plan to continue.", plan=target.code)
    if target.price_paise > 0 and state.status != SubscriptionStatus.active:
        raise PaymentRequired(f"{target.code!r} needs a verified payment.", plan=target.code)


async def _renewal(
    session: AsyncSession, row: Subscription, policy: Policy, period: UsagePeriod, plan: Plan, now: datetime
) -> Payment | None:
    """The captured payment for `plan` that started the subscription in force (`active` on it) and
    was made after the current usage period began, i.e. one that did not itself open the period (an
    upgrade's payment does: its quota is already fresh). A chosen downgrade also starts a new
    subscription row, but no payment started it, so it never counts."""
    state = subscriptions.effective(subscriptions.State.of(row), now, policy)
    if state.status != SubscriptionStatus.active or state.plan_code != plan.code or plan.price_paise == 0:
        return None
    payment = await PaymentRepository(session).latest_captured(row.id, plan.code)
    # latest_captured reads captured payments only: captured_at is set
    if payment is None or payment.captured_at is None or payment.captured_at <= period.period_start:
        return None
    return payment


async def _reset_used(
    session: AsyncSession, row: Subscription, policy: Policy, period: UsagePeriod, plan: Plan, now: datetime
) -> str:
    if period.used == 0:
        return "unchanged"
    key = None
    if period.quota is not None:
        payment = await _renewal(session, row, policy, period, plan, now)
        if payment is None:
            raise PaymentRequired(
                "Resetting the used tokens needs a payment for this plan made during the current period.",
                plan=plan.code,
            )
        key = f"reset#{payment.id}#{period.meter}"
        if await UsageLedgerRepository(session).by_key(key) is not None:
            return "unchanged"  # this payment has already reset the usage once
    period = await usage.locked_current(session, period.meter)
    was = period.used
    period.used, period.used_at_downgrade = 0, 0
    await session.flush()
    await usage.record(session, period, UsageKind.used_reset, was, now, key=key)
    return "reset"
