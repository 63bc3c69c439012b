"""Orders: /orders (app/services/commerce/order_drafts.py and orders.py)."""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status

from app.api.deps import ContextDep, CurrentUser, PaginationDep, SessionDep, WriterUser
from app.api.idempotency import IdempotentDep, RequiredIdempotentDep
from app.core.context import Context
from app.models.commerce.order import SalesOrder
from app.repositories.commerce.orders import OrderFilters, OrderPaymentRepository, SalesOrderRepository
from app.schemas.commerce.orders import (
    CheckoutRead,
    OrderCreate,
    OrderLineIn,
    OrderLineRead,
    OrderLineUpdate,
    OrderPaymentRead,
    OrderRead,
    OrderStatus,
    OrderSummary,
    OrderUpdate,
    PlacedOrderRead,
    PlaceRequest,
    PricingProblem,
    VerifyPaymentRequest,
)
from app.schemas.common import Page, problem_responses
from app.services.commerce import order_drafts, orders
from app.services.commerce.order_drafts import Priced

router = APIRouter(prefix="/orders", tags=["orders"], responses=problem_responses(401, 422))
# 400: a rule no schema states (a quantity finer than its unit, an archived customer or company, a
# rate not in force); 403: a viewer; 404: the order, its line, or a company, customer or product
# named in the body not found here; 409: the order's state (`order-not-draft` ...), a product
# archived or named twice (`order-line-exists`).
WRITE_ERRORS = problem_responses(400, 403, 404, 409)
ID = "/{sales_order_id:uuid}"


@router.post("", status_code=status.HTTP_201_CREATED, response_model=OrderRead, responses=WRITE_ERRORS)
async def create_order(body: OrderCreate, _: WriterUser, session: SessionDep, ctx: ContextDep) -> OrderRead:
    """A draft order (the cart) for a customer, from one company's stock. Lines may exceed the
    stock: it is checked when the order is placed."""
    return await _read(session, ctx, await order_drafts.create(session, ctx, body=body))


@router.get("", response_model=Page[OrderSummary])
async def list_orders(
    _: CurrentUser,
    session: SessionDep,
    page: PaginationDep,
    status_: Annotated[OrderStatus | None, Query(alias="status")] = None,
    customer_id: uuid.UUID | None = None,
    company_id: uuid.UUID | None = None,
    needs_attention: Annotated[
        bool | None, Query(description="true: orders paid but not honoured (stock gone, cancelled).")
    ] = None,
) -> Page[OrderSummary]:
    """Newest first."""
    filters = OrderFilters(status_, customer_id, company_id, needs_attention)
    rows, next_cursor = await SalesOrderRepository(session).list_page(filters, limit=page.limit, cursor=page.cursor)
    items = [OrderSummary.model_validate(order, from_attributes=True) for order in rows]
    return Page[OrderSummary](items=items, next_cursor=next_cursor)


@router.get(ID, response_model=OrderRead, responses=problem_responses(404))
async def read_order(sales_order_id: uuid.UUID, _: CurrentUser, session: SessionDep, ctx: ContextDep) -> OrderRead:
    """The order with its lines priced like an invoice (a draft at today's prices and rates; a
    placed order at the prices fixed when it was placed) and its online payments."""
    return await _read(session, ctx, await order_drafts.get(session, sales_order_id))


@router.patch(ID, response_model=OrderRead, responses=WRITE_ERRORS)
async def update_order(
    sales_order_id: uuid.UUID, body: OrderUpdate, _: WriterUser, session: SessionDep, ctx: ContextDep
) -> OrderRead:
    """A draft's customer, place of supply or notes."""
    return await _read(session, ctx, await order_drafts.update(session, ctx, sales_order_id, body=body))


