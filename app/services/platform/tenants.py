from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import NotFound
from app.models.identity.user import User
from app.models.platform.tenant import Tenant
from app.repositories.platform.tenants import TenantAccountRepository
from app.services.platform import audit

FIELDS = ["name", "business_name", "contact_email", "contact_phone"]


async def get_own(session: AsyncSession, user: User) -> Tenant:
    tenant = await TenantAccountRepository(session).get(user.tenant_id)
    if tenant is None:
        raise NotFound("Tenant not found.")
    return tenant


async def update_own(session: AsyncSession, user: User, changes: dict[str, object]) -> Tenant:
    tenant = await get_own(session, user)
    before = audit.snapshot(tenant, FIELDS)
    for field, value in changes.items():
        setattr(tenant, field, value)
    await session.flush()
    await audit.record(
        session,
        action="tenant.updated",
        entity_type="tenant",
        entity_id=tenant.id,
        before=before,
        after=audit.snapshot(tenant, FIELDS),
    )
    return tenant
