"""Paid upgrades (Razorpay): order, checkout verification, the tenant's payments.

Owner/admin only, through `BillingUser`: these keep working on a locked subscription (hard_lock
mode after grace), since paying is how it unlocks.
"""

import uuid
from typing import Any

from fastapi import APIRouter, Request, Response, status

from app.api.deps import BillingUser, ContextDep, PaginationDep, SessionDep
from app.api.idempotency import IdempotentDep
from app.api.pdf_responses import PDF_RESPONSES, PdfResponse, pdf_response
from app.schemas.common import problem_responses
from app.schemas.platform.payments import CheckoutResult, PaymentPage, PaymentRead, UpgradeOrder, UpgradeRequest
from app.services.identity import users
from app.services.platform import payments, saas_invoices

router = APIRouter(prefix="/tenants", tags=["billing"], responses=problem_responses(401, 403, 422))


@router.post(
    "/upgrade",
    status_code=status.HTTP_201_CREATED,
    response_model=UpgradeOrder,
    responses=problem_responses(400, 404, 409, 502, 503),
)
async def start_upgrade(
    body: UpgradeRequest, user: BillingUser, session: SessionDep, ctx: ContextDep, idempotent: IdempotentDep
) -> Any:
    """A Razorpay order for one month of a paid plan: open Razorpay Checkout with `key_id`,
    `order_id`, `checkout_amount` (paise) and `currency`, then POST its result to `/tenants/upgrade/verify`.
    400 `plan-not-purchasable` (trial, free, inactive), 404 `plan-not-found`; Razorpay refusing
    is 502, unreachable 503 (retry). Supports `Idempotency-Key`. With RAZORPAY_MODE=sandbox no
    money moves: `sandbox` is true and `sandbox_checkout` is a paid checkout to post to verify.
    403 `email-unverified` until the caller's email is verified. 409 `platform-tenant-not-billed`
    for the platform tenant (PLATFORM_TENANT_ID), which issues the SaaS's invoices."""
    users.require_verified(user, "pay for a plan")

    async def create() -> UpgradeOrder:
        started = await payments.start_upgrade(session, ctx, plan_code=body.plan)
        payment = started.payment
        return UpgradeOrder(
            payment_id=payment.id,
            order_id=payment.razorpay_order_id,
            amount=payment.amount_paise,
            checkout_amount=payment.amount_paise,
            currency=payment.currency,
            key_id=started.key_id,
            plan=payment.plan_code,
            sandbox=payment.is_sandbox,
            sandbox_checkout=started.checkout,
        )

    return await idempotent(201, create)


@router.post("/upgrade/verify", response_model=PaymentRead, responses=problem_responses(400, 404))
async def verify_upgrade(body: CheckoutResult, _: BillingUser, session: SessionDep, ctx: ContextDep) -> PaymentRead:
    """Razorpay Checkout's result for one of this tenant's orders: the signature is checked
    (400 `signature-invalid`, nothing changes), then the payment is captured and its plan
    activated for a month, exactly once however often this is called (the webhook may have done
    it already: the answer is the same). Another tenant's order is 404."""
    payment = await payments.verify_checkout(
        session,
        ctx,
        order_id=body.razorpay_order_id,
        payment_id=body.razorpay_payment_id,
        signature=body.razorpay_signature,
    )
    return PaymentRead.model_validate(payment)


@router.get("/payments", response_model=PaymentPage, responses=problem_responses(400))
async def list_payments(_: BillingUser, session: SessionDep, page: PaginationDep) -> PaymentPage:
    """This tenant's payments (orders and what became of them), newest first."""
    rows, next_cursor = await payments.list_payments(session, limit=page.limit, cursor=page.cursor)
    return PaymentPage(items=[PaymentRead.model_validate(row) for row in rows], next_cursor=next_cursor)


@router.get(
    "/payments/{payment_id:uuid}/invoice.pdf",
    response_class=PdfResponse,
    responses={**PDF_RESPONSES, **problem_responses(404, 409)},
)
async def payment_invoice_pdf(
    payment_id: uuid.UUID, request: Request, _: BillingUser, session: SessionDep, ctx: ContextDep
) -> Response:
    """The SaaS's GST tax invoice for this captured plan payment (from the product's business to
    this tenant, with its GSTIN when set in `PUT /tenants/me`), as a PDF. 404 `payment-not-found`
    for another tenant's payment; 409 `saas-invoice-not-issued` until it is issued (shortly after
    the capture; the scheduler completes any left behind)."""
    return pdf_response(request, await saas_invoices.invoice_pdf(session, ctx, payment_id))
