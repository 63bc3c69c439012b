import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.platform.tenant import Tenant


class TenantAccountRepository:
    """The bound tenant's own row (RLS: a session sees only its tenant)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, tenant_id: uuid.UUID) -> Tenant | None:
        return (await self.session.execute(select(Tenant).where(Tenant.id == tenant_id))).scalar_one_or_none()

    async def add(self, tenant: Tenant) -> Tenant:
        self.session.add(tenant)
        await self.session.flush()
        return tenant

    async def get_for_update(self, tenant_id: uuid.UUID) -> Tenant | None:
        """The row locked until the transaction ends: closing and cancelling a deletion serialize."""
        stmt = select(Tenant).where(Tenant.id == tenant_id).with_for_update()
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def get_shared(self, tenant_id: uuid.UUID) -> Tenant | None:
        """The row as committed now, held against get_for_update (FOR KEY SHARE, which ordinary updates
        of the row do not wait for) until the transaction ends: a session issued after this check
        cannot slip past a concurrent closure of the tenant."""
        stmt = (
            select(Tenant)
            .where(Tenant.id == tenant_id)
            .with_for_update(read=True, key_share=True)
            .execution_options(populate_existing=True)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()
