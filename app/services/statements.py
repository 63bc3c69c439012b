"""A customer's statement of account over a period, from the ledger (app/repositories/ledger.py):
the balance brought forward from before `from`, every entry dated in the period with the running
balance, the balance at the end of `to`, and the aging of what was still open on `to` (the
dashboard's buckets, app/repositories/dashboard.py). Opening + debits - credits = closing."""

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.context import Context
from app.core.errors import AppError, NotFound
from app.domain.fiscal import financial_year_start
from app.repositories.dashboard import DashboardRepository, Tally
from app.repositories.document_sources import DocumentSourceRepository, StatementSource
from app.repositories.ledger import LedgerRepository
from app.services.ledger import check_day


@dataclass(frozen=True)
class Statement:
    source: StatementSource
    date_from: date
    date_to: date
    opening_balance: Decimal
    entries: list[Any]  # ledger rows: entry_date, type, number, description, debit, credit, balance
    closing_balance: Decimal
    aging: dict[str, Tally]  # the dashboard's buckets and "total", on date_to


def period(start: date | None, end: date | None, *, today: date) -> tuple[date, date]:
    """`end` defaults to today (India), `start` to the first day of `end`'s financial year;
    `start` after `end` is a 422 (the query is invalid as a whole, nothing to look up)."""
    end = check_day("to", end or today)
    start = check_day("from", start or financial_year_start(end))
    if start > end:
        errors = [{"loc": ["query", "to"], "msg": "`to` is before `from`.", "type": "invalid-date-range"}]
        raise AppError("`to` is before `from`.", code="validation-error", errors=errors)
    return start, end


async def statement(
    session: AsyncSession, ctx: Context, customer_id: uuid.UUID, *, start: date | None, end: date | None
) -> Statement:
    date_from, date_to = period(start, end, today=ctx.today)
    source = await DocumentSourceRepository(session).statement(customer_id)
    if source is None:
        raise NotFound("Customer not found.", code="customer-not-found")
    ledger = LedgerRepository(session)
    opening = source.customer.opening_balance
    totals = await ledger.totals(customer_id, date_from=date_from, date_to=date_to, after=None)
    brought_forward = opening + totals.before_from
    entries = await ledger.period(customer_id, date_from=date_from, date_to=date_to, balance_before=brought_forward)
    aging = await DashboardRepository(session).customer_aging(customer_id, as_of=date_to)
    return Statement(
        source=source,
        date_from=date_from,
        date_to=date_to,
        opening_balance=brought_forward,
        entries=entries,
        closing_balance=opening + totals.through_to,
        aging=aging,
    )
