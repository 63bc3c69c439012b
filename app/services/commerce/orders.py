"""Orders (issue 12 §3): place, pay, confirm, fulfil, cancel and the hold's expiry.

States move forward: draft -> placed -> confirmed -> fulfilled, or placed -> cancelled (by the
shop: `cancel`, or by the scheduled job when the hold ends: `expire_due`). Each change is audited.

- `place` prices the order like an invoice (app.services.commerce.order_drafts.compute), fixes
  each line's unit price and the total, and reserves the stock of every line, all or nothing (409
  `insufficient-stock` naming the short lines). `online`: a gateway order for the total is made on
  the tenant's Razorpay account BEFORE the stock is reserved (the HTTP call holds no stock lock; a
  gateway failure, 502/503, rolls the request back with nothing reserved; a reservation refused
  after it leaves an unused gateway order, which no one can pay: nobody got its id), and the stock is
  held until `hold_until` (settings ORDER_HOLD_MINUTES). `pay_later` (cash on delivery): the stock
  stays reserved with no hold time until the order is fulfilled or cancelled.
- A capture (webhook or Checkout's verify, through online_payments.on_captured, which marks the
  payment paid exactly once with its row locked) calls `on_payment_captured`: in one transaction
  the tax invoice is issued from the order (invoicing.create, issue, no stock moved there), the
  reservation becomes the sale (stock.take_reserved: on_hand and reserved down, as `sale`
  movements of the invoice, so a void or a credit note's restock gives them back), the receipt is
  recorded and allocated to the invoice (online_payments.record_receipt), the order confirmed.
- A capture after the hold ended (the job released the stock and cancelled the order,
  `hold_expired`): the stock is reserved again if it is available, and the order is confirmed as
  above: the one move back from `cancelled`, documented in README "Orders" (the customer paid for
  it; the cancellation was only the shop's bookkeeping of an unpaid hold). If the stock is gone it is
  never oversold: the payment is recorded as the customer's advance (a receipt not allocated), the
  order stays cancelled and is flagged `needs_attention`, the payment `refund_due` (refund it with
  POST /orders/{id}/refund, or use the advance against another invoice). A payment for an order
  the shop cancelled (`cancelled`), or a second payment for a confirmed one, is kept the same way.
- Locks: a payment row before its order row, everywhere (a capture's order, which the webhook
  and verify lock first), so that a capture, a cancel and an expiry racing on one order queue
  instead of deadlocking, and the second finds the first's outcome.
- `fulfil`: a confirmed order's goods were delivered. A placed `pay_later` order is confirmed
  (invoice issued on the customer's account, the reservation taken) and fulfilled at once: the
  goods leave now (the time of supply); the cash collected is a receipt (POST /receipts).
"""

import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.context import Context
from app.core.errors import AppError, Conflict, InsufficientStock, NotFound, SignatureInvalid
from app.domain import invoice_math
from app.domain.errors import DomainError
from app.models.base import new_id
from app.models.commerce.online_payment import OnlinePayment
from app.models.commerce.order import SalesOrder, SalesOrderLine
from app.repositories.commerce.orders import OrderPaymentRepository, OrderStockRepository, SalesOrderRepository
from app.schemas.commerce.orders import VerifyPaymentRequest
from app.services.billing import invoicing
from app.services.billing.rules import as_problem
from app.services.catalog import stock
from app.services.catalog.stock import DocumentRef, StockLine
from app.services.commerce import online_payments, order_drafts, payment_gateways
from app.services.commerce.gateway_client import SandboxTenantGateway
from app.services.commerce.order_drafts import AUDITED
from app.services.platform import audit, event_payloads, events

CURRENCY = "INR"
EXPIRY_BATCH = 500  # orders expired per tenant and run; the rest in the next run (every minute)


@dataclass(frozen=True)
class Placed:
    order: SalesOrder
    checkout: dict[str, Any] | None  # online: Razorpay Checkout's options
    priced: order_drafts.Priced  # as placed (the answer need not price it again)


