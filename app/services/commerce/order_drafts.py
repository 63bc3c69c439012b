"""Draft orders (the cart): create, change, delete, and their lines; and how any order is priced.

An order's prices and GST are an invoice's: `price` runs the invoice computation
(app.services.billing.invoicing.preview: the parties, the GST settings, the rates in force today,
the products' defaults) over the order's lines, writing nothing. A draft is priced whenever it is
read; placing it fixes each line's unit price and the order's total (what the customer pays).

A draft's lines are checked as an invoice's (the product exists here and is not archived, the
quantity fits its unit) but not against the stock: `place` checks and reserves it.
"""

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.context import Context
from app.core.errors import AppError, Conflict, NotFound
from app.domain import invoice_math
from app.models.base import new_id
from app.models.commerce.order import SalesOrder, SalesOrderLine
from app.repositories.commerce.orders import SalesOrderLineRepository, SalesOrderRepository
from app.schemas.billing.invoices import MAX_LINES, InvoiceIn, InvoiceLineIn
from app.schemas.commerce.orders import OrderCreate, OrderLineIn, OrderLineUpdate, OrderUpdate
from app.services.billing import invoice_stock, invoicing
from app.services.platform import audit

AUDITED = [
    "status",
    "company_id",
    "customer_id",
    "payment_method",
    "place_of_supply",
    "total",
    "amount_paid",
    "hold_until",
    "cancel_reason",
    "invoice_id",
    "needs_attention",
    "attention_reason",
]
LINE_AUDITED = ["order_id", "position", "product_id", "quantity", "unit_price", "discount"]


@dataclass(frozen=True)
class Priced:
    """An order's lines with what an invoice of them would compute now (`computed` None: no lines,
    or `problem` says why it cannot be priced now)."""

    order: SalesOrder
    lines: list[SalesOrderLine]
    computed: invoice_math.ComputedInvoice | None
    problem: AppError | None = None


async def get(session: AsyncSession, order_id: uuid.UUID, *, for_update: bool = False) -> SalesOrder:
    order = await SalesOrderRepository(session).get(order_id, for_update=for_update)
    if order is None:
        raise NotFound("Order not found.", code="order-not-found")
    return order


async def lines_of(session: AsyncSession, order_id: uuid.UUID) -> list[SalesOrderLine]:
    return await SalesOrderLineRepository(session).of_order(order_id)


def invoice_body(order: SalesOrder, lines: list[SalesOrderLine]) -> InvoiceIn:
    """The invoice an order's lines make (dated today, place of supply the order's)."""
    return InvoiceIn.model_construct(  # of values validated already (the order's own)
        company_id=order.company_id,
        customer_id=order.customer_id,
        place_of_supply=order.place_of_supply,
        notes=order.notes,
        lines=[
            InvoiceLineIn.model_construct(
                product_id=line.product_id, quantity=line.quantity, unit_price=line.unit_price, discount=line.discount
            )
            for line in lines
        ],
    )


async def compute(
    session: AsyncSession, ctx: Context, order: SalesOrder, lines: list[SalesOrderLine]
) -> invoice_math.ComputedInvoice:
    """The invoice computation of the order's lines (a rule it breaks is the API's problem)."""
    _, computed = await invoicing.preview(session, ctx, body=invoice_body(order, lines))
    return computed


async def price(session: AsyncSession, ctx: Context, order: SalesOrder) -> Priced:
    """For a read: a draft that cannot be priced now (a product archived since, ...) is still shown."""
    lines = await lines_of(session, order.id)
    if not lines:
        return Priced(order, lines, None)
    try:  # the computation only reads: a refusal leaves the transaction as it was
        return Priced(order, lines, await compute(session, ctx, order, lines))
    except AppError as problem:
        return Priced(order, lines, None, problem)


async def create(session: AsyncSession, ctx: Context, *, body: OrderCreate) -> SalesOrder:
    await invoicing.load_parties(session, body.company_id, body.customer_id, ctx.today)  # 404 / archived: 400
    order = SalesOrder(
        id=new_id(),
        company_id=body.company_id,
        customer_id=body.customer_id,
        place_of_supply=body.place_of_supply,
        notes=body.notes,
        status="draft",
        amount_paid=0,
        amount_refunded=0,
        needs_attention=False,
        created_at=ctx.now,
        updated_at=ctx.now,
    )
    await SalesOrderRepository(session).add(order)
    lines = [
        SalesOrderLine(id=new_id(), order_id=order.id, position=n, **_line_columns(line))
        for n, line in enumerate(body.lines, start=1)
    ]
    _refuse_duplicates(lines)
    await _check_lines(session, order, lines)
    for line in lines:
        await SalesOrderLineRepository(session).add(line)
    await _audit(session, "order.created", order, before=None, lines=lines)
    return order


async def update(session: AsyncSession, ctx: Context, order_id: uuid.UUID, *, body: OrderUpdate) -> SalesOrder:
    order = await draft(session, order_id)
    before = audit.snapshot(order, [*AUDITED, "notes"])
    changes = body.model_dump(exclude_unset=True)
    if changes.get("customer_id", order.customer_id) is None:
        changes.pop("customer_id")  # an order always has its customer: null changes nothing
    if "customer_id" in changes:
        await invoicing.load_parties(session, order.company_id, changes["customer_id"], ctx.today)
    for name, value in changes.items():
        setattr(order, name, value)
    order.updated_at = ctx.now
    await session.flush()
    await audit.record(
        session,
        action="order.updated",
        entity_type="order",
        entity_id=order.id,
        before=before,
        after=audit.snapshot(order, [*AUDITED, "notes"]),
    )
    return order


