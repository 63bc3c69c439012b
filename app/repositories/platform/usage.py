"""Meters and their plan quotas (the global catalog), a tenant's usage periods and usage ledger."""

import uuid
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.platform.plan import Plan
from app.models.platform.usage import Meter, PlanMeterQuota, UsageLedgerEntry, UsagePeriod
from app.repositories.base import TenantRepository
from app.repositories.platform.subscriptions import PlanRepository, SubscriptionRepository


class MeterRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def all(self) -> list[Meter]:
        return list((await self.session.execute(select(Meter).order_by(Meter.code))).scalars())

    async def get(self, code: str) -> Meter | None:
        return await self.session.get(Meter, code)

    async def lifting(self, meter: str, beyond: int) -> list[str]:
        """Codes of the public, active plans whose quota of `meter` is unlimited or above `beyond`."""
        joined = (PlanMeterQuota.meter == meter, PlanMeterQuota.plan_code == Plan.code)
        return await PlanRepository(self.session).lifting(PlanMeterQuota.monthly_quota, beyond, *joined)

    async def quota(self, plan_code: str, meter: str) -> int | None:
        """The plan's monthly quota of the meter: None = unlimited; a plan without a row gets 0."""
        row = await self.session.get(PlanMeterQuota, (plan_code, meter))
        return 0 if row is None else row.monthly_quota


class UsagePeriodRepository(TenantRepository[UsagePeriod]):
    model = UsagePeriod

    async def current(self, meter: str, *, for_update: bool = False) -> UsagePeriod | None:
        """The current period of the meter. `for_update`: row-locked, so that debits in flight have
        committed and `used` is final while the caller replaces the period."""
        # populate_existing: read again after waiting for a lock, the row must be the stored one
        stmt = (
            select(UsagePeriod)
            .where(UsagePeriod.meter == meter, UsagePeriod.is_current)
            .execution_options(populate_existing=True)
        )
        if for_update:
            stmt = stmt.with_for_update()
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def lock(self, meter: str) -> None:
        """Serialise period changes of (this tenant, meter) until the transaction ends."""
        await SubscriptionRepository(self.session).lock(f"usage:{meter}")

    async def end(self, period: UsagePeriod) -> None:
        """Make `period` not current (flushed at once: the partial unique index allows one current row)."""
        period.is_current = False
        await self.session.flush()

    async def debit(self, period_id: uuid.UUID, quantity: int, now: datetime) -> tuple[int, int | None] | None:
        """Add `quantity` to `used` if it stays within the quota and the period is current and running
        at `now`: (used, quota) after, or None when refused. One guarded UPDATE: concurrent debits
        queue on the row and each re-checks the guard against the committed `used`."""
        stmt = (
            update(UsagePeriod)
            .where(
                UsagePeriod.tenant_id == self.tenant_id,
                UsagePeriod.id == period_id,
                UsagePeriod.is_current,
                UsagePeriod.period_end > now,
                (UsagePeriod.quota.is_(None)) | (UsagePeriod.used + quantity <= UsagePeriod.quota),
            )
            .values(used=UsagePeriod.used + quantity, updated_at=func.now())
            .returning(UsagePeriod.used, UsagePeriod.quota)
            .execution_options(synchronize_session=False)
        )
        row = (await self.session.execute(stmt)).one_or_none()
        return None if row is None else (row.used, row.quota)


class UsageLedgerRepository(TenantRepository[UsageLedgerEntry]):
    model = UsageLedgerEntry

    async def by_key(self, key: str) -> UsageLedgerEntry | None:
        stmt = select(UsageLedgerEntry).where(UsageLedgerEntry.idempotency_key == key)
        return (await self.session.execute(stmt)).scalar_one_or_none()
