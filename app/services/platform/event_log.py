"""The tenant's business events as people and analytics read them: the log (GET /events) and the
activity counts per type per Indian day (GET /dashboard/activity)."""

import uuid
from collections import Counter, defaultdict
from datetime import date, datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import RuleViolation
from app.domain.fiscal import INDIA
from app.models.platform.events import BusinessEvent
from app.repositories.platform.event_log import EventLogRepository
from app.schemas.platform.events import ActivityDay, ActivityRead
from app.services.billing.ledger import check_day
from app.services.platform.events import EVENT_TYPES

MAX_ACTIVITY_DAYS = 366  # a year, leap day included
DEFAULT_ACTIVITY_DAYS = 30


async def list_events(
    session: AsyncSession,
    *,
    limit: int,
    cursor: str | None,
    event_type: str | None,
    resource_type: str | None,
    resource_id: uuid.UUID | None,
    date_from: datetime | None,
    date_to: datetime | None,
    descending: bool,
) -> tuple[list[BusinessEvent], str | None]:
    check_type("type", event_type)
    if date_from is not None and date_to is not None and date_to < date_from:
        raise RuleViolation("to", "`to` is before `from`.", code="invalid-date-range")
    return await EventLogRepository(session).list_page(
        limit=limit,
        cursor=cursor,
        event_type=event_type,
        resource_type=resource_type,
        resource_id=resource_id,
        date_from=date_from,
        date_to=date_to,
        descending=descending,
    )


def activity_range(date_from: date | None, date_to: date | None, *, today: date) -> tuple[date, date]:
    """`to` defaults to today (India), `from` to 29 days before `to`; at most MAX_ACTIVITY_DAYS days."""
    end = check_day("to", date_to or today)
    start = check_day("from", date_from or end - timedelta(days=DEFAULT_ACTIVITY_DAYS - 1))
    if end < start:
        raise RuleViolation("to", "`to` is before `from`.", code="invalid-date-range")
    if (end - start).days + 1 > MAX_ACTIVITY_DAYS:
        raise RuleViolation(
            "from", f"At most {MAX_ACTIVITY_DAYS} days at a time: narrow the range.", code="date-range-too-long"
        )
    return start, end


async def activity(
    session: AsyncSession, *, date_from: date, date_to: date, event_type: str | None = None
) -> ActivityRead:
    """Events per type per Indian day over [date_from, date_to], every day listed (zeros too)."""
    check_type("type", event_type)
    start = datetime.combine(date_from, time.min, INDIA)
    end = datetime.combine(date_to + timedelta(days=1), time.min, INDIA)
    rows = await EventLogRepository(session).daily_counts(start=start, end=end, event_type=event_type)
    by_day: dict[date, dict[str, int]] = defaultdict(dict)
    totals: Counter[str] = Counter()
    for day, kind, count in rows:
        by_day[day][kind] = count
        totals[kind] += count
    days = [
        ActivityDay(day=day, total=sum(by_day[day].values()), counts=by_day[day])
        for day in (date_from + timedelta(days=n) for n in range((date_to - date_from).days + 1))
    ]
    return ActivityRead(date_from=date_from, date_to=date_to, totals=dict(sorted(totals.items())), days=days)


def check_type(field: str, event_type: str | None) -> None:
    if event_type is not None and event_type not in EVENT_TYPES:
        raise RuleViolation(
            field, f"Unknown event type; the types are: {', '.join(sorted(EVENT_TYPES))}.", code="unknown-event-type"
        )
