"""Date-effective GST rates. A rate is never deleted: it is closed (`effective_to`), and a change
of rate is a new row from a new date, so documents keep the rate that was in force for them."""

import uuid
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.context import Context
from app.core.errors import Conflict, NotFound, RuleViolation
from app.models.billing.business import TaxRate
from app.repositories.base import SortKey
from app.repositories.billing.tax_rates import TaxRateRepository
from app.services.platform import audit

FIELDS = ["name", "rate", "effective_from", "effective_to"]
SORTS = {"rate": TaxRate.rate, "effective_from": TaxRate.effective_from, "created_at": TaxRate.created_at}


def default_name(rate: Decimal) -> str:
    return f"GST {rate.normalize():f}%"


async def list_page(
    session: AsyncSession, *, limit: int, cursor: str | None, sort: str, as_of: date | None
) -> tuple[list[TaxRate], str | None]:
    key = SortKey(SORTS[sort.lstrip("-")], sort.startswith("-"))
    return await TaxRateRepository(session).list_page(limit=limit, cursor=cursor, sort=key, as_of=as_of)


async def get(session: AsyncSession, rate_id: uuid.UUID, *, for_update: bool = False) -> TaxRate:
    rate = await TaxRateRepository(session).get(rate_id, for_update=for_update)
    if rate is None:
        raise NotFound("Tax rate not found.")
    return rate


async def is_in_force(session: AsyncSession, rate: Decimal, day: date) -> bool:
    return await TaxRateRepository(session).is_in_force(rate, day)


async def create(
    session: AsyncSession, *, name: str | None, rate: Decimal, effective_from: date, effective_to: date | None
) -> TaxRate:
    if effective_to is not None and effective_to < effective_from:
        raise RuleViolation("effective_to", "effective_to is before effective_from.", code="invalid-period")
    repo = TaxRateRepository(session)
    if await repo.overlapping(rate, effective_from, effective_to):
        raise Conflict("This rate is already in force for part of that period.", code="tax-rate-overlap")
    new = TaxRate(name=name or default_name(rate), rate=rate, effective_from=effective_from, effective_to=effective_to)
    await repo.add(new)
    await _audit(session, new, "created", None)
    return new


async def update(session: AsyncSession, ctx: Context, rate_id: uuid.UUID, *, changes: dict[str, Any]) -> TaxRate:
    """Rename, or close from a date on (today or later: the past stays as it was)."""
    tax_rate = await get(session, rate_id, for_update=True)
    before = audit.snapshot(tax_rate, FIELDS)
    if "effective_to" in changes:
        await _close(session, tax_rate, changes["effective_to"], ctx.today)
    if "name" in changes:
        tax_rate.name = changes["name"]
    await session.flush()
    await _audit(session, tax_rate, "updated", before)
    return tax_rate


async def _close(session: AsyncSession, tax_rate: TaxRate, effective_to: date, today: date) -> None:
    if effective_to < max(tax_rate.effective_from, today):
        raise RuleViolation(
            "effective_to", "A rate can be closed from today on, not before it took effect.", code="invalid-period"
        )
    repo = TaxRateRepository(session)
    if await repo.overlapping(tax_rate.rate, tax_rate.effective_from, effective_to, besides=tax_rate):
        raise Conflict("The same rate is in force for part of that period.", code="tax-rate-overlap")
    tax_rate.effective_to = effective_to


async def revise(
    session: AsyncSession, ctx: Context, rate_id: uuid.UUID, *, rate: Decimal, effective_from: date, name: str | None
) -> TaxRate:
    """A new rate from `effective_from` replaces this one, which closes the day before."""
    old = await get(session, rate_id, for_update=True)
    if effective_from < ctx.today or effective_from <= old.effective_from:
        raise RuleViolation(
            "effective_from",
            "A revision takes effect from today on, after the rate it replaces.",
            code="invalid-period",
        )
    if old.effective_to is not None and old.effective_to < effective_from - timedelta(days=1):
        raise Conflict("This rate is closed before that date; create a new rate instead.", code="tax-rate-closed")
    before = audit.snapshot(old, FIELDS)
    old.effective_to = effective_from - timedelta(days=1)
    await session.flush()
    await _audit(session, old, "updated", before)
    return await create(session, name=name, rate=rate, effective_from=effective_from, effective_to=None)


async def _audit(session: AsyncSession, tax_rate: TaxRate, action: str, before: dict[str, Any] | None) -> None:
    await audit.record(
        session,
        action=f"tax_rate.{action}",
        entity_type="tax_rate",
        entity_id=tax_rate.id,
        before=before,
        after=audit.snapshot(tax_rate, FIELDS),
    )
