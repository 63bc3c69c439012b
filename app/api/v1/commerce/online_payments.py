"""Pay by link and online payments: POST /invoices/{id}/payment-link, GET /online-payments,
GET /online-payments/{id}, POST /online-payments/{id}/verify (app/services/commerce/payment_links.py,
online_payments.py)."""

import uuid
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, status

from app.api.deps import ContextDep, CurrentUser, PaginationDep, SessionDep, WriterUser
from app.api.idempotency import RequiredIdempotentDep
from app.repositories.commerce.online_payments import OnlinePaymentFilters
from app.schemas.commerce.online_payments import (
    PAYMENT_ID_PATTERN,
    LinkVerified,
    LinkVerify,
    OnlinePaymentPage,
    OnlinePaymentPurpose,
    OnlinePaymentRead,
    OnlinePaymentSort,
    OnlinePaymentStatus,
    PaymentLinkCreate,
    PaymentLinkRead,
)
from app.schemas.common import problem_responses
from app.services.commerce import online_payments, payment_links

links_router = APIRouter(prefix="/invoices", tags=["online payments"], responses=problem_responses(401, 422))
router = APIRouter(prefix="/online-payments", tags=["online payments"], responses=problem_responses(401, 422))
# 400: a link longer than PAYMENT_LINK_MAX_TTL_DAYS (`payment-link-too-long`); 404: no such invoice
# here; 409: a draft, void or settled invoice, a balance under ₹1, no gateway configured
# (`gateway-not-configured`), or the Idempotency-Key in flight; 502/503: the gateway refused or
# did not answer (nothing is written: retry with the same key).
LINK_ERRORS = problem_responses(400, 403, 404, 409, 502, 503)


@links_router.post(
    "/{invoice_id:uuid}/payment-link",
    status_code=status.HTTP_201_CREATED,
    response_model=PaymentLinkRead,
    responses=LINK_ERRORS,
)
async def create_payment_link(
    invoice_id: uuid.UUID,
    _: WriterUser,
    session: SessionDep,
    ctx: ContextDep,
    idempotent: RequiredIdempotentDep,
    body: PaymentLinkCreate | None = None,
) -> Any:
    """A Razorpay Payment Link, on the tenant's own account, for the invoice's balance due: its
    reference is the invoice number, it expires (`expires_in_days`), it names the customer's
    contact; the public invoice page shows it as "Pay now" beside the UPI QR. The answer has the
    link, a message and a WhatsApp link carrying it. One open link per invoice: an open link for the
    same balance is answered again (`reused`); one for another amount (the invoice was part paid
    since) is replaced and cancelled. Once paid (webhook or verify), a receipt (mode razorpay) is
    allocated to the invoice exactly once. `Idempotency-Key` is required."""

    async def make() -> PaymentLinkRead:
        days = body.expires_in_days if body is not None else None
        made = await payment_links.make(session, ctx, invoice_id, ttl=timedelta(days=days) if days else None)
        payment = made.payment
        return PaymentLinkRead(
            payment=OnlinePaymentRead.of(payment, now=ctx.now),
            invoice_number=made.invoice.number,
            short_url=payment.short_url or "",
            amount=payment.amount,
            expires_at=payment.expires_at,
            reused=made.reused,
            message=made.message,
            whatsapp_url=made.whatsapp_url,
            sandbox_pay_url=made.sandbox_pay_url,
        )

    return await idempotent(201, make)


@router.get("", response_model=OnlinePaymentPage, responses=problem_responses(400))
async def list_online_payments(
    _: CurrentUser,
    session: SessionDep,
    ctx: ContextDep,
    page: PaginationDep,
    purpose: OnlinePaymentPurpose | None = None,
    status_: Annotated[OnlinePaymentStatus | None, Query(alias="status")] = None,
    invoice_id: uuid.UUID | None = None,
    order_id: uuid.UUID | None = None,
    customer_id: uuid.UUID | None = None,
    refund_due: Annotated[
        bool | None, Query(description="true: payments whose money should go back (e.g. for a void invoice).")
    ] = None,
    razorpay_payment_id: Annotated[str | None, Query(pattern=PAYMENT_ID_PATTERN, max_length=64)] = None,
    sort: Annotated[OnlinePaymentSort, Query()] = "-created_at",
) -> Any:
    """Payment links and gateway orders of the tenant's customers, newest first by default."""
    filters = OnlinePaymentFilters(
        purpose, status_, invoice_id, order_id, customer_id, refund_due, razorpay_payment_id, now=ctx.now
    )
    rows, next_cursor = await online_payments.list_page(
        session, filters, limit=page.limit, cursor=page.cursor, sort=sort
    )
    return OnlinePaymentPage(items=[OnlinePaymentRead.of(row, now=ctx.now) for row in rows], next_cursor=next_cursor)


@router.get("/{online_payment_id:uuid}", response_model=OnlinePaymentRead, responses=problem_responses(404))
async def read_online_payment(
    online_payment_id: uuid.UUID, _: CurrentUser, session: SessionDep, ctx: ContextDep
) -> OnlinePaymentRead:
    return OnlinePaymentRead.of(await online_payments.get(session, online_payment_id), now=ctx.now)


@router.post(
    "/{online_payment_id:uuid}/verify",
    response_model=LinkVerified,
    responses=problem_responses(400, 403, 404, 409),
)
async def verify_payment_link(
    online_payment_id: uuid.UUID, body: LinkVerify, _: WriterUser, session: SessionDep, ctx: ContextDep
) -> LinkVerified:
    """A Payment Link's callback, as Razorpay signs it (the query parameters it adds to the callback
    URL), relayed by an app that received it. The signature is checked with the tenant's key
    secret (400 `signature-invalid`, nothing written); a paid link is then recorded as the webhooks
    record it: one receipt, whichever arrives first and however often. The customer's own browser
    lands on the public page GET /pay/<ticket>, which does the same."""
    payment, outcome = await online_payments.verify_link(
        session,
        ctx,
        online_payment_id,
        razorpay_payment_id=body.razorpay_payment_id,
        link_id=body.razorpay_payment_link_id,
        reference_id=body.razorpay_payment_link_reference_id,
        link_status=body.razorpay_payment_link_status,
        signature=body.razorpay_signature,
    )
    return LinkVerified(payment=OnlinePaymentRead.of(payment, now=ctx.now), outcome=outcome)
