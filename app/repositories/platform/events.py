import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import any_, func, insert, literal, or_, select

from app.models.base import new_id
from app.models.platform.events import BusinessEvent, WebhookDelivery, WebhookEndpoint
from app.repositories.base import TenantRepository


class BusinessEventRepository(TenantRepository[BusinessEvent]):
    model = BusinessEvent

    async def insert_with_subscribers(
        self,
        *,
        event_type: str,
        resource_type: str,
        resource_id: uuid.UUID,
        payload: dict[str, Any],
        payload_version: int,
        occurred_at: datetime,
        actor_user_id: uuid.UUID | None,
    ) -> tuple[uuid.UUID, int, list[uuid.UUID]]:
        """Insert the event and, in the same round trip, find the active endpoints subscribed to its
        type. Returns (event id, seq, endpoint ids)."""
        event_id = new_id()
        inserted = (
            insert(BusinessEvent)
            .values(
                tenant_id=self.tenant_id,
                id=event_id,
                event_type=event_type,
                resource_type=resource_type,
                resource_id=resource_id,
                occurred_at=occurred_at,
                payload_version=payload_version,
                payload=payload,
                actor_user_id=actor_user_id,
            )
            .returning(BusinessEvent.seq)
            .cte("inserted")
        )
        subscribers = (
            select(func.array_agg(WebhookEndpoint.id))
            .where(
                WebhookEndpoint.tenant_id == self.tenant_id,
                WebhookEndpoint.status == "active",
                or_(
                    func.cardinality(WebhookEndpoint.event_types) == 0,
                    literal(event_type) == any_(WebhookEndpoint.event_types),
                ),
            )
            .scalar_subquery()
        )
        row = (await self.session.execute(select(inserted.c.seq, subscribers))).one()
        return event_id, row[0], list(row[1] or [])

    async def add_deliveries(
        self,
        *,
        event_id: uuid.UUID,
        event_seq: int,
        event_type: str,
        resource_id: uuid.UUID,
        endpoint_ids: Sequence[uuid.UUID],
    ) -> None:
        await self.session.execute(
            insert(WebhookDelivery).values(
                [
                    {
                        "tenant_id": self.tenant_id,
                        "id": new_id(),
                        "endpoint_id": endpoint_id,
                        "event_id": event_id,
                        "event_seq": event_seq,
                        "event_type": event_type,
                        "resource_id": resource_id,
                    }
                    for endpoint_id in endpoint_ids
                ]
            )
        )
