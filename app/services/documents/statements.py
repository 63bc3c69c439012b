"""A customer's statement of account over a period, from the ledger (app/repositories/billing/ledger.py):
the balance brought forward from before `from`, every entry dated in the period with the running
balance, the balance at the end of `to`, and the aging of what was still open on `to` (the
dashboard's buckets, app/repositories/billing/dashboard.py). Opening + debits - credits = closing."""

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.context import Context
from app.core.errors import NotFound
from app.repositories.billing.dashboard import DashboardRepository, Tally
from app.repositories.billing.ledger import LedgerRepository
from app.repositories.documents.document_sources import DocumentSourceRepository, StatementSource
from app.services.billing.ledger import report_range


@dataclass(frozen=True)
class Statement:
    source: StatementSource
    date_from: date
    date_to: date
    opening_balance: Decimal
    entries: list[Any]  # ledger rows: entry_date, type, number, description, debit, credit, balance
    closing_balance: Decimal
    aging: dict[str, Tally]  # the dashboard's buckets and "total", on date_to


async def statement(
    session: AsyncSession, ctx: Context, customer_id: uuid.UUID, *, start: date | None, end: date | None
) -> Statement:
    # The ledger's range rules: `to` defaults to today (India), `from` to the start of its financial
    # year; `from` after `to` is 400 invalid-date-range, as on GET /customers/{id}/ledger (a rule the
    # schema cannot state: schema-valid input is never a 422 here).
    date_from, date_to = report_range(start, end, today=ctx.today)
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
