"""The stock ledger: the one way any part of the app changes stock.

`take`, `put`, `reserve` and `release` each change the levels of one company for every line of a
document in a single guarded statement (app.repositories.catalog.stock): a line whose product has not
enough available stock (and negative stock is not allowed) is refused, and then nothing is written
and `InsufficientStock` names every short line. Each change appends a movement carrying the signed
changes and the levels after it, and opens (or closes) the product's low-stock alert when
`available` reaches (or leaves) its reorder level. Products that do not track stock are skipped;
lines naming the same product are merged; quantities are checked against the unit's decimals.

The caller owns the transaction: on InsufficientStock it should let the request fail (the levels
this call changed are put back in any case, so a caller that catches it still sees a true ledger).
"""

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.context import Context
from app.core.errors import InsufficientStock
from app.domain import uqc
from app.domain.errors import DomainError
from app.models.catalog.product import Product
from app.models.catalog.stock import StockMovement
from app.repositories.catalog.stock import AppliedChange, LevelDelta, Movement, StockRepository
from app.services.billing.rules import as_problem
from app.services.catalog import products
from app.services.platform import event_payloads, events

__all__ = [
    "DocumentRef",
    "InsufficientStock",
    "StockLine",
    "put",
    "refresh_alerts",
    "release",
    "reserve",
    "take",
    "take_reserved",
]
ZERO = Decimal("0")
COST_PLACES = Decimal("0.0001")
TAKE_KINDS = frozenset({"sale", "transfer_out", "adjustment"})
PUT_KINDS = frozenset({"opening", "receipt", "sale_reversal", "return", "transfer_in", "adjustment"})


@dataclass(frozen=True)
class StockLine:
    """A document line's goods: `quantity` > 0 (the unit's decimals); `position` names the line in errors."""

    product_id: uuid.UUID
    quantity: Decimal
    position: int = 0
    unit_cost: Decimal | None = None


@dataclass(frozen=True)
class DocumentRef:
    """What a movement came from: type "invoice", "credit_note", "stock_document", "order", ..."""

    type: str
    id: uuid.UUID


@dataclass(frozen=True)
class _Merged:
    product: Product
    quantity: Decimal
    position: int
    unit_cost: Decimal | None


async def take(
    session: AsyncSession,
    ctx: Context,
    *,
    company_id: uuid.UUID,
    lines: Sequence[StockLine],
    kind: str = "sale",
    document: DocumentRef,
    reason: str | None = None,
    loaded: Mapping[uuid.UUID, Product] | None = None,
) -> list[StockMovement]:
    """Decrease on_hand (kinds sale, transfer_out, adjustment); all or nothing (InsufficientStock).
    `loaded`: the lines' products as the caller read them in this transaction (an invoice has), so
    that they are not read twice."""
    _check_kind(kind, TAKE_KINDS)
    return await _change(session, ctx, company_id, lines, kind, document, reason, on_hand=-1, reserved=0, loaded=loaded)


async def put(
    session: AsyncSession,
    ctx: Context,
    *,
    company_id: uuid.UUID,
    lines: Sequence[StockLine],
    kind: str,
    document: DocumentRef,
    reason: str | None = None,
    untracked_too: bool = False,
) -> list[StockMovement]:
    """Increase on_hand (opening, receipt, sale_reversal, return, transfer_in, adjustment),
    creating the level when the product has none in this company yet. `untracked_too`: products
    that no longer track stock move too (a void or return giving back what a `take` took while
    they did: the level stays the sum of its movements, whatever the product says now)."""
    _check_kind(kind, PUT_KINDS)
    return await _change(
        session, ctx, company_id, lines, kind, document, reason, on_hand=1, reserved=0, untracked_too=untracked_too
    )