async def place(session: AsyncSession, ctx: Context, order_id: uuid.UUID, *, payment_method: str) -> Placed:
    order = await order_drafts.draft(session, order_id)
    lines = await order_drafts.lines_of(session, order.id)
    if not lines:
        raise Conflict("An order needs at least one line to be placed.", code="order-empty")
    parties, computed = await invoicing.preview(session, ctx, body=order_drafts.invoice_body(order, lines))
    try:  # what issuing its invoice will check of the recipient (CGST Rule 46), before taking any money
        invoice_math.check_rule_46(parties.customer, computed.totals.taxable_value)
    except DomainError as exc:
        raise as_problem(exc) from exc
    total = computed.totals.total
    if total <= 0:
        raise Conflict("The order's total is zero: there is nothing to pay for.", code="order-total-zero")
    before = audit.snapshot(order, AUDITED)
    checkout: dict[str, Any] | None = None
    payment: OnlinePayment | None = None
    if payment_method == "online":  # before the stock is reserved: no level is locked during the call
        client = await payment_gateways.client_for(session, ctx)
        paise = int(total * 100)
        notes = {"order_id": str(order.id)}
        gateway_order = await client.create_order(amount_paise=paise, receipt=str(order.id), notes=notes)
        hold_until = ctx.now + timedelta(minutes=ctx.settings.order_hold_minutes)
        payment = OnlinePayment(
            id=new_id(),
            purpose="order",
            order_id=order.id,
            company_id=order.company_id,
            customer_id=order.customer_id,
            gateway_kind="order",
            gateway_ref=gateway_order.id,
            amount=total,
            status="created",
            is_sandbox=client.sandbox,
            expires_at=hold_until,
            amount_refunded=Decimal("0.00"),
            refund_due=False,
        )
        company, customer = parties.company, parties.customer
        prefill = {"name": customer.name, "email": customer.email or "", "contact": customer.phone or ""}
        checkout = {
            "key": client.key_id,
            "order_id": gateway_order.id,
            "amount": paise,
            "currency": CURRENCY,
            "name": company.trade_name or company.legal_name,
            "description": f"Order {order.id}",
            "prefill": {name: value for name, value in prefill.items() if value},
            "notes": notes,
            "sandbox": client.sandbox,
            "sandbox_payment": (
                client.sandbox_pay_order(gateway_order.id) if isinstance(client, SandboxTenantGateway) else None
            ),
        }
    await _reserve(session, ctx, order, lines)
    for line, figures in zip(lines, computed.lines, strict=True):
        line.unit_price = figures.unit_price  # what the customer is asked to pay, fixed
    order.status, order.payment_method, order.total = "placed", payment_method, total
    order.placed_at = order.updated_at = ctx.now
    order.hold_until = payment.expires_at if payment is not None else None
    if payment is not None:
        await OrderPaymentRepository(session).add(payment)
        await audit.record(
            session,
            action="online_payment.created",
            entity_type="online_payment",
            entity_id=payment.id,
            after=audit.snapshot(payment, online_payments.AUDITED),
        )
    await session.flush()
    await _audit(session, "order.placed", order, before=before, gateway_order=payment.gateway_ref if payment else None)
    await _event(session, "order.placed", order, payment_id=payment.id if payment else None)
    return Placed(order, checkout, order_drafts.Priced(order, lines, computed))


async def cancel(session: AsyncSession, ctx: Context, order_id: uuid.UUID) -> SalesOrder:
    """A placed order, before it is paid: its reservation released, `cancelled`."""
    await order_drafts.get(session, order_id)  # 404 first
    await OrderPaymentRepository(session).of_order(order_id, for_update=True)  # payments before the order
    order = await _lock(session, order_id)
    if order.status != "placed":
        detail = {
            "draft": "A draft is deleted (DELETE), not cancelled.",
            "cancelled": "The order is cancelled already.",
        }.get(order.status, "The order is paid (confirmed): refund it (POST /orders/{id}/refund) to cancel it.")
        raise Conflict(detail, code="order-not-cancellable", order_status=order.status)
    await _end(session, ctx, order, reason="cancelled")
    return order


async def expire_due(session: AsyncSession, ctx: Context) -> Counter[str]:
    """The scheduled job's step for one tenant: every placed order whose hold ended by `ctx.now`
    and is not paid is cancelled (`hold_expired`) and its stock released."""
    done: Counter[str] = Counter()
    for order_id in await SalesOrderRepository(session).expired_holds(ctx.now, EXPIRY_BATCH):
        await OrderPaymentRepository(session).of_order(order_id, for_update=True)
        order = await _lock(session, order_id)
        # a capture that committed while this run waited for the locks confirmed it: nothing to do
        if order.status == "placed" and order.hold_until is not None and order.hold_until <= ctx.now:
            await _end(session, ctx, order, reason="hold_expired")
            done["orders_expired"] += 1
    return done


async def fulfil(session: AsyncSession, ctx: Context, order_id: uuid.UUID) -> SalesOrder:
    order = await order_drafts.get(session, order_id)
    await OrderPaymentRepository(session).of_order(order_id, for_update=True)
    order = await _lock(session, order_id)
    if order.status == "placed" and order.payment_method == "pay_later":
        await _confirm(session, ctx, order, payment=None, revived=False)
    elif order.status == "placed":
        raise Conflict("The order is not paid yet: it is fulfilled once confirmed.", code="order-not-paid")
    if order.status != "confirmed":
        raise Conflict(
            f"The order is {order.status}: only a confirmed order is fulfilled.", code="order-not-fulfillable"
        )
    before = audit.snapshot(order, AUDITED)
    order.status, order.fulfilled_at, order.updated_at = "fulfilled", ctx.now, ctx.now
    await session.flush()
    await _audit(session, "order.fulfilled", order, before=before)
    await _event(session, "order.fulfilled", order)
    return order


