import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import ColumnElement, exists, func, select

from app.models.billing.invoice import Invoice
from app.models.platform.outbox import CUSTOMER_PURPOSES, OutboxEmail, OutboxEmailDocument, OutboxStatus
from app.repositories.base import TenantRepository
from app.repositories.billing.invoices import open_condition

# A document a mail can be about: the link table's column for it.
DocumentColumn = Literal["invoice_id", "credit_note_id", "receipt_id", "customer_id"]


def _due(at: datetime) -> ColumnElement[bool]:
    """Its next attempt is due at `at` (never attempted: a minute after it was written, its
    after-commit delivery's turn)."""
    return func.coalesce(OutboxEmail.next_attempt_at, OutboxEmail.created_at + timedelta(minutes=1)) <= at


class OutboxRepository(TenantRepository[OutboxEmail]):
    model = OutboxEmail

    async def claim_pending(
        self, ids: list[uuid.UUID], *, max_attempts: int | None = None, due_at: datetime | None = None
    ) -> list[OutboxEmail]:
        """Lock pending messages (under the attempt cap, due at `due_at` when given); another
        deliverer skips them instead of sending twice."""
        stmt = select(OutboxEmail).where(OutboxEmail.id.in_(ids), OutboxEmail.status == OutboxStatus.pending)
        if max_attempts is not None:
            stmt = stmt.where(OutboxEmail.attempts < max_attempts)
        if due_at is not None:
            stmt = stmt.where(_due(due_at))
        return list((await self.session.execute(stmt.with_for_update(skip_locked=True))).scalars())

    async def due_ids(self, at: datetime, max_attempts: int) -> list[uuid.UUID]:
        """The pending messages whose next attempt is due at `at`, oldest first (not locked: each is
        claimed in its own transaction, `claim_pending`)."""
        stmt = (
            select(OutboxEmail.id)
            .where(OutboxEmail.status == OutboxStatus.pending, OutboxEmail.attempts < max_attempts, _due(at))
            .order_by(OutboxEmail.created_at)
        )
        return list((await self.session.execute(stmt)).scalars())

    @staticmethod
    def mark_sent(message: OutboxEmail, now: datetime) -> None:
        message.status = OutboxStatus.sent
        message.sent_at = now
        message.attempts += 1
        message.next_attempt_at = None

    @staticmethod
    def mark_failed(message: OutboxEmail, error: str, retry_at: datetime, max_attempts: int) -> None:
        """One more failed attempt: tried again from `retry_at`, or `failed` for good at the cap."""
        message.attempts += 1
        message.last_error = error[:2000]
        if message.attempts >= max_attempts:
            message.status = OutboxStatus.failed
            message.next_attempt_at = None
        else:
            message.next_attempt_at = retry_at

    @staticmethod
    def mark_cancelled(message: OutboxEmail, reason: str) -> None:
        """Not to be done any more (never retried, not counted as undeliverable); the reason is kept."""
        message.status = OutboxStatus.cancelled
        message.last_error = reason[:2000]
        message.next_attempt_at = None

    async def link_documents(self, email_id: uuid.UUID, documents: list[tuple[DocumentColumn, uuid.UUID]]) -> None:
        """Record which documents the mail is about (deliveries lists read it)."""
        tenant_id = self.tenant_id
        for column, document_id in documents:
            self.session.add(OutboxEmailDocument(tenant_id=tenant_id, email_id=email_id, **{column: document_id}))
        await self.session.flush()

    async def reminds_of_open_invoice(self, email_id: uuid.UUID) -> bool:
        """Whether any invoice the mail is about is still open (something due, not void)."""
        stmt = select(
            exists().where(
                OutboxEmailDocument.email_id == email_id,
                Invoice.tenant_id == OutboxEmailDocument.tenant_id,
                Invoice.id == OutboxEmailDocument.invoice_id,
                open_condition(),
            )
        )
        return bool((await self.session.execute(stmt)).scalar())

    async def customer_mail_since(self, since: datetime) -> tuple[int, datetime | None]:
        """How much customer mail (documents, reminders) the tenant wrote after `since`, and when the
        oldest of it was written."""
        stmt = select(func.count(), func.min(OutboxEmail.created_at)).where(
            OutboxEmail.purpose.in_(CUSTOMER_PURPOSES), OutboxEmail.created_at > since
        )
        count, oldest = (await self.session.execute(stmt)).one()
        return int(count), oldest


@dataclass(frozen=True)
class DeliveryFilter:
    column: DocumentColumn
    document_id: uuid.UUID


class DeliveryRepository(TenantRepository[OutboxEmail]):
    """The mail about one document, newest first (the outbox seen from a document)."""

    model = OutboxEmail

    async def list_page(
        self, about: DeliveryFilter, *, limit: int, cursor: str | None
    ) -> tuple[list[OutboxEmail], str | None]:
        linked = select(OutboxEmailDocument.email_id).where(
            getattr(OutboxEmailDocument, about.column) == about.document_id
        )
        stmt = select(OutboxEmail).where(OutboxEmail.id.in_(linked))
        return await self.page(stmt, limit=limit, cursor=cursor, descending=True)
