import uuid
from datetime import datetime, timedelta

from sqlalchemy import func, select

from app.models.outbox import OutboxEmail, OutboxStatus
from app.repositories.base import TenantRepository


class OutboxRepository(TenantRepository[OutboxEmail]):
    model = OutboxEmail

    async def claim_pending(self, ids: list[uuid.UUID]) -> list[OutboxEmail]:
        """Lock pending messages; another deliverer skips them instead of sending twice."""
        stmt = (
            select(OutboxEmail)
            .where(OutboxEmail.id.in_(ids), OutboxEmail.status == OutboxStatus.pending)
            .with_for_update(skip_locked=True)
        )
        return list((await self.session.execute(stmt)).scalars())

    @staticmethod
    def mark_sent(message: OutboxEmail, now: datetime) -> None:
        message.status = OutboxStatus.sent
        message.sent_at = now
        message.attempts += 1

    async def claim_due(self, at: datetime, max_attempts: int) -> list[OutboxEmail]:
        """Lock the pending messages whose next attempt is due at `at` (never attempted: a minute
        after they were written, their after-commit delivery's turn), skipping locked ones."""
        due = func.coalesce(OutboxEmail.next_attempt_at, OutboxEmail.created_at + timedelta(minutes=1))
        stmt = (
            select(OutboxEmail)
            .where(OutboxEmail.status == OutboxStatus.pending, OutboxEmail.attempts < max_attempts, due <= at)
            .order_by(OutboxEmail.created_at)
            .with_for_update(skip_locked=True)
        )
        return list((await self.session.execute(stmt)).scalars())

    @staticmethod
    def mark_failed(message: OutboxEmail, error: str, retry_at: datetime) -> None:
        message.attempts += 1
        message.last_error = error[:2000]
        message.next_attempt_at = retry_at
