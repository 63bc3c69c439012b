"""Business events: what happened to a tenant's business, written in the transaction of the change
(an event exists exactly when its change committed), and fanned out at once to the tenant's webhook
endpoints subscribed to its type (one `webhook_deliveries` row each, delivered by the worker)."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.models.base import utcnow
from app.repositories.platform.events import BusinessEventRepository
from app.services.platform.audit import ACTOR_KEY, jsonable

# Every event type and the current version of its payload. A payload changes shape only with a new
# version; consumers read `payload_version`.
EVENT_TYPES: dict[str, int] = {
    "invoice.issued": 1,
    "invoice.paid": 1,
    "invoice.voided": 1,
    "receipt.created": 1,
    "receipt.voided": 1,
    "credit_note.created": 1,
    "customer.created": 1,
    "stock.low": 1,
    "order.placed": 1,
    "order.confirmed": 1,
    "order.fulfilled": 1,
    "order.cancelled": 1,
    "subscription.changed": 1,
}


async def record(
    session: AsyncSession,
    event_type: str,
    *,
    resource_type: str,
    resource_id: uuid.UUID,
    payload: dict[str, Any],
    occurred_at: datetime | None = None,
) -> uuid.UUID:
    """Write one event (and its webhook deliveries) in the caller's transaction. Returns its id."""
    version = EVENT_TYPES[event_type]  # an unknown type is a programming error
    repo = BusinessEventRepository(session)
    event_id, seq, endpoint_ids = await repo.insert_with_subscribers(
        event_type=event_type,
        resource_type=resource_type,
        resource_id=resource_id,
        payload=jsonable(payload),
        payload_version=version,
        occurred_at=occurred_at or utcnow(),
        actor_user_id=session.info.get(ACTOR_KEY),
    )
    if endpoint_ids:
        await repo.add_deliveries(
            event_id=event_id, event_seq=seq, event_type=event_type, resource_id=resource_id, endpoint_ids=endpoint_ids
        )
        from app.services.platform import webhook_delivery  # delivered after commit (or by the scheduled job)

        webhook_delivery.kick_after_commit(session, repo.tenant_id, event_id)
    return event_id
