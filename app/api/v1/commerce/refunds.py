"""Refunds through the tenant's own gateway (app/services/commerce/refunds.py): of an order, of an
online payment flagged for refund, and their reads."""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, status

from app.api.batch import id_list
from app.api.deps import ContextDep, CurrentUser, ManagerUser, PaginationDep, SessionDep
from app.api.fields import Selection, field_selection, respond
from app.api.idempotency import RequiredIdempotentDep
from app.repositories.commerce.refunds import RefundFilters
from app.schemas.billing.business_fields import IsoDate
from app.schemas.commerce.refunds import (
    OrderRefundCreate,
    PaymentRefundIn,
    RefundPage,
    RefundRead,
    RefundSort,
    RefundStatus,
)
from app.schemas.common import problem_responses
from app.services.commerce import refunds

router = APIRouter(tags=["refunds"], responses=problem_responses(401, 422))
Fields = Annotated[Selection, Depends(field_selection(RefundRead))]
# 400: an order line named twice; 403: not an owner or admin (money leaves the tenant's account);
# 404: the order, payment or an order line not found here; 409: more than was paid and not yet
# refunded (`refund-exceeds-paid`), less than Razorpay's ₹1 (`refund-below-minimum`), an order not
# paid online or not yet confirmed
# (`order-not-refundable`), `full` after earlier credits (`invoice-already-credited`), a credit
# note's own limits, a payment not flagged for refund (`refund-not-due`), or the Idempotency-Key in
# flight; 502/503: the gateway refused or could not be reached (nothing was written: retry with the
# same Idempotency-Key).
WRITE_ERRORS = problem_responses(400, 403, 404, 409, 502)


@router.post(
    "/orders/{sales_order_id:uuid}/refund",
    status_code=status.HTTP_201_CREATED,
    response_model=RefundRead,
    responses=WRITE_ERRORS,
)
async def refund_order(
    sales_order_id: uuid.UUID,
    body: OrderRefundCreate,
    request: Request,
    _: ManagerUser,
    session: SessionDep,
    ctx: ContextDep,
    idempotent: RequiredIdempotentDep,
) -> Any:
    """Give money back for an order paid online, through the tenant's Razorpay account: all of it
    (`"full": true`: a full credit note for its invoice; a confirmed order is cancelled), units of
    its lines (`lines`: a credit note for them), or an amount (`amount`, tax included: from the
    customer's advance first, the rest a credit note by value). `restock` returns the credited goods
    to stock. Never more than was paid and not yet refunded (409 `refund-exceeds-paid`). The refund
    starts `pending` (or `processed`) and the gateway's webhook moves it on; a failed one gives the
    amount back to the customer's advance and flags the payment for refund.

    `Idempotency-Key` is required: the gateway call is the last step of one transaction, so a
    gateway failure (502/503) leaves nothing behind and a retry with the same key refunds once."""

    async def refund() -> RefundRead:
        attempt = request.headers["idempotency-key"]
        made = await refunds.refund_order(session, ctx, sales_order_id, body=body, attempt=attempt)
        return RefundRead.model_validate(made)

    return await idempotent(201, refund)


@router.post(
    "/online-payments/{online_payment_id:uuid}/refund",
    status_code=status.HTTP_201_CREATED,
    response_model=RefundRead,
    responses=WRITE_ERRORS,
)
async def refund_online_payment(
    online_payment_id: uuid.UUID,
    body: PaymentRefundIn,
    request: Request,
    _: ManagerUser,
    session: SessionDep,
    ctx: ContextDep,
    idempotent: RequiredIdempotentDep,
) -> Any:
    """Give back the money of an online payment flagged `refund_due` (a payment for an invoice voided
    since, a late payment for an order that was cancelled): the advance its receipt left, all of it
    unless `amount` says less. No credit note (no goods go back). `Idempotency-Key` is required."""

    async def refund() -> RefundRead:
        attempt = request.headers["idempotency-key"]
        return RefundRead.model_validate(
            await refunds.refund_payment(session, ctx, online_payment_id, body=body, attempt=attempt)
        )

    return await idempotent(201, refund)


@router.get("/refunds", response_model=RefundPage, responses=problem_responses(400))
async def list_refunds(
    _: CurrentUser,
    session: SessionDep,
    fields: Fields,
    page: PaginationDep,
    online_payment_id: uuid.UUID | None = None,
    order_id: uuid.UUID | None = None,
    customer_id: uuid.UUID | None = None,
    status_: Annotated[RefundStatus | None, Query(alias="status")] = None,
    date_from: Annotated[IsoDate | None, Query(alias="from", description="Made on or after (Asia/Kolkata).")] = None,
    date_to: Annotated[IsoDate | None, Query(alias="to", description="Made on or before (Asia/Kolkata).")] = None,
    ids: Annotated[list[uuid.UUID] | None, Depends(id_list)] = None,
    sort: Annotated[RefundSort, Query()] = "-created_at",
) -> Any:
    """Refunds, newest first by default: those made here and those made in the Razorpay dashboard
    (recorded from the gateway's webhook)."""
    filters = RefundFilters(online_payment_id, order_id, customer_id, status_, date_from, date_to, ids)
    rows, next_cursor = await refunds.list_page(session, filters, limit=page.limit, cursor=page.cursor, sort=sort)
    items = [RefundRead.model_validate(row) for row in rows]
    return respond(RefundPage(items=items, next_cursor=next_cursor), fields)


@router.get("/refunds/{refund_id:uuid}", response_model=RefundRead, responses=problem_responses(404))
async def read_refund(refund_id: uuid.UUID, _: CurrentUser, session: SessionDep, fields: Fields) -> Any:
    return respond(RefundRead.model_validate(await refunds.get(session, refund_id)), fields)
