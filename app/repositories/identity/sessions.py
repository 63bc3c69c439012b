import uuid
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Select, bindparam, select, update

from app.core.tenancy import constant_statement
from app.models.identity.auth import AuthSession
from app.models.identity.user import User
from app.repositories.base import TenantRepository


def _active_user_statement() -> Select[User]:
    """The user, if active and its session family is live (has a token that is not revoked), as one
    query. Built once (it runs on every authenticated request); the ORM tenant filter still adds
    `tenant_id = <bound>` to users and to both reads of sessions when it runs."""
    family = select(AuthSession.family_id).where(AuthSession.id == bindparam("session_id")).scalar_subquery()
    live = select(AuthSession.id).where(AuthSession.family_id == family, AuthSession.revoked_at.is_(None)).exists()
    return select(User).where(User.id == bindparam("user_id"), User.is_active.is_(True), live)


ACTIVE_USER = constant_statement(_active_user_statement())


class SessionRepository(TenantRepository[AuthSession]):
    model = AuthSession

    async def consume(self, token_hash: str, now: datetime) -> AuthSession | None:
        """Atomically mark a live refresh token used. None if it is unknown, dead or expired."""
        stmt = (
            update(AuthSession)
            .where(AuthSession.token_hash == token_hash, AuthSession.revoked_at.is_(None), AuthSession.expires_at > now)
            .values(revoked_at=now)
            .returning(AuthSession)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def find_by_hash(self, token_hash: str) -> AuthSession | None:
        stmt = select(AuthSession).where(AuthSession.token_hash == token_hash)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def set_replaced_by(self, session_id: uuid.UUID, replacement_id: uuid.UUID) -> None:
        await self.session.execute(
            update(AuthSession).where(AuthSession.id == session_id).values(replaced_by=replacement_id)
        )

    async def revoke_family(self, family_id: uuid.UUID, now: datetime) -> None:
        await self.session.execute(
            update(AuthSession)
            .where(AuthSession.family_id == family_id, AuthSession.revoked_at.is_(None))
            .values(revoked_at=now)
        )

    async def revoke_user(self, user_id: uuid.UUID, now: datetime, *, except_family: uuid.UUID | None = None) -> None:
        stmt = update(AuthSession).where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
        if except_family is not None:
            stmt = stmt.where(AuthSession.family_id != except_family)
        await self.session.execute(stmt.values(revoked_at=now))

    async def revoke_all(self, now: datetime) -> int:
        """Every live session of the bound tenant (every user's): the tenant is being closed."""
        stmt = update(AuthSession).where(AuthSession.revoked_at.is_(None)).values(revoked_at=now)
        result = cast(CursorResult[Any], await self.session.execute(stmt))  # an UPDATE's result is a CursorResult
        return result.rowcount

    async def active_user(self, user_id: uuid.UUID, session_id: uuid.UUID) -> User | None:
        """The user behind an access token, if active and its session family is not revoked.

        One query: the family is live while it has a token that is not revoked.
        """
        params = {"user_id": user_id, "session_id": session_id}
        return (await self.session.execute(ACTIVE_USER, params)).scalar_one_or_none()
