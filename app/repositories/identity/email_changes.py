import uuid
from datetime import datetime

from sqlalchemy import ColumnElement, update

from app.models.identity.auth import EmailChange
from app.repositories.base import TenantRepository


class EmailChangeRepository(TenantRepository[EmailChange]):
    model = EmailChange

    def _pending(self, now: datetime) -> tuple[ColumnElement[bool], ...]:
        return (
            EmailChange.confirmed_at.is_(None),
            EmailChange.cancelled_at.is_(None),
            EmailChange.expires_at > now,
        )

    async def confirm(self, token_hash: str, now: datetime) -> EmailChange | None:
        """Atomically end a pending change as confirmed; None if unknown, ended or expired."""
        stmt = (
            update(EmailChange)
            .where(EmailChange.token_hash == token_hash, *self._pending(now))
            .values(confirmed_at=now)
            .returning(EmailChange)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def cancel(self, cancel_token_hash: str, now: datetime) -> EmailChange | None:
        """Atomically end a pending change as cancelled; None if unknown, ended or expired."""
        stmt = (
            update(EmailChange)
            .where(EmailChange.cancel_token_hash == cancel_token_hash, *self._pending(now))
            .values(cancelled_at=now)
            .returning(EmailChange)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def cancel_pending_for_user(self, user_id: uuid.UUID, now: datetime) -> None:
        """A newer request (or a completed change) ends the older ones."""
        await self.session.execute(
            update(EmailChange)
            .where(
                EmailChange.user_id == user_id, EmailChange.confirmed_at.is_(None), EmailChange.cancelled_at.is_(None)
            )
            .values(cancelled_at=now)
        )
