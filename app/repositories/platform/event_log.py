"""Reading the business events (GET /events, GET /dashboard/activity); written by
app.repositories.platform.events."""

import uuid
from datetime import date, datetime

from sqlalchemy import Date, cast, func, select

from app.models.platform.events import BusinessEvent
from app.repositories.base import SortKey, TenantRepository

INDIA_ZONE = "Asia/Kolkata"


class EventLogRepository(TenantRepository[BusinessEvent]):
    model = BusinessEvent

    async def list_page(
        self,
        *,
        limit: int,
        cursor: str | None,
        event_type: str | None = None,
        resource_type: str | None = None,
        resource_id: uuid.UUID | None = None,
        date_from: datetime | None = None,
        date_to: datetime | None = None,
        descending: bool = True,
    ) -> tuple[list[BusinessEvent], str | None]:
        """A keyset page by `seq` (the order events were written in); `from` inclusive, `to` exclusive."""
        stmt = select(BusinessEvent)
        if event_type is not None:
            stmt = stmt.where(BusinessEvent.event_type == event_type)
        if resource_type is not None:
            stmt = stmt.where(BusinessEvent.resource_type == resource_type)
        if resource_id is not None:
            stmt = stmt.where(BusinessEvent.resource_id == resource_id)
        if date_from is not None:
            stmt = stmt.where(BusinessEvent.occurred_at >= date_from)
        if date_to is not None:
            stmt = stmt.where(BusinessEvent.occurred_at < date_to)
        sort = SortKey(column=BusinessEvent.seq, descending=descending)
        return await self.page(stmt, limit=limit, cursor=cursor, sort=sort)

    async def daily_counts(
        self, *, start: datetime, end: datetime, event_type: str | None = None
    ) -> list[tuple[date, str, int]]:
        """(Indian day, event type, count) of the events that occurred in [start, end), by day and type."""
        day = cast(func.timezone(INDIA_ZONE, BusinessEvent.occurred_at), Date).label("day")
        stmt = (
            select(day, BusinessEvent.event_type, func.count())
            .where(BusinessEvent.tenant_id == self.tenant_id)
            .where(BusinessEvent.occurred_at >= start, BusinessEvent.occurred_at < end)
            .group_by(day, BusinessEvent.event_type)
            .order_by(day, BusinessEvent.event_type)
        )
        if event_type is not None:
            stmt = stmt.where(BusinessEvent.event_type == event_type)
        return [(row[0], row[1], row[2]) for row in await self.session.execute(stmt)]