async def verify_payment(
    session: AsyncSession, ctx: Context, order_id: uuid.UUID, *, body: VerifyPaymentRequest
) -> tuple[SalesOrder, str]:
    """Checkout's signed result for the order's gateway order: checked with the tenant's key
    secret (400 `signature-invalid`, nothing written), then captured as a webhook would."""
    await order_drafts.get(session, order_id)
    repo = OrderPaymentRepository(session)
    payment = next((p for p in await repo.of_order(order_id) if p.gateway_ref == body.razorpay_order_id), None)
    if payment is None:  # a payment of another order (or none): its signature is not this order's
        raise SignatureInvalid("The payment signature does not match this order.")
    client = await payment_gateways.client_for(session, ctx)
    ok = client.checkout_signature_ok(body.razorpay_order_id, body.razorpay_payment_id, body.razorpay_signature)
    if payment.is_sandbox != client.sandbox or not ok:
        raise SignatureInvalid("The payment signature does not match this order.")
    locked = await repo.lock(payment.id)
    if locked is None:  # payments are never deleted: read just above
        raise NotFound("Order not found.", code="order-not-found")
    outcome = await online_payments.on_captured(
        session,
        ctx,
        locked,
        razorpay_payment_id=body.razorpay_payment_id,
        amount_paise=int(locked.amount * 100),  # a gateway order is paid in full (no partial payments)
        source="verify",
    )
    return await order_drafts.get(session, order_id), outcome


async def on_payment_captured(session: AsyncSession, ctx: Context, payment: OnlinePayment) -> str:
    """`payment` (purpose order) was just marked paid (by online_payments.on_captured, row locked):
    confirm the order (stock taken, invoice issued, receipt allocated) or, when it cannot be
    honoured, keep the money as an advance and flag the order. Answers the outcome."""
    if payment.order_id is None or payment.receipt_id is not None:
        return "already_recorded"
    order = await _lock(session, payment.order_id)
    if order.status == "placed":
        return await _confirm_or_keep(session, ctx, order, payment, revived=False)
    if order.status == "cancelled" and order.cancel_reason == "hold_expired":
        return await _confirm_or_keep(session, ctx, order, payment, revived=True)
    if order.status == "cancelled":
        return await _keep(session, ctx, order, payment, "Paid for an order that was cancelled.")
    return await _keep(session, ctx, order, payment, f"A further payment for an order already {order.status}.")


async def _confirm_or_keep(
    session: AsyncSession, ctx: Context, order: SalesOrder, payment: OnlinePayment, *, revived: bool
) -> str:
    """Confirm the paid order; if the invoice cannot be issued now (a product or the customer
    archived since it was placed, a tax rate closed, the plan's invoice limit ...), the money is
    still recorded, as the customer's advance, and the order flagged: a capture must never fail
    (Razorpay would retry it for days while the money sits unrecorded). Such an order keeps its
    state (a placed one its reservation until the hold ends and the job releases it); the flagged
    payment is refunded, or its advance used on another invoice."""
    try:
        async with session.begin_nested():
            if revived:  # paid after the hold ended: its stock again, if it is still there
                lines = await order_drafts.lines_of(session, order.id)
                await _reserve(session, ctx, order, lines, reason="paid after the hold ended")
            await _confirm(session, ctx, order, payment=payment, revived=revived)
    except AppError as refused:
        # the savepoint's writes are undone: read the order and the payment again as they are now
        order = await _lock(session, order.id)
        await session.refresh(payment)
        return await _keep(session, ctx, order, payment, _why(refused))
    return "order_confirmed_late" if revived else "order_confirmed"


async def _confirm(
    session: AsyncSession, ctx: Context, order: SalesOrder, *, payment: OnlinePayment | None, revived: bool
) -> None:
    """The reservation becomes a sale: invoice issued (no stock moved by it), the order's reserved
    stock taken as the invoice's sale, the payment's receipt allocated, the order confirmed."""
    before = audit.snapshot(order, AUDITED)
    lines = await order_drafts.lines_of(session, order.id)
    invoice = await invoicing.create(
        session, ctx, body=order_drafts.invoice_body(order, lines), issue=True, stock_kind=None
    )
    held = await OrderStockRepository(session).reserved_by(order.id)
    if held:
        positions = {line.product_id: line.position for line in lines}
        await stock.take_reserved(
            session,
            ctx,
            company_id=order.company_id,
            lines=[StockLine(pid, quantity, positions.get(pid, 0)) for pid, quantity in sorted(held.items())],
            document=DocumentRef("invoice", invoice.id),
            reason=f"order {order.id}",
        )
    if payment is not None:
        await online_payments.record_receipt(session, ctx, payment, invoice_id=invoice.id)
        order.amount_paid += payment.amount_paid or Decimal("0.00")
    order.status, order.invoice_id, order.confirmed_at, order.updated_at = "confirmed", invoice.id, ctx.now, ctx.now
    if revived:
        order.cancelled_at = order.cancel_reason = None
    await session.flush()
    action = "order.confirmed_after_expiry" if revived else "order.confirmed"
    await _audit(session, action, order, before=before, payment_id=str(payment.id) if payment else None)
    await _event(session, "order.confirmed", order, payment_id=payment.id if payment else None, late=revived)


