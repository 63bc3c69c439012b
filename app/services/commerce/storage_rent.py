"""The monthly storage rent: the scheduler's per-tenant step (`bill_due`).

Each agreement bills its periods in arrears (app.domain.storage_rent: periods from one billing day
to the next, the proration rule). On a period's billing day (in India; from 00:00 there) the step
issues one tax invoice for it through app.services.billing.invoicing.create(issue=True), dated that
billing day, with a line per product stored in the period:

    Storage of <product>: <quantity-days> <unit>-days in <days> days x ₹<value per unit> x <rate>% a month

quantity 1, the rent as the unit price (exact to the paisa, computed once), SAC 996729 (storage and
warehousing) and GST at the agreement's rate (18 %; 0 for exempt storage, a bill of supply; 0 too
when a composition or unregistered company bills: it charges none). A period in which nothing was
stored is recorded with no invoice.

Exactly once: the agreement's row is locked (FOR UPDATE) and its `next_period_start` read under the
lock, the invoice issued, the period recorded in storage_rent_periods (unique per agreement and
period start) and the agreement advanced, all in the step's transaction: a second worker waits on the
lock and then finds the period billed. A worker down on the billing day bills the missed periods at
its next run, each once, each dated its own billing day (oldest first).

Each period is billed in a savepoint: one that cannot be billed (the customer archived, 18 % not a
tax rate in force on the billing day, the plan's invoice quota reached) is rolled back alone (the
periods before it stay billed), logged, counted in `storage_rent_blocked`, and the agreement's later
periods wait with it; every run (each minute) tries again, and the tenant's other agreements are
billed meanwhile. The log says why until the cause is fixed (add an 18 % rate covering the billing day).
"""

import logging
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.context import Context
from app.core.errors import AppError
from app.domain import gst, storage_rent
from app.domain.storage_rent import Period
from app.models.catalog.product import Product
from app.models.commerce.storage import StorageAgreement
from app.repositories.catalog.products import ProductRepository
from app.repositories.commerce.storage import (
    StorageAgreementRepository,
    StorageHoldingRepository,
    StorageMovementRepository,
    StorageRentPeriodRepository,
)
from app.schemas.billing.invoices import InvoiceIn, InvoiceLineIn
from app.services.billing import invoicing
from app.services.platform import audit

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RentLine:
    product: Product
    quantity_days: Decimal
    unit_value: Decimal
    rent: Decimal


async def bill_due(session: AsyncSession, ctx: Context) -> Counter[str]:
    """Every period of the bound tenant's agreements whose billing day has come by `ctx.today`:
    counts of invoices issued (`storage_rent_invoices`) and agreements left for a later run
    (`storage_rent_blocked`)."""
    done: Counter[str] = Counter()
    repo = StorageAgreementRepository(session)
    for agreement_id in await repo.due(ctx.today):
        agreement = await repo.get(agreement_id, for_update=True)  # a racing worker waits here, then finds it billed
        while agreement is not None and agreement.next_bill_on is not None and agreement.next_bill_on <= ctx.today:
            try:
                async with session.begin_nested():
                    done["storage_rent_invoices"] += await bill_period(session, ctx, agreement)
            except AppError as exc:
                agreement.billing_problem = f"{exc.code}: {exc.detail}"[:500]  # shown on the agreement
                log.warning(
                    "storage rent of agreement %s from %s not billed (%s: %s); the next run tries again",
                    agreement_id,
                    agreement.next_period_start,
                    exc.code,
                    exc.detail,
                )
                done["storage_rent_blocked"] += 1
                break  # its later periods wait too: billed in order
    return done


