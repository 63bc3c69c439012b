"""Single-use tokens: email verification, password reset, invitation."""

import uuid
from datetime import datetime
from typing import TypeVar

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.identity.auth import EmailVerification, PasswordReset, UserInvitation
from app.repositories.base import TenantRepository

T = TypeVar("T", EmailVerification, PasswordReset, UserInvitation)


class SingleUseTokenRepository(TenantRepository[T]):
    def __init__(self, session: AsyncSession, model: type[T]) -> None:
        super().__init__(session)
        self.model = model

    async def redeem(self, token_hash: str, now: datetime) -> T | None:
        """Mark the token used, atomically; None if unknown, used or expired."""
        stmt = (
            update(self.model)
            .where(self.model.token_hash == token_hash, self.model.used_at.is_(None), self.model.expires_at > now)
            .values(used_at=now)
            .returning(self.model)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def expire_for_user(
        self: "SingleUseTokenRepository[EmailVerification] | SingleUseTokenRepository[PasswordReset]",
        user_id: uuid.UUID,
        now: datetime,
    ) -> None:
        """Older unused tokens of a user stop working when a new one is issued or one is redeemed."""
        await self.session.execute(
            update(self.model).where(self.model.user_id == user_id, self.model.used_at.is_(None)).values(used_at=now)
        )
