import uuid
from datetime import datetime

from sqlalchemy import select

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

    @staticmethod
    def mark_failed(message: OutboxEmail, error: str) -> None:
        message.attempts += 1
        message.last_error = error[:2000]