async def bill_period(session: AsyncSession, ctx: Context, agreement: StorageAgreement) -> int:
    """Bill the agreement's next period (the caller holds its row lock) and advance it: 1 if an
    invoice was issued, 0 if nothing was stored."""
    if agreement.next_bill_on is None:
        return 0
    before = audit.snapshot(agreement, ["next_period_start", "next_bill_on", "status"])
    period = Period(agreement.next_period_start, agreement.next_bill_on)
    changes = await StorageMovementRepository(session).changes(agreement.id, period.start, period.end)
    lines = await rent_lines(session, agreement, period, changes)
    rent = sum((line.rent for line in lines), Decimal("0.00"))
    invoice_id = None
    if lines:
        parties = await invoicing.load_parties(session, agreement.company_id, agreement.customer_id, period.end)
        charges_tax = gst.registration(parties.company.gstin, parties.settings.registration_type)
        rate = agreement.gst_rate if charges_tax is gst.Registration.regular else Decimal("0")
        body = _invoice(agreement, period, lines, rate)
        invoice_id = (await invoicing.create(session, ctx, body=body, issue=True, parties=parties)).id
    periods = StorageRentPeriodRepository(session)
    if not await periods.claim(agreement.id, period.start, period.end, invoice_id, rent):  # the lock forbids it
        raise RuntimeError(f"period {period.start} of agreement {agreement.id} billed twice")
    following = period.next(agreement.billing_day)
    agreement.next_period_start = following.start
    held_at_end = sum((change for _, _, change in changes), Decimal("0")) > 0  # what is held on its last day
    if agreement.end_date is not None and following.start > agreement.end_date and not held_at_end:
        agreement.next_bill_on, agreement.status = None, "ended"  # its last period is billed, nothing left
    else:
        agreement.next_bill_on = following.end
    agreement.billing_problem = None
    await session.flush()
    after = audit.snapshot(agreement, ["next_period_start", "next_bill_on", "status"])
    after |= {
        "period_start": period.start.isoformat(),
        "invoice_id": str(invoice_id) if invoice_id else None,
        "rent": str(rent),
    }
    await audit.record(
        session,
        action="storage_agreement.billed",
        entity_type="storage_agreement",
        entity_id=agreement.id,
        before=before,
        after=after,
    )
    return 1 if invoice_id else 0


async def rent_lines(
    session: AsyncSession, agreement: StorageAgreement, period: Period, changes: list[tuple[uuid.UUID, date, Decimal]]
) -> list[RentLine]:
    """The products stored in the period (quantity-days > 0) with their rent, by product name, from
    the agreement's `changes` up to the period's end (StorageMovementRepository.changes)."""
    by_product: dict[uuid.UUID, list[tuple[date, Decimal]]] = {}
    for product_id, day, change in changes:
        by_product.setdefault(product_id, []).append((day, change))
    if not by_product:
        return []
    holdings = await StorageHoldingRepository(session).for_products(agreement.id, list(by_product))
    products = await ProductRepository(session).get_many(list(by_product))
    lines = []
    for product_id, product_changes in by_product.items():
        quantity_days = storage_rent.quantity_days(product_changes, period, period.end)
        if quantity_days <= 0:
            continue
        value = holdings[product_id].unit_value
        amount = storage_rent.rent(value, agreement.monthly_rate, quantity_days, period.days)
        if amount > 0:
            lines.append(RentLine(products[product_id], quantity_days, value, amount))
    return sorted(lines, key=lambda line: (line.product.name_lower, line.product.id))


def _invoice(agreement: StorageAgreement, period: Period, lines: list[RentLine], rate: Decimal) -> InvoiceIn:
    span = f"{period.start:%d %b %Y} to {period.last_day:%d %b %Y}"
    reference = f" {agreement.reference}" if agreement.reference else ""
    return InvoiceIn.model_construct(  # computed here, within the invoice's bounds (module docstring)
        company_id=agreement.company_id,
        customer_id=agreement.customer_id,
        invoice_date=period.end,
        due_date=None,
        place_of_supply=None,
        reverse_charge=False,
        supply_category=None,
        tax_treatment=None,
        destination_country=None,
        port_code=None,
        shipping_bill_number=None,
        shipping_bill_date=None,
        notes=f"Storage rent under agreement{reference}, {span}: {agreement.monthly_rate.normalize():f}% of the "
        f"declared value a month, prorated by the days stored ({period.days} days in the period).",
        terms=None,
        lines=[_line(agreement, period, line, rate) for line in lines],
    )


def _line(agreement: StorageAgreement, period: Period, line: RentLine, rate: Decimal) -> InvoiceLineIn:
    product = line.product
    description = (
        f"Storage of {product.name} ({product.sku}), {period.start:%d %b} to {period.last_day:%d %b %Y}: "
        f"{line.quantity_days.normalize():f} {product.unit}-days in {period.days} days x ₹{line.unit_value} "
        f"x {agreement.monthly_rate.normalize():f}% a month"
    )
    return InvoiceLineIn.model_construct(
        service_type_id=None,
        product_id=None,  # the customer's goods, not a sale of the product: no stock moves
        description=description[:500],
        hsn_sac=storage_rent.SAC,
        quantity=Decimal("1"),
        unit="OTH",
        unit_price=line.rent,
        discount=Decimal("0.00"),
        gst_rate=rate,
    )
