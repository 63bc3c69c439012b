import uuid
from dataclasses import dataclass

from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.identity.user import User, UserRole
from app.repositories.base import TenantRepository


class UserRepository(TenantRepository[User]):
    model = User

    async def list_page(
        self, *, limit: int, cursor: str | None, descending: bool, role: str | None, is_active: bool | None
    ) -> tuple[list[User], str | None]:
        stmt = select(User)
        if role is not None:
            stmt = stmt.where(User.role == role)
        if is_active is not None:
            stmt = stmt.where(User.is_active.is_(is_active))
        return await self.page(stmt, limit=limit, cursor=cursor, descending=descending)

    async def managers(self) -> list[User]:
        """The tenant's active owners and admins (who get the low-stock digest)."""
        stmt = (
            select(User)
            .where(User.role.in_([UserRole.owner, UserRole.admin]), User.is_active.is_(True))
            .order_by(User.id)
        )
        return list((await self.session.execute(stmt)).scalars())

    async def count_active_owners(self) -> int:
        stmt = select(func.count()).select_from(User).where(User.role == UserRole.owner, User.is_active.is_(True))
        return (await self.session.execute(stmt)).scalar_one()

    async def owners(self) -> list[User]:
        """The tenant's active owners (who gets the subscription emails)."""
        stmt = select(User).where(User.role == UserRole.owner, User.is_active.is_(True)).order_by(User.id)
        return list((await self.session.execute(stmt)).scalars())

    async def deactivate_all_but(self, user_id: uuid.UUID) -> list[uuid.UUID]:
        """Deactivate every other active user of the tenant; their ids."""
        stmt = (
            update(User)
            .where(User.id != user_id, User.is_active.is_(True))
            .values(is_active=False)
            .returning(User.id)
            .execution_options(synchronize_session=False)
        )
        return list((await self.session.execute(stmt)).scalars())

    async def lock_owners(self) -> None:
        """Serialise changes that could remove the last owner."""
        await self.session.execute(select(User.id).where(User.role == UserRole.owner).with_for_update())


@dataclass(frozen=True)
class Identity:
    tenant_id: uuid.UUID
    user_id: uuid.UUID


class IdentityRepository:
    """The global email directory (no tenant bound yet when it is read). The application role has no
    privilege on `user_identities`: it asks the SECURITY DEFINER functions of migration 0009, one
    address at a time, and claims or releases addresses only for the tenant bound to the session."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def find(self, email: str) -> Identity | None:
        stmt = text("SELECT tenant_id, user_id FROM identity_of(:email)").bindparams(email=email.lower())
        row = (await self.session.execute(stmt)).one_or_none()
        return None if row is None else Identity(tenant_id=row.tenant_id, user_id=row.user_id)

    async def claim(self, email: str, tenant_id: uuid.UUID, user_id: uuid.UUID) -> bool:
        """Reserve an email for a new user of the bound tenant. False if it is already taken (race-safe)."""
        stmt = select(func.claim_identity(email.lower(), tenant_id, user_id))
        return bool((await self.session.execute(stmt)).scalar_one())

    async def rename(self, old_email: str, new_email: str) -> bool:
        identity = await self.find(old_email)
        if identity is None or await self.find(new_email) is not None:
            return False
        await self.session.execute(select(func.release_identity(old_email.lower())))
        return await self.claim(new_email, identity.tenant_id, identity.user_id)
