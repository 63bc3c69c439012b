"""The customer ledger, and the date ranges of reports (the ledger's and the dashboard's)."""

import uuid
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.cursors import INVALID, decode_cursor, encode_cursor, session_key
from app.core.errors import InvalidCursor, NotFound, RuleViolation
from app.domain.fiscal import financial_year_start
from app.repositories.billing.ledger import KINDS, LedgerRepository, Position
from app.schemas.billing.ledger import LedgerEntry, LedgerRead

# The days a report may name. Beyond them lie only typos, and asyncpg sends date.min and date.max
# as -infinity and infinity (an endless generate_series, a timestamp overflow).
EARLIEST, LATEST = date(1900, 1, 1), date(2999, 12, 31)
LEDGER = "ledger"  # the ledger cursors' scope (see app/core/cursors.py)


def check_day(field: str, day: date) -> date:
    if not EARLIEST <= day <= LATEST:
        raise RuleViolation(field, f"Dates run from {EARLIEST} to {LATEST}.", code="date-out-of-range")
    return day


def report_range(date_from: date | None, date_to: date | None, *, today: date) -> tuple[date, date]:
    """`to` defaults to today, `from` to the start of the financial year `to` falls in (both within
    EARLIEST..LATEST); `to` before `from` is a 400."""
    end = check_day("to", date_to or today)
    start = check_day("from", date_from or max(financial_year_start(end), EARLIEST))
    if end < start:
        raise RuleViolation("to", "`to` is before `from`.", code="invalid-date-range")
    return start, end


async def ledger(
    session: AsyncSession,
    customer_id: uuid.UUID,
    *,
    date_from: date,
    date_to: date,
    limit: int,
    cursor: str | None,
) -> LedgerRead:
    repo = LedgerRepository(session)
    opening = await repo.customer_opening_balance(customer_id)
    if opening is None:
        raise NotFound("Customer not found.", code="customer-not-found")
    after = _decode(session_key(session), cursor) if cursor else None
    totals = await repo.totals(customer_id, date_from=date_from, date_to=date_to, after=after)
    rows = await repo.page(
        customer_id,
        date_from=date_from,
        date_to=date_to,
        after=after,
        balance_before=opening + totals.before_page,
        limit=limit,
    )
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        values = [last.entry_date, last.event_at, last.document_id, last.rank]
        next_cursor = encode_cursor(session_key(session), LEDGER, values)
    entries = [
        LedgerEntry(
            date=row.entry_date,
            type=row.type,
            document_id=row.document_id,
            number=row.number,
            description=row.description,
            debit=row.debit,
            credit=row.credit,
            balance=row.balance,
        )
        for row in rows
    ]
    return LedgerRead(
        customer_id=customer_id,
        date_from=date_from,
        date_to=date_to,
        opening_balance=opening + totals.before_from,
        items=entries,
        closing_balance=opening + totals.through_to,
        next_cursor=next_cursor,
    )


def _decode(key: bytes, cursor: str) -> Position:
    position = Position(*decode_cursor(key, LEDGER, cursor, [date, datetime, uuid.UUID, int]))
    if not 0 <= position.rank < len(KINDS):
        raise InvalidCursor(INVALID)
    return position
