"""Consumption of a metered quota: POST /usage/consume (see app.services.platform.usage for periods)."""

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.context import Context
from app.core.errors import Conflict, IdempotencyKeyReused, NotFound, QuotaExceeded
from app.domain.usage import Consumption, MeterUsage
from app.models.platform.usage import UsageKind, UsageLedgerEntry
from app.repositories.platform.usage import MeterRepository, UsageLedgerRepository, UsagePeriodRepository
from app.services.platform import usage

DEBIT_ATTEMPTS = 3


async def _meter_or_404(session: AsyncSession, meter: str) -> None:
    if await MeterRepository(session).get(meter) is None:
        raise NotFound(f"There is no meter {meter!r}.", code="meter-not-found")


async def consume(session: AsyncSession, ctx: Context, *, meter: str, quantity: int, key: str | None) -> Consumption:
    """Debit `quantity` of `meter` from the bound tenant's current period, atomically: a guarded
    UPDATE (used + quantity <= quota) that concurrent debits queue on, so the balance never goes
    below zero. Over the quota: 402 quota-exceeded (nothing written). `key` (the Idempotency-Key)
    is also kept in the ledger, unique per tenant: the same key debits once, however late it comes
    back; with another meter or quantity it is a 422."""
    await _meter_or_404(session, meter)
    ledger = UsageLedgerRepository(session)
    if key is not None and (entry := await ledger.by_key(key)) is not None:
        return await _replay(session, entry, meter, quantity)
    now = ctx.now
    in_force, _ = await usage.in_force_now(session, ctx)
    repo = UsagePeriodRepository(session)
    for _attempt in range(DEBIT_ATTEMPTS):
        period, _ = await usage.settle(session, meter, in_force, now)
        debited = await repo.debit(period.id, quantity, now)
        if debited is not None:
            break
        stored = await repo.current(meter)
        if (
            stored is not None
            and stored.quota is not None
            and stored.used + quantity > stored.quota
            and stored.period_end > now
        ):
            beyond = await MeterRepository(session).quota(stored.plan_code, meter) or 0
            lifting = await MeterRepository(session).lifting(meter, beyond)
            raise QuotaExceeded(meter, stored.quota, stored.used, lifting)
    else:  # the period was replaced under us every time: let the client retry
        raise Conflict("The usage period changed while debiting; retry.", code="concurrent-update")
    used, quota = debited
    balance = None if quota is None else quota - used
    entry = await usage.record(session, period, UsageKind.consumed, quantity, now, used=used, balance=balance, key=key)
    numbers = MeterUsage(
        meter, period.plan_code, quota, used, period.carried_over, period.period_start, period.period_end
    )
    return Consumption(str(entry.id), numbers, quantity)


async def _replay(session: AsyncSession, entry: UsageLedgerEntry, meter: str, quantity: int) -> Consumption:
    if entry.kind != UsageKind.consumed or entry.meter != meter or entry.quantity != quantity:
        raise IdempotencyKeyReused("This Idempotency-Key was used for another consumption.")
    period = await UsagePeriodRepository(session).get(entry.period_id)
    if period is None:  # periods are ended, never deleted, and the entry references its own
        raise LookupError(f"usage period {entry.period_id} of ledger entry {entry.id} is missing")
    quota = None if entry.balance_after is None else entry.used_after + entry.balance_after
    numbers = MeterUsage(
        meter, entry.plan_code, quota, entry.used_after, period.carried_over, period.period_start, period.period_end
    )
    return Consumption(str(entry.id), numbers, quantity, replayed=True)
