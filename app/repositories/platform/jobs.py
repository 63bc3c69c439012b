"""Scheduled jobs: the occasions they claim (tenant-bound) and the work they find across tenants
(through the SECURITY DEFINER functions of migration 0007, which return only tenant ids or counts:
row-level security hides other tenants from the application role)."""

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.platform.job import JobOccasion
from app.repositories.base import TenantOwnedRepository

Tenants = Sequence[uuid.UUID] | None


class JobOccasionRepository(TenantOwnedRepository[JobOccasion]):
    model = JobOccasion

    async def claim(self, kind: str, key: str, detail: dict[str, Any] | None = None) -> bool:
        """True if this transaction now owns the occasion; False if another already had it (a
        concurrent claimer waits on the unique key until the first commits or rolls back)."""
        stmt = (
            insert(JobOccasion)
            .values(tenant_id=self.tenant_id, kind=kind, occasion_key=key, detail=detail)
            .on_conflict_do_nothing(index_elements=["tenant_id", "kind", "occasion_key"])
            .returning(JobOccasion.occasion_key)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none() is not None

    async def keys(self, kind: str) -> set[str]:
        stmt = select(JobOccasion.occasion_key).where(JobOccasion.kind == kind)
        return set((await self.session.execute(stmt)).scalars())


class DueWorkRepository:
    """Cross-tenant look-ups; no tenant bound (the functions see past row-level security)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _ids(self, sql: str, **params: Any) -> list[uuid.UUID]:
        only = params.pop("only")
        rows = await self.session.execute(text(sql), {**params, "only": list(only) if only is not None else None})
        return sorted(rows.scalars())

    async def subscription_tenants(
        self,
        at: datetime,
        *,
        reminder_days: Sequence[int],
        renewal_window: timedelta,
        notice_window: timedelta,
        only: Tenants = None,
    ) -> list[uuid.UUID]:
        return await self._ids(
            "SELECT due_subscription_tenants(:at, CAST(:days AS integer[]), :renewal, :notice, CAST(:only AS uuid[]))",
            at=at,
            days=list(reminder_days),
            renewal=renewal_window,
            notice=notice_window,
            only=only,
        )

    async def saas_invoice_tenants(self, at: datetime, *, only: Tenants = None) -> list[uuid.UUID]:
        """Tenants with a plan payment captured by `at` and no SaaS invoice yet (migration 0038)."""
        return await self._ids("SELECT due_saas_invoice_tenants(:at, CAST(:only AS uuid[]))", at=at, only=only)

    async def usage_tenants(self, at: datetime, *, only: Tenants = None) -> list[uuid.UUID]:
        return await self._ids("SELECT due_usage_tenants(:at, CAST(:only AS uuid[]))", at=at, only=only)

    async def pending_mail_tenants(self, at: datetime, *, max_attempts: int, only: Tenants = None) -> list[uuid.UUID]:
        return await self._ids(
            "SELECT tenants_with_pending_mail(:at, :max_attempts, CAST(:only AS uuid[]))",
            at=at,
            max_attempts=max_attempts,
            only=only,
        )

    async def payment_reminder_tenants(
        self, at: datetime, *, window_days: int, quiet_from: int, only: Tenants = None
    ) -> list[uuid.UUID]:
        """Tenants with a payment reminder to send at `at` (migration 0020; app.services.billing.reminders)."""
        return await self._ids(
            "SELECT due_payment_reminder_tenants(:at, :window_days, :quiet_from, CAST(:only AS uuid[]))",
            at=at,
            window_days=window_days,
            quiet_from=quiet_from,
            only=only,
        )

    async def low_stock_digest_tenants(self, at: datetime, *, send_hour: int, only: Tenants = None) -> list[uuid.UUID]:
        """Tenants with open low-stock alerts and no digest yet on `at`'s day in India, from
        `send_hour` there (migration 0022; app.services.catalog.stock_digest)."""
        return await self._ids(
            "SELECT due_low_stock_digest_tenants(:at, :send_hour, CAST(:only AS uuid[]))",
            at=at,
            send_hour=send_hour,
            only=only,
        )

    async def order_hold_tenants(self, at: datetime, *, only: Tenants = None) -> list[uuid.UUID]:
        """Tenants with a placed order whose hold ended by `at` (migration 0027;
        app.services.commerce.orders.expire_due)."""
        return await self._ids("SELECT due_order_hold_tenants(:at, CAST(:only AS uuid[]))", at=at, only=only)

    async def recurring_invoice_tenants(self, at: datetime, *, only: Tenants = None) -> list[uuid.UUID]:
        """Tenants with an active recurring invoice whose next period is dated on or before `at`'s
        day in India (migration 0025; app.services.billing.recurring_issue)."""
        return await self._ids("SELECT due_recurring_invoice_tenants(:at, CAST(:only AS uuid[]))", at=at, only=only)

    async def storage_rent_tenants(self, at: datetime, *, only: Tenants = None) -> list[uuid.UUID]:
        """Tenants with a storage agreement whose next period's billing day (in India) has come at
        `at` (migration 0026; app.services.commerce.storage_rent)."""
        return await self._ids("SELECT due_storage_rent_tenants(:at, CAST(:only AS uuid[]))", at=at, only=only)

    async def webhook_tenants(self, at: datetime, *, only: Tenants = None) -> list[uuid.UUID]:
        """Tenants with a webhook delivery due at `at` (migration 0037;
        app.services.platform.webhook_delivery.deliver_due)."""
        return await self._ids("SELECT due_webhook_tenants(:at, CAST(:only AS uuid[]))", at=at, only=only)

    async def tenant_purges(self, at: datetime, *, only: Tenants = None) -> list[uuid.UUID]:
        """Closed tenants whose cancel window ended by `at` (migration 0035; app.services.platform.tenant_deletion)."""
        return await self._ids("SELECT due_tenant_purges(:at, CAST(:only AS uuid[]))", at=at, only=only)

    async def cleanup(self, at: datetime, *, only: Tenants = None) -> dict[str, int]:
        """Delete what expired before `at` (sessions, idempotency keys, single-use tokens): counts by table."""
        rows = await self.session.execute(
            text("SELECT kind, deleted FROM cleanup_expired(:at, CAST(:only AS uuid[]))"),
            {"at": at, "only": list(only) if only is not None else None},
        )
        return {kind: deleted for kind, deleted in rows.all()}
