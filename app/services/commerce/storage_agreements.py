"""Storage agreements: a company stores a customer's goods for a monthly rent (app.domain.storage_rent
states the periods and the proration rule), and the goods received and released under them.

Customer goods have a ledger of their own (storage_holdings, storage_movements): they are not the
shop's sellable stock and never touch stock_levels. Every change of an agreement's goods happens
under the agreement's row lock (FOR UPDATE), which also serialises it with the monthly billing
(app.services.commerce.storage_rent): a movement cannot slip into a period while it is billed.
Movements are dated, and the dates keep the rent honest:
- never in the future, never before the agreement's start; a receipt never after its end date;
- never inside a period already billed (409 `storage-period-billed`): a billed invoice never changes;
- never before the product's last movement under the agreement (409 `storage-movement-out-of-order`),
  so that what is held now is what was held on every day since, and a release checked against
  today's holding (409 `storage-insufficient-goods`, naming the lines) never leaves a negative day.
A product's declared value per unit is fixed at its first receipt (the rent's base for every period;
another value later: 409 `storage-value-mismatch`). Every write is audited in its transaction.
"""

import uuid
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.context import Context
from app.core.errors import Conflict, NotFound, RuleViolation
from app.domain import gst, storage_rent, uqc
from app.domain.errors import DomainError
from app.models.base import new_id
from app.models.catalog.product import Product
from app.models.commerce.storage import StorageAgreement, StorageHolding, StorageMovement
from app.repositories.commerce.storage import (
    StorageAgreementRepository,
    StorageHoldingRepository,
    StorageMovementRepository,
)
from app.schemas.commerce.storage import (
    GoodsReceiptCreate,
    GoodsReleaseCreate,
    StorageAgreementCreate,
    StorageAgreementEnd,
)
from app.services.billing import invoicing
from app.services.billing.rules import DocumentDates, as_problem
from app.services.catalog import products as product_service
from app.services.platform import audit

AUDITED = [
    "company_id",
    "customer_id",
    "reference",
    "monthly_rate",
    "billing_day",
    "gst_rate",
    "start_date",
    "end_date",
    "status",
    "next_period_start",
    "next_bill_on",
]
CENT, THOUSANDTH = Decimal("0.01"), Decimal("0.001")  # the columns' scales: what a read gives back
# An invoice takes at most 200 lines: one per product.
MAX_PRODUCTS = 200
# What one product's goods held under an agreement may be worth: an invoice line's bound
# (app.schemas.billing.invoices), so that a month's rent (below 100 % of it) fits a rent invoice's line.
MAX_HOLDING_VALUE = Decimal("1e13")


async def get(session: AsyncSession, agreement_id: uuid.UUID, *, for_update: bool = False) -> StorageAgreement:
    agreement = await StorageAgreementRepository(session).get(agreement_id, for_update=for_update)
    if agreement is None:
        raise NotFound("Storage agreement not found.", code="storage-agreement-not-found")
    return agreement


async def create(session: AsyncSession, ctx: Context, *, body: StorageAgreementCreate) -> StorageAgreement:
    start = DocumentDates.of(ctx).check("start_date", body.start_date or ctx.today)  # its invoices' dates follow
    parties = await invoicing.load_parties(session, body.company_id, body.customer_id, max(start, ctx.today))
    if body.end_date is not None and body.end_date < start:
        raise RuleViolation("end_date", "The end date is before the start date.", code="invalid-date-range")
    gst_rate = Decimal(body.gst_rate).quantize(CENT)
    _require_rent_rate(parties, gst_rate)
    period = storage_rent.period_containing(start, body.billing_day)
    agreement = StorageAgreement(
        id=new_id(),
        company_id=body.company_id,
        customer_id=body.customer_id,
        reference=body.reference,
        monthly_rate=Decimal(body.monthly_rate).quantize(CENT),
        billing_day=body.billing_day,
        gst_rate=gst_rate,
        start_date=start,
        end_date=body.end_date,
        status="active",
        next_period_start=period.start,
        next_bill_on=period.end,
        notes=body.notes,
    )
    await StorageAgreementRepository(session).add(agreement)
    await _audit(session, "storage_agreement.created", agreement, before=None)
    return agreement


def _require_rent_rate(parties: invoicing.Parties, rate: Decimal) -> None:
    """A company that charges GST bills rent at the agreement's rate (18 %, or 0 when exempt): that
    rate must be one of the tenant's in force (else every rent invoice would be refused). Composition
    and unregistered companies charge none."""
    registration = gst.registration(parties.company.gstin, parties.settings.registration_type)
    if registration is gst.Registration.regular and rate not in parties.rates_in_force:
        raise Conflict(
            f"Storage rent at {rate.normalize():f}% GST (SAC {storage_rent.SAC}) needs that rate among your tax "
            "rates in force: add it first (POST /tax-rates).",
            code="storage-gst-rate-missing",
        )


