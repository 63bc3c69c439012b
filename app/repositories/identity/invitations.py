"""Invitations to join the bound tenant (the single-use token side is in tokens.py)."""

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, func, select, update

from app.models.identity.auth import UserInvitation
from app.repositories.base import TenantRepository


def _pending(now: datetime) -> tuple[ColumnElement[bool], ...]:
    return (UserInvitation.used_at.is_(None), UserInvitation.expires_at > now)


class InvitationRepository(TenantRepository[UserInvitation]):
    model = UserInvitation

    async def list_page(
        self, *, limit: int, cursor: str | None, descending: bool, pending_at: datetime | None
    ) -> tuple[list[UserInvitation], str | None]:
        stmt = select(UserInvitation)
        if pending_at is not None:
            stmt = stmt.where(*_pending(pending_at))
        return await self.page(stmt, limit=limit, cursor=cursor, descending=descending)

    async def count_pending(self, now: datetime) -> int:
        stmt = select(func.count()).select_from(UserInvitation).where(*_pending(now))
        return (await self.session.execute(stmt)).scalar_one()

    async def expire_pending(
        self,
        now: datetime,
        *,
        invited_by: uuid.UUID | None = None,
        email: str | None = None,
        roles: Iterable[str] | None = None,
    ) -> int:
        """End pending invitations now (of one inviter, to one email, for some roles): they stop redeeming."""
        stmt = update(UserInvitation).where(*_pending(now))
        if invited_by is not None:
            stmt = stmt.where(UserInvitation.invited_by == invited_by)
        if email is not None:
            stmt = stmt.where(UserInvitation.email == email)
        if roles is not None:
            stmt = stmt.where(UserInvitation.role.in_(list(roles)))
        stmt = stmt.values(expires_at=now).execution_options(synchronize_session=False)
        result = cast(CursorResult[Any], await self.session.execute(stmt))  # an UPDATE's result is a CursorResult
        return result.rowcount

    async def revoke(self, invitation_id: uuid.UUID, now: datetime) -> UserInvitation | None:
        """Revoke a pending invitation, atomically; None if it is not pending (or not this tenant's)."""
        stmt = (
            update(UserInvitation)
            .where(UserInvitation.id == invitation_id, *_pending(now))
            .values(revoked_at=now, used_at=now)
            .returning(UserInvitation)
            .execution_options(synchronize_session=False)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()
