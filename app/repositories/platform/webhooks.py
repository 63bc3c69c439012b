"""Webhook endpoints and their deliveries (issue 13 §4), of the bound tenant."""

import uuid
from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import delete, exists, select, tuple_
from sqlalchemy.orm import aliased

from app.models.platform.events import BusinessEvent, WebhookDelivery, WebhookEndpoint
from app.repositories.base import SortKey, TenantRepository


class WebhookEndpointRepository(TenantRepository[WebhookEndpoint]):
    model = WebhookEndpoint

    async def list_page(
        self, *, limit: int, cursor: str | None, status: str | None
    ) -> tuple[list[WebhookEndpoint], str | None]:
        stmt = select(WebhookEndpoint)
        if status is not None:
            stmt = stmt.where(WebhookEndpoint.status == status)
        return await self.page(stmt, limit=limit, cursor=cursor)


class WebhookDeliveryRepository(TenantRepository[WebhookDelivery]):
    model = WebhookDelivery

    async def list_page(
        self,
        endpoint_id: uuid.UUID,
        *,
        limit: int,
        cursor: str | None,
        status: str | None,
        event_type: str | None,
        event_id: uuid.UUID | None,
    ) -> tuple[list[WebhookDelivery], str | None]:
        """Newest first."""
        stmt = select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id)
        if status is not None:
            stmt = stmt.where(WebhookDelivery.status == status)
        if event_type is not None:
            stmt = stmt.where(WebhookDelivery.event_type == event_type)
        if event_id is not None:
            stmt = stmt.where(WebhookDelivery.event_id == event_id)
        return await self.page(stmt, limit=limit, cursor=cursor, sort=SortKey(descending=True))

    async def of_endpoint(self, endpoint_id: uuid.UUID, delivery_id: uuid.UUID) -> WebhookDelivery | None:
        stmt = select(WebhookDelivery).where(
            WebhookDelivery.endpoint_id == endpoint_id, WebhookDelivery.id == delivery_id
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def delete_of_endpoint(self, endpoint_id: uuid.UUID) -> None:
        """Every delivery of the endpoint (waits for an attempt in flight to record its result)."""
        await self.session.execute(
            delete(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id),
            execution_options={"synchronize_session": False},
        )

    async def claim_next(
        self,
        at: datetime,
        *,
        event_ids: Sequence[uuid.UUID] | None = None,
        delivery_ids: Sequence[uuid.UUID] | None = None,
        skip_endpoints: Collection[uuid.UUID] = (),
    ) -> WebhookDelivery | None:
        """Lock the next delivery to attempt at `at`: pending, due, to an active endpoint, and the
        oldest pending one of its (endpoint, resource) (in-order delivery: an older pending row,
        due or not, holds the newer ones back). Rows another deliverer holds are skipped (and so,
        through the ordering rule, are the rows behind them)."""
        older = aliased(WebhookDelivery)
        blocked = exists().where(
            older.tenant_id == WebhookDelivery.tenant_id,
            older.endpoint_id == WebhookDelivery.endpoint_id,
            older.resource_id == WebhookDelivery.resource_id,
            older.status == "pending",
            tuple_(older.event_seq, older.id) < tuple_(WebhookDelivery.event_seq, WebhookDelivery.id),
        )
        active = exists().where(
            WebhookEndpoint.tenant_id == WebhookDelivery.tenant_id,
            WebhookEndpoint.id == WebhookDelivery.endpoint_id,
            WebhookEndpoint.status == "active",
        )
        stmt = select(WebhookDelivery).where(
            WebhookDelivery.status == "pending",
            WebhookDelivery.next_attempt_at <= at,
            active,
            ~blocked,
        )
        if event_ids is not None:
            stmt = stmt.where(WebhookDelivery.event_id.in_(list(event_ids)))
        if delivery_ids is not None:
            stmt = stmt.where(WebhookDelivery.id.in_(list(delivery_ids)))
        if skip_endpoints:
            stmt = stmt.where(WebhookDelivery.endpoint_id.not_in(list(skip_endpoints)))
        stmt = (
            stmt.order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.event_seq, WebhookDelivery.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def event(self, event_id: uuid.UUID) -> BusinessEvent | None:
        stmt = select(BusinessEvent).where(BusinessEvent.id == event_id)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def endpoint(self, endpoint_id: uuid.UUID, *, for_update: bool = False) -> WebhookEndpoint | None:
        stmt = select(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id)
        if for_update:  # locked and re-read: another deliverer may have changed it meanwhile
            stmt = stmt.with_for_update().execution_options(populate_existing=True)
        return (await self.session.execute(stmt)).scalar_one_or_none()