async def reserve(
    session: AsyncSession,
    ctx: Context,
    *,
    company_id: uuid.UUID,
    lines: Sequence[StockLine],
    kind: str = "reservation",
    document: DocumentRef,
    reason: str | None = None,
) -> list[StockMovement]:
    """Set stock aside (reserved += quantity, available -= quantity); all or nothing like `take`."""
    _check_kind(kind, frozenset({"reservation"}))
    return await _change(session, ctx, company_id, lines, kind, document, reason, on_hand=0, reserved=1)


async def release(
    session: AsyncSession,
    ctx: Context,
    *,
    company_id: uuid.UUID,
    lines: Sequence[StockLine],
    kind: str = "release",
    document: DocumentRef,
    reason: str | None = None,
    untracked_too: bool = False,
) -> list[StockMovement]:
    """Give reserved stock back (reserved -= quantity); more than is reserved is InsufficientStock
    (its `available` then says what is reserved). `untracked_too`: as for `put` (a reservation made
    while the product tracked stock is given back all the same)."""
    _check_kind(kind, frozenset({"release"}))
    return await _change(
        session, ctx, company_id, lines, kind, document, reason, on_hand=0, reserved=-1, untracked_too=untracked_too
    )


async def take_reserved(
    session: AsyncSession,
    ctx: Context,
    *,
    company_id: uuid.UUID,
    lines: Sequence[StockLine],
    document: DocumentRef,
    reason: str | None = None,
) -> list[StockMovement]:
    """Sell what was set aside: on_hand -= quantity AND reserved -= quantity (kind `sale`), so
    `available` does not move (the reservation had taken it already); all or nothing. A line with
    less reserved than its quantity is InsufficientStock (its `available` then says what is
    reserved). The lines are what the caller reserved, so they move whatever the product says of
    tracking now (as `release` with `untracked_too`)."""
    return await _change(
        session, ctx, company_id, lines, "sale", document, reason, on_hand=-1, reserved=-1, untracked_too=True
    )


def _check_kind(kind: str, allowed: frozenset[str]) -> None:
    if kind not in allowed:  # a programming error of the caller, not the client's
        raise ValueError(f"stock movement kind {kind!r} is not one of {sorted(allowed)}")


async def _change(
    session: AsyncSession,
    ctx: Context,
    company_id: uuid.UUID,
    lines: Sequence[StockLine],
    kind: str,
    document: DocumentRef,
    reason: str | None,
    *,
    on_hand: int,
    reserved: int,
    loaded: Mapping[uuid.UUID, Product] | None = None,
    untracked_too: bool = False,
) -> list[StockMovement]:
    if not lines:
        return []
    wanted = {line.product_id for line in lines}
    if loaded is not None and wanted <= loaded.keys():
        found = {product_id: loaded[product_id] for product_id in wanted}
    else:
        found = await products.get_many(session, wanted)
    merged = _merge(lines, found, untracked_too=untracked_too)
    if not merged:
        return []
    deltas = [
        LevelDelta(
            product_id=m.product.id,
            on_hand=m.quantity * on_hand,
            reserved=m.quantity * reserved,
            unit_cost=m.unit_cost,
            reorder_level=m.product.reorder_level if m.product.track_stock else None,  # untracked: no alerts
        )
        for m in merged
    ]
    movement = Movement(company_id, kind, document.type, document.id, reason, ctx.actor_id, ctx.now)
    repo = StockRepository(session)
    changes = await repo.apply(movement, deltas)
    if len(changes) < len(deltas):
        changed = {c.product_id for c in changes}
        short = [m for m in merged if m.product.id not in changed]
        levels = await repo.levels(company_id, [m.product.id for m in short])
        raise InsufficientStock(
            [
                {
                    "position": m.position,
                    "product_id": str(m.product.id),
                    "requested": quantity_text(m.quantity),
                    "available": quantity_text(_short_of(levels.get(m.product.id), reserved)),
                }
                for m in sorted(short, key=lambda m: m.position)
            ]
        )
    for change in changes:  # a level that crossed its reorder level just now (rare: no query otherwise)
        if change.alert_id is not None and change.alert_level is not None:
            payload = event_payloads.stock_low(
                alert_id=change.alert_id,
                product_id=change.product_id,
                company_id=company_id,
                available=change.available,
                reorder_level=change.alert_level,
                document_type=document.type,
                document_id=document.id,
            )
            await events.record(
                session, "stock.low", resource_type="product", resource_id=change.product_id, payload=payload
            )
    by_product = {d.product_id: d for d in deltas}
    return [_movement(repo.tenant_id, company_id, movement, by_product[c.product_id], c) for c in changes]