async def end(
    session: AsyncSession, ctx: Context, agreement_id: uuid.UUID, *, body: StorageAgreementEnd
) -> StorageAgreement:
    """No more goods come in; periods up to the end date are still billed on their billing days."""
    agreement = await get(session, agreement_id, for_update=True)
    if agreement.status == "ended":
        raise Conflict("The agreement has ended already.", code="storage-agreement-ended")
    latest = max(ctx.today, agreement.start_date)  # one not started yet ends on its start date
    end_date = body.end_date or latest
    if end_date > latest or end_date < agreement.start_date:
        raise RuleViolation(
            "end_date",
            "The end date must be between the agreement's start and today (its start date if it has not started).",
            code="date-out-of-range",
        )
    holdings = StorageHoldingRepository(session)
    last = await holdings.last_movement_on(agreement.id)
    if last is not None and end_date < last:
        raise RuleViolation("end_date", f"Goods moved on {last}, after this end date.", code="date-out-of-range")
    held = await holdings.held(agreement.id)
    if held:
        raise Conflict(
            "The agreement still holds goods: release them first.",
            code="storage-goods-held",
            products=[{"product_id": str(p), "quantity": f"{q:f}"} for p, q in held],
        )
    before = audit.snapshot(agreement, AUDITED)
    agreement.end_date, agreement.status = end_date, "ended"
    if agreement.next_period_start > end_date:  # the period holding the end date is billed already
        agreement.next_bill_on = None
    await session.flush()
    await _audit(session, "storage_agreement.ended", agreement, before=before)
    return agreement


async def receive(
    session: AsyncSession, ctx: Context, agreement_id: uuid.UUID, *, body: GoodsReceiptCreate
) -> list[StorageMovement]:
    agreement = await get(session, agreement_id, for_update=True)
    if agreement.status == "ended":
        raise Conflict("The agreement has ended: it takes no more goods.", code="storage-agreement-ended")
    day = _movement_date(ctx, agreement, body.movement_date)
    if agreement.end_date is not None and day > agreement.end_date:
        raise RuleViolation("movement_date", f"The agreement ends on {agreement.end_date}.", code="date-out-of-range")
    found = await _products(session, [line.product_id for line in body.lines], receiving=True)
    repo = StorageHoldingRepository(session)
    holdings = await repo.for_products(agreement.id, found)
    new = [pid for pid in found if pid not in holdings]
    if new and await repo.count(agreement.id) + len(new) > MAX_PRODUCTS:
        raise Conflict(
            f"An agreement holds at most {MAX_PRODUCTS} products (one rent invoice line each).",
            code="storage-too-many-products",
        )
    movements = []
    for position, line in enumerate(body.lines):
        product = found[line.product_id]
        _check_quantity(product, line.quantity, position)
        holding = holdings.get(product.id)
        if holding is None:
            if line.unit_value is None:
                raise RuleViolation(
                    f"lines.{position}.unit_value",
                    "The first receipt of a product under an agreement declares its value per unit.",
                    code="storage-value-required",
                )
            holding = StorageHolding(
                agreement_id=agreement.id,
                product_id=product.id,
                quantity=Decimal("0"),
                unit_value=line.unit_value.quantize(CENT),
                last_movement_on=day,
            )
            await repo.add(holding)
        else:
            if line.unit_value is not None and line.unit_value != holding.unit_value:
                raise Conflict(
                    f"Line {position + 1}: {product.name} is declared at {holding.unit_value} a unit under this "
                    "agreement; its value does not change (end the agreement and open another to revalue).",
                    code="storage-value-mismatch",
                )
            _check_order(holding, day, position)
        quantity = line.quantity.quantize(THOUSANDTH)
        if (holding.quantity + quantity) * holding.unit_value >= MAX_HOLDING_VALUE:
            raise Conflict(
                f"Line {position + 1}: the goods of {product.name} held under this agreement would be worth "
                f"₹{MAX_HOLDING_VALUE:,.0f} or more, beyond what a rent invoice can bill.",
                code="storage-value-too-large",
            )
        holding.quantity += quantity
        holding.last_movement_on = day
        movements.append(_movement(ctx, agreement, holding, "receipt", quantity, day, body.reference, body.notes))
    return await _write(session, agreement, movements)