async def delete(session: AsyncSession, order_id: uuid.UUID) -> None:
    order = await draft(session, order_id)
    before = audit.snapshot(order, AUDITED)
    await SalesOrderRepository(session).delete(order)
    await audit.record(session, action="order.deleted", entity_type="order", entity_id=order_id, before=before)


async def add_line(session: AsyncSession, ctx: Context, order_id: uuid.UUID, *, body: OrderLineIn) -> SalesOrderLine:
    order = await draft(session, order_id)
    repo = SalesOrderLineRepository(session)
    existing = await repo.of_order(order.id)
    same = next((line for line in existing if line.product_id == body.product_id), None)
    if same is not None:
        raise Conflict(
            "The order has a line of this product already: change its quantity (PATCH the line).",
            code="order-line-exists",
            line_id=str(same.id),
        )
    if len(existing) >= MAX_LINES:
        raise Conflict(f"An order has at most {MAX_LINES} lines.", code="order-too-many-lines")
    line = SalesOrderLine(id=new_id(), order_id=order.id, position=await repo.next_position(order.id))
    for name, value in _line_columns(body).items():
        setattr(line, name, value)
    await _check_lines(session, order, [line])
    await repo.add(line)
    await _touch(session, ctx, order)
    await audit.record(
        session, action="order.line_added", entity_type="order", entity_id=order.id, after=_line_snapshot(line)
    )
    return line


async def update_line(
    session: AsyncSession, ctx: Context, order_id: uuid.UUID, line_id: uuid.UUID, *, body: OrderLineUpdate
) -> SalesOrderLine:
    order = await draft(session, order_id)
    line = await _line(session, order, line_id)
    before = _line_snapshot(line)
    changes = body.model_dump(exclude_unset=True)
    for name in ("quantity", "discount"):  # never null: null changes nothing
        if name in changes and changes[name] is None:
            changes.pop(name)
    for name, value in changes.items():
        setattr(line, name, value)
    await _check_lines(session, order, [line])
    await session.flush()
    await _touch(session, ctx, order)
    await audit.record(
        session,
        action="order.line_updated",
        entity_type="order",
        entity_id=order.id,
        before=before,
        after=_line_snapshot(line),
    )
    return line


async def remove_line(session: AsyncSession, ctx: Context, order_id: uuid.UUID, line_id: uuid.UUID) -> None:
    order = await draft(session, order_id)
    line = await _line(session, order, line_id)
    before = _line_snapshot(line)
    await SalesOrderLineRepository(session).remove(line)
    await _touch(session, ctx, order)
    await audit.record(session, action="order.line_removed", entity_type="order", entity_id=order.id, before=before)


async def draft(session: AsyncSession, order_id: uuid.UUID) -> SalesOrder:
    """The order, locked, if it is a draft (409 `order-not-draft` once placed)."""
    order = await get(session, order_id, for_update=True)
    if order.status != "draft":
        raise Conflict(f"The order is {order.status}: only a draft changes.", code="order-not-draft")
    return order


async def _line(session: AsyncSession, order: SalesOrder, line_id: uuid.UUID) -> SalesOrderLine:
    line = await SalesOrderLineRepository(session).get(line_id)
    if line is None or line.order_id != order.id:
        raise NotFound("The order has no such line.", code="order-line-not-found")
    return line


async def _check_lines(session: AsyncSession, order: SalesOrder, lines: list[SalesOrderLine]) -> None:
    """As an invoice's product lines: 404 unknown product, 409 archived, 400 a quantity finer than its unit."""
    if lines:
        await invoice_stock.resolve(session, invoice_body(order, lines).lines)


def _refuse_duplicates(lines: list[SalesOrderLine]) -> None:
    seen: set[uuid.UUID] = set()
    for line in lines:
        if line.product_id in seen:
            raise Conflict(
                "Two lines name the same product: give it one line with the whole quantity.",
                code="order-line-exists",
                product_id=str(line.product_id),
            )
        seen.add(line.product_id)


def _line_columns(body: OrderLineIn) -> dict[str, Any]:
    return {
        "product_id": body.product_id,
        "quantity": body.quantity,
        "unit_price": body.unit_price,
        "discount": body.discount,
    }


def _line_snapshot(line: SalesOrderLine) -> dict[str, Any]:
    return audit.snapshot(line, LINE_AUDITED) | {"line_id": str(line.id)}


async def _touch(session: AsyncSession, ctx: Context, order: SalesOrder) -> None:
    order.updated_at = ctx.now
    await session.flush()


async def _audit(
    session: AsyncSession,
    action: str,
    order: SalesOrder,
    *,
    before: dict[str, Any] | None,
    lines: list[SalesOrderLine] | None = None,
) -> None:
    after = audit.snapshot(order, AUDITED)
    if lines is not None:
        after["lines"] = [_line_snapshot(line) for line in lines]
    await audit.record(session, action=action, entity_type="order", entity_id=order.id, before=before, after=after)