def quantity_text(quantity: Decimal) -> str:
    """A quantity as a client reads it: 2.500 -> "2.5", 4.000 -> "4" (never an exponent)."""
    text = format(quantity, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _short_of(level: tuple[Decimal, Decimal] | None, reserved: int) -> Decimal:
    """What a short line could have had: the available quantity, or for a release what is reserved."""
    if level is None:
        return ZERO
    on_hand, held = level
    return held if reserved < 0 else on_hand - held


def _merge(
    lines: Sequence[StockLine], found: dict[uuid.UUID, Product], *, untracked_too: bool = False
) -> list[_Merged]:
    """One entry per tracked product (any product with `untracked_too`; first line's position),
    quantities checked and summed; the unit cost of merged lines is their quantity-weighted mean
    (unknown if any line has none)."""
    merged: dict[uuid.UUID, _Merged] = {}
    for line in lines:
        product = found[line.product_id]
        try:
            uqc.check_quantity(product.unit, line.quantity, field=f"lines.{line.position}.quantity")
        except DomainError as error:
            raise as_problem(error) from None
        if not product.track_stock and not untracked_too:
            continue
        before = merged.get(product.id)
        if before is None:
            merged[product.id] = _Merged(product, line.quantity, line.position, line.unit_cost)
            continue
        quantity = before.quantity + line.quantity
        cost = None
        if before.unit_cost is not None and line.unit_cost is not None:
            value = before.unit_cost * before.quantity + line.unit_cost * line.quantity
            cost = (value / quantity).quantize(COST_PLACES, rounding=ROUND_HALF_UP)
        merged[product.id] = _Merged(product, quantity, before.position, cost)
    return list(merged.values())


def _movement(
    tenant_id: uuid.UUID, company_id: uuid.UUID, movement: Movement, delta: LevelDelta, change: AppliedChange
) -> StockMovement:
    """The movement the statement wrote, as a model object outside the session."""
    return StockMovement(
        tenant_id=tenant_id,
        id=change.movement_id,
        product_id=delta.product_id,
        company_id=company_id,
        kind=movement.kind,
        on_hand_change=delta.on_hand,
        reserved_change=delta.reserved,
        on_hand_after=change.on_hand,
        reserved_after=change.reserved,
        document_type=movement.document_type,
        document_id=movement.document_id,
        unit_cost=delta.unit_cost,
        reason=movement.reason,
        actor_user_id=movement.actor_user_id,
        created_at=movement.at,
    )


async def refresh_alerts(session: AsyncSession, ctx: Context, product_id: uuid.UUID) -> None:
    """Bring the product's low-stock alerts in step with its reorder level (the catalogue calls it
    when the level changes): open one where available is now at or below it, close the open ones
    above it (or all of them when the product has no reorder level any more)."""
    product = await products.get(session, product_id)
    level = product.reorder_level if product.track_stock else None
    for alert_id, company_id, available, reorder_level in await StockRepository(session).refresh_alerts(
        product.id, level, ctx.now
    ):  # a level at or below the new reorder level: it is low from now on
        payload = event_payloads.stock_low(
            alert_id=alert_id,
            product_id=product.id,
            company_id=company_id,
            available=available,
            reorder_level=reorder_level,
            document_type=None,
            document_id=None,
        )
        await events.record(session, "stock.low", resource_type="product", resource_id=product.id, payload=payload)