def _why(refused: AppError) -> str:
    if isinstance(refused, InsufficientStock):
        short = ", ".join(f"line {s['position']} ({s['available']} available)" for s in refused.extra["lines"])
        return f"Paid after the hold ended; the stock was gone: {short}."
    return f"Paid, but the order could not be invoiced ({refused.code}): {refused.detail}"


async def _keep(session: AsyncSession, ctx: Context, order: SalesOrder, payment: OnlinePayment, reason: str) -> str:
    """Money that cannot buy the order: an unallocated receipt (the customer's advance), the
    payment flagged for refund, the order flagged for a person to look at."""
    before = audit.snapshot(order, AUDITED)
    await online_payments.record_receipt(session, ctx, payment, invoice_id=None)
    payment.refund_due, payment.refund_due_reason = True, reason
    order.amount_paid += payment.amount_paid or Decimal("0.00")
    order.needs_attention, order.attention_reason, order.updated_at = True, reason, ctx.now
    await session.flush()
    await _audit(session, "order.needs_attention", order, before=before, payment_id=str(payment.id))
    return "order_needs_attention"


async def _reserve(
    session: AsyncSession, ctx: Context, order: SalesOrder, lines: list[SalesOrderLine], reason: str | None = None
) -> None:
    await stock.reserve(
        session,
        ctx,
        company_id=order.company_id,
        lines=[StockLine(line.product_id, line.quantity, line.position) for line in lines],
        document=DocumentRef("order", order.id),
        reason=reason,
    )


async def _end(session: AsyncSession, ctx: Context, order: SalesOrder, *, reason: str) -> None:
    """Cancel a placed order (its payments' rows locked by the caller): the stock it holds released
    (whatever its products say of tracking now), its unpaid payments closed."""
    before = audit.snapshot(order, AUDITED)
    held = await OrderStockRepository(session).reserved_by(order.id)
    if held:
        await stock.release(
            session,
            ctx,
            company_id=order.company_id,
            lines=[StockLine(pid, quantity) for pid, quantity in sorted(held.items())],
            document=DocumentRef("order", order.id),
            reason=reason,
            untracked_too=True,
        )
    closed = "expired" if reason == "hold_expired" else "cancelled"
    for payment in await OrderPaymentRepository(session).of_order(order.id, for_update=True):  # locked already
        if payment.status in ("created", "failed"):  # a later capture may still pay it (then: on_payment_captured)
            payment_before = audit.snapshot(payment, online_payments.AUDITED)
            payment.status, payment.updated_at = closed, ctx.now
            await audit.record(
                session,
                action=f"online_payment.{closed}",
                entity_type="online_payment",
                entity_id=payment.id,
                before=payment_before,
                after=audit.snapshot(payment, online_payments.AUDITED) | {"reason": reason},
            )
    order.status, order.cancel_reason, order.cancelled_at, order.updated_at = "cancelled", reason, ctx.now, ctx.now
    await session.flush()
    action = "order.hold_expired" if reason == "hold_expired" else "order.cancelled"
    await _audit(session, action, order, before=before)
    await _event(session, "order.cancelled", order, reason=reason)  # by the business, or its hold expired


async def _lock(session: AsyncSession, order_id: uuid.UUID) -> SalesOrder:
    order = await SalesOrderRepository(session).lock(order_id)
    if order is None:
        raise NotFound("Order not found.", code="order-not-found")
    return order


async def _audit(
    session: AsyncSession, action: str, order: SalesOrder, *, before: dict[str, Any], **extra: Any
) -> None:
    after = audit.snapshot(order, AUDITED) | {k: v for k, v in extra.items() if v is not None}
    await audit.record(session, action=action, entity_type="order", entity_id=order.id, before=before, after=after)


async def _event(
    session: AsyncSession, event_type: str, order: SalesOrder, *, payment_id: uuid.UUID | None = None, **extra: Any
) -> None:
    payload = event_payloads.order(order, payment_id=payment_id) | extra
    await events.record(session, event_type, resource_type="order", resource_id=order.id, payload=payload)