@router.delete(ID, status_code=status.HTTP_204_NO_CONTENT, responses=problem_responses(403, 404, 409))
async def delete_order(sales_order_id: uuid.UUID, _: WriterUser, session: SessionDep) -> Response:
    """A draft only (a placed order is cancelled instead)."""
    await order_drafts.delete(session, sales_order_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(ID + "/lines", status_code=status.HTTP_201_CREATED, response_model=OrderRead, responses=WRITE_ERRORS)
async def add_order_line(
    sales_order_id: uuid.UUID, body: OrderLineIn, _: WriterUser, session: SessionDep, ctx: ContextDep
) -> OrderRead:
    """Add a product to a draft (one line per product: 409 `order-line-exists` names the line to change)."""
    await order_drafts.add_line(session, ctx, sales_order_id, body=body)
    return await _read(session, ctx, await order_drafts.get(session, sales_order_id))


@router.patch(ID + "/lines/{order_line_id:uuid}", response_model=OrderRead, responses=WRITE_ERRORS)
async def update_order_line(
    sales_order_id: uuid.UUID,
    order_line_id: uuid.UUID,
    body: OrderLineUpdate,
    _: WriterUser,
    session: SessionDep,
    ctx: ContextDep,
) -> OrderRead:
    await order_drafts.update_line(session, ctx, sales_order_id, order_line_id, body=body)
    return await _read(session, ctx, await order_drafts.get(session, sales_order_id))


@router.delete(ID + "/lines/{order_line_id:uuid}", response_model=OrderRead, responses=problem_responses(403, 404, 409))
async def remove_order_line(
    sales_order_id: uuid.UUID, order_line_id: uuid.UUID, _: WriterUser, session: SessionDep, ctx: ContextDep
) -> OrderRead:
    await order_drafts.remove_line(session, ctx, sales_order_id, order_line_id)
    return await _read(session, ctx, await order_drafts.get(session, sales_order_id))


@router.post(ID + "/place", response_model=PlacedOrderRead, responses=problem_responses(400, 403, 404, 409, 502, 503))
async def place_order(
    sales_order_id: uuid.UUID,
    body: PlaceRequest,
    _: WriterUser,
    session: SessionDep,
    ctx: ContextDep,
    idempotent: RequiredIdempotentDep,
) -> Any:
    """Reserve the stock of every line, all or nothing (409 `insufficient-stock` names each short
    line; 409 `order-empty` without lines), fix the prices and the total, and open the payment:

    - `online`: a gateway order for the total on the tenant's Razorpay account (409
      `gateway-not-configured` in live mode without one; 502/503 when Razorpay fails: nothing is
      reserved then). The stock is held for ORDER_HOLD_MINUTES (`hold_until`); `checkout` has
      Razorpay Checkout's options. The payment confirms the order (webhook or verify-payment).
    - `pay_later` (cash on delivery): the stock stays reserved, with no hold time, until the order
      is fulfilled (the tax invoice is then issued on the customer's account) or cancelled.

    `Idempotency-Key` is required: a retry returns the same placed order and gateway order."""

    async def run() -> PlacedOrderRead:
        placed = await orders.place(session, ctx, sales_order_id, payment_method=body.payment_method)
        read = await _read(session, ctx, placed.order, priced=placed.priced)
        checkout = CheckoutRead.model_validate(placed.checkout) if placed.checkout is not None else None
        return PlacedOrderRead(**read.model_dump(), checkout=checkout)

    return await idempotent(200, run)


@router.post(ID + "/verify-payment", response_model=OrderRead, responses=problem_responses(400, 403, 404, 409, 503))
async def verify_order_payment(
    sales_order_id: uuid.UUID,
    body: VerifyPaymentRequest,
    _: WriterUser,
    session: SessionDep,
    ctx: ContextDep,
    idempotent: IdempotentDep,
) -> Any:
    """Razorpay Checkout's signed result (400 `signature-invalid` if it does not match, nothing
    written). The payment is captured as its webhook would: the order confirmed (invoice issued,
    stock taken from the reservation, receipt allocated), exactly once however often this and the
    webhooks arrive; paid after the hold ended: confirmed if the stock is still there, else kept
    as the customer's advance and the order flagged `needs_attention`."""

    async def run() -> OrderRead:
        order, _outcome = await orders.verify_payment(session, ctx, sales_order_id, body=body)
        return await _read(session, ctx, order)

    return await idempotent(200, run)


@router.post(ID + "/cancel", response_model=OrderRead, responses=problem_responses(403, 404, 409))
async def cancel_order(sales_order_id: uuid.UUID, _: WriterUser, session: SessionDep, ctx: ContextDep) -> OrderRead:
    """A placed order not yet paid: its reservation released. A paid (confirmed) order is
    cancelled by refunding it (409 `order-not-cancellable`)."""
    return await _read(session, ctx, await orders.cancel(session, ctx, sales_order_id))


@router.post(ID + "/fulfil", response_model=OrderRead, responses=problem_responses(400, 403, 404, 409))
async def fulfil_order(
    sales_order_id: uuid.UUID, _: WriterUser, session: SessionDep, ctx: ContextDep, idempotent: IdempotentDep
) -> Any:
    """The goods were delivered. A confirmed order becomes `fulfilled`; a placed `pay_later` order
    is confirmed first (its tax invoice issued on the customer's account, the reserved stock taken:
    the goods leave now). An online order not yet paid: 409 `order-not-paid`."""

    async def run() -> OrderRead:
        return await _read(session, ctx, await orders.fulfil(session, ctx, sales_order_id))

    return await idempotent(200, run)


async def _read(session: SessionDep, ctx: Context, order: SalesOrder, priced: Priced | None = None) -> OrderRead:
    priced = priced if priced is not None else await order_drafts.price(session, ctx, order)
    computed = priced.computed
    figures = {line.position: line for line in computed.lines} if computed else {}
    lines = []
    for n, line in enumerate(priced.lines, start=1):
        c = figures.get(n)
        lines.append(
            OrderLineRead(
                id=line.id,
                position=line.position,
                product_id=line.product_id,
                description=c.description if c else None,
                hsn_sac=c.hsn_sac if c else None,
                quantity=line.quantity,
                unit=c.unit if c else None,
                unit_price=c.unit_price if c else line.unit_price,
                discount=line.discount,
                gst_rate=c.gst_rate if c else None,
                taxable_value=c.amounts.taxable_value if c else None,
                tax=c.amounts.tax if c else None,
                total=c.amounts.total if c else None,
            )
        )
    totals = computed.totals if computed else None
    payments = await OrderPaymentRepository(session).of_order(order.id)
    problem = priced.problem
    return OrderRead(
        id=order.id,
        company_id=order.company_id,
        customer_id=order.customer_id,
        status=order.status,
        payment_method=order.payment_method,
        place_of_supply=computed.place_of_supply if computed else order.place_of_supply,
        supply_type=computed.supply_type.value if computed else None,
        notes=order.notes,
        lines=lines,
        taxable_value=totals.taxable_value if totals else None,
        tax_total=totals.tax_total if totals else None,
        round_off=totals.round_off if totals else None,
        total=order.total if order.total is not None else (totals.total if totals else None),
        pricing_problem=PricingProblem(code=problem.code, detail=problem.detail) if problem else None,
        amount_paid=order.amount_paid,
        amount_refunded=order.amount_refunded,
        hold_until=order.hold_until,
        placed_at=order.placed_at,
        confirmed_at=order.confirmed_at,
        fulfilled_at=order.fulfilled_at,
        cancelled_at=order.cancelled_at,
        cancel_reason=order.cancel_reason,
        invoice_id=order.invoice_id,
        needs_attention=order.needs_attention,
        attention_reason=order.attention_reason,
        payments=[OrderPaymentRead.model_validate(p, from_attributes=True) for p in payments],
        created_at=order.created_at,
        updated_at=order.updated_at,
    )