async def release(
    session: AsyncSession, ctx: Context, agreement_id: uuid.UUID, *, body: GoodsReleaseCreate
) -> list[StorageMovement]:
    agreement = await get(session, agreement_id, for_update=True)
    day = _movement_date(ctx, agreement, body.movement_date)
    found = await _products(session, [line.product_id for line in body.lines], receiving=False)
    holdings = await StorageHoldingRepository(session).for_products(agreement.id, found)
    short: list[dict[str, str | int]] = []
    for position, line in enumerate(body.lines):
        _check_quantity(found[line.product_id], line.quantity, position)
        holding = holdings.get(line.product_id)
        held = holding.quantity if holding is not None else Decimal("0")
        if line.quantity > held:
            short.append(
                {
                    "position": position + 1,
                    "product_id": str(line.product_id),
                    "requested": f"{line.quantity.normalize():f}",
                    "held": f"{held.normalize():f}",
                }
            )
    if short:
        names = ", ".join(f"line {s['position']}" for s in short)
        raise Conflict(
            f"The agreement holds less than released on {names}.", code="storage-insufficient-goods", lines=short
        )
    movements = []
    for position, line in enumerate(body.lines):
        holding = holdings[line.product_id]
        _check_order(holding, day, position)
        quantity = line.quantity.quantize(THOUSANDTH)
        holding.quantity -= quantity
        holding.last_movement_on = day
        movements.append(_movement(ctx, agreement, holding, "release", quantity, day, body.reference, body.notes))
    return await _write(session, agreement, movements)


async def holdings(session: AsyncSession, agreement_id: uuid.UUID) -> list[tuple[StorageHolding, Product]]:
    await get(session, agreement_id)
    return await StorageHoldingRepository(session).of_agreement(agreement_id)


def _movement_date(ctx: Context, agreement: StorageAgreement, given: date | None) -> date:
    day = given or ctx.today
    if day > ctx.today:
        raise RuleViolation("movement_date", "Goods cannot move in the future.", code="date-out-of-range")
    if day < agreement.start_date:
        raise RuleViolation(
            "movement_date", f"The agreement starts on {agreement.start_date}.", code="date-out-of-range"
        )
    if day < agreement.next_period_start:
        raise Conflict(
            f"Storage up to {agreement.next_period_start} is billed already; date the movement on or after it.",
            code="storage-period-billed",
        )
    return day


def _check_order(holding: StorageHolding, day: date, position: int) -> None:
    if day < holding.last_movement_on:
        raise Conflict(
            f"Line {position + 1}: the product last moved under this agreement on {holding.last_movement_on}; "
            "movements are recorded in date order.",
            code="storage-movement-out-of-order",
        )


def _check_quantity(product: Product, quantity: Decimal, position: int) -> None:
    try:
        uqc.check_quantity(product.unit, quantity, field=f"lines.{position}.quantity")
    except DomainError as exc:
        raise as_problem(exc) from exc


async def _products(session: AsyncSession, ids: Sequence[uuid.UUID], *, receiving: bool) -> dict[uuid.UUID, Product]:
    if len(set(ids)) != len(ids):
        raise RuleViolation("lines", "Each product once per movement.", code="duplicate-product-line")
    found = await product_service.get_many(session, set(ids))
    if receiving:
        for product in found.values():
            if product.is_archived:
                raise Conflict(f"{product.name} is archived.", code="product-archived")
    return found


def _movement(
    ctx: Context,
    agreement: StorageAgreement,
    holding: StorageHolding,
    kind: str,
    quantity: Decimal,
    day: date,
    reference: str | None,
    notes: str | None,
) -> StorageMovement:
    return StorageMovement(
        id=new_id(),
        agreement_id=agreement.id,
        product_id=holding.product_id,
        kind=kind,
        quantity=quantity,
        quantity_after=holding.quantity,
        movement_date=day,
        reference=reference,
        notes=notes,
        actor_user_id=ctx.actor_id,
    )


async def _write(
    session: AsyncSession, agreement: StorageAgreement, movements: list[StorageMovement]
) -> list[StorageMovement]:
    repo = StorageMovementRepository(session)
    for movement in movements:
        await repo.add(movement)
    entries: list[dict[str, Any]] = [
        {
            "action": f"storage_goods.{m.kind}",
            "entity_type": "storage_agreement",
            "entity_id": agreement.id,
            "before": None,
            "after": audit.snapshot(m, ["id", "product_id", "kind", "quantity", "quantity_after", "movement_date"]),
        }
        for m in movements
    ]
    await audit.record_many(session, entries)
    return movements


async def _audit(
    session: AsyncSession, action: str, agreement: StorageAgreement, *, before: dict[str, Any] | None
) -> None:
    after = audit.snapshot(agreement, AUDITED)
    await audit.record(
        session, action=action, entity_type="storage_agreement", entity_id=agreement.id, before=before, after=after
    )
