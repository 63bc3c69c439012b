"""Refunds through the tenant's own gateway (issue 12 §3): of an order (all of it, by lines or by
an amount), of an online payment flagged for refund, and the gateway's refund events.

Where the money comes from. An online payment was recorded as a receipt (mode razorpay), allocated
to the order's or the link's invoice; what it was not allocated is the customer's advance. A
refund by lines or in full first makes a credit note for the refunded goods against the invoice
(app.services.billing.credit_notes.create_refunding): the note settles what the invoice still
owed, and what that lacks is released from the receipt's allocation back to its advance. The
refund then pays back from the advance: the receipt's `amount_refunded`, the payment's and the
order's `amount_refunded` rise by it, and so does the customer's balance (the ledger shows it as a
debit). A refund by amount takes the advance first, then credits the rest by value. A refund that
fails at the gateway gives all of this back (the credit note stays: the amount is the customer's
advance again, and the payment is flagged `refund_due`).

Ordering against the gateway (one transaction; a gateway failure leaves nothing). Every row is
written and flushed first, so that every rule (409 above what was paid, the credit note's own
limits, stock) refuses before any money moves; the gateway's refund is the LAST step, and only
its id and status are written after it. A 5xx, a timeout or a refusal raises (503/502) and the
request's transaction rolls back: no refund row, no credit note, no stock movement. The refund's
`receipt` at Razorpay is derived from the request's Idempotency-Key (and the tenant and payment),
so a retry of the same request sends the same receipt and the same body; the gateway client
sends it as Razorpay's `X-Refund-Idempotency` key too, so that a retry after a timeout whose
refund did go through is answered with that same refund instead of paying twice. Should the
refund's webhook have been applied before the retry (it records a refund it does not know as
made in the dashboard), the retry finds that refund id recorded and answers 409
`refund-already-recorded`: the money went back once and is in the books once, without a credit
note (make one with POST /credit-notes if goods came back). The reverse gap (the gateway paid
and our commit failed) is the same case. Writing the refund row first in its own transaction
would leave a pending refund behind every gateway failure, which is what the issue forbids.

Lock order, as the webhook's: the online payment, then the order, then the receipt, then the
invoice (the credit note), then the customer's balance.

Events (`on_refund_event`, called by the per-tenant webhook with the payment and the refund row
locked, deduped by event id): states move forward only (pending -> processed | failed; a stale or
repeated event changes nothing), so events may come in any order; a refund made in the Razorpay
dashboard (no row of ours) is recorded as it is, its money taken from the receipt's advance and,
beyond it, released from the receipt's allocation to the invoice (the invoice owes it again)."""

import hashlib
import logging
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.context import Context
from app.core.errors import Conflict, NotFound, PaymentGatewayError, RuleViolation
from app.models.billing.receipt import Receipt
from app.models.commerce.online_payment import REFUND_STATUSES, OnlinePayment, Refund
from app.models.commerce.order import SalesOrder, SalesOrderLine
from app.repositories.billing.customers import CustomerRepository
from app.repositories.billing.receipts import ReceiptRepository
from app.repositories.commerce.online_payments import OnlinePaymentRepository
from app.repositories.commerce.orders import OrderPaymentRepository, SalesOrderLineRepository, SalesOrderRepository
from app.repositories.commerce.refunds import RefundFilters, RefundRepository
from app.schemas.billing.credit_notes import FullCreditNoteIn, PartialCreditNoteIn, QuantityCredit, ValueCredit
from app.schemas.commerce.refunds import AmountRefundIn, FullRefundIn, LinesRefundIn, PaymentRefundIn
from app.services.billing import credit_notes, invoicing, ledger, receipts
from app.services.commerce import payment_gateways
from app.services.platform import audit, event_payloads, events

log = logging.getLogger(__name__)

AUDITED = [
    "status",
    "amount",
    "online_payment_id",
    "order_id",
    "customer_id",
    "receipt_id",
    "razorpay_refund_id",
    "credit_note_id",
    "restock",
    "reason",
    "failure_reason",
    "processed_at",
    "failed_at",
]
PAYMENT_AUDITED = ["amount_refunded", "refund_due", "refund_due_reason"]
ORDER_AUDITED = ["status", "amount_refunded", "cancelled_at", "cancel_reason"]
ATTENTION_AUDITED = ["status", "needs_attention", "attention_reason"]
REFUNDABLE_ORDERS = ("confirmed", "fulfilled", "cancelled")
EVENT_STATUSES = {"created": "pending", "pending": "pending", "processed": "processed", "failed": "failed"}
DASHBOARD = "Refunded in the Razorpay dashboard"
PAISE = Decimal(100)
MINIMUM_REFUND = Decimal("1.00")  # rupees: Razorpay's smallest refund
CENT = Decimal("0.01")


async def get(session: AsyncSession, refund_id: uuid.UUID) -> Refund:
    refund = await RefundRepository(session).get(refund_id)
    if refund is None:
        raise NotFound("Refund not found.", code="refund-not-found")
    return refund


# --- an order's refund ------------------------------------------------------------------------


async def refund_order(
    session: AsyncSession,
    ctx: Context,
    order_id: uuid.UUID,
    *,
    body: FullRefundIn | LinesRefundIn | AmountRefundIn,
    attempt: str,
) -> Refund:
    """Refund the order's online payment, all of it, by lines or by an amount (module docstring).
    `attempt`: the request's Idempotency-Key (the gateway's refund receipt derives from it)."""
    found = await SalesOrderRepository(session).get(order_id)
    if found is None:
        raise NotFound("Order not found.", code="order-not-found")
    order_lines = await _named_lines(session, found, body)  # unknown lines: 404 before any rule
    payments = await OrderPaymentRepository(session).of_order(found.id)
    paid = next((p for p in payments if p.status == "paid"), None)  # the first paid, should there be more
    if paid is None:
        raise Conflict(
            f"A {found.status} order with no online payment has nothing to refund through the gateway.",
            code="order-not-refundable",
        )
    payment = await _locked_payment(session, paid.id)
    order = await _locked_order(session, found.id)
    if order.status not in REFUNDABLE_ORDERS:
        raise Conflict(f"A {order.status} order cannot be refunded.", code="order-not-refundable")
    receipt = await _locked_receipt(session, payment)
    refundable = payment_refundable(payment)
    if refundable <= 0:
        raise _exceeds(payment, Decimal("0.01"))
    note_id: uuid.UUID | None = None
    restock = False
    if isinstance(body, AmountRefundIn):
        if body.amount > refundable:
            raise _exceeds(payment, body.amount)
        from_advance = min(advance(receipt), body.amount)
        amount = from_advance
        rest = body.amount - from_advance
        if rest > 0:
            if order.invoice_id is None:
                raise _exceeds(payment, body.amount)
            lines: list[QuantityCredit | ValueCredit] = [
                *await credit_notes.value_credits(session, order.invoice_id, rest)
            ]
            by_value = PartialCreditNoteIn.model_construct(
                invoice_id=order.invoice_id, reason=body.reason, credit_note_date=None, restock=False, lines=lines
            )
            note, released = await credit_notes.create_refunding(
                session, ctx, body=by_value, receipt_id=receipt.id, total=rest
            )
            note_id, amount = note.id, amount + released
    elif isinstance(body, FullRefundIn) and order.invoice_id is None:
        # no invoice (a late payment kept as an advance): all of it is the advance
        amount = min(advance(receipt), refundable)
    else:
        if order.invoice_id is None:
            raise Conflict(
                "The order has no invoice to credit goods against; refund an amount instead.",
                code="order-not-invoiced",
            )
        restock = body.restock
        note_body = await _goods_credit(session, order, body, order_lines)
        note, released = await credit_notes.create_refunding(session, ctx, body=note_body, receipt_id=receipt.id)
        note_id = note.id
        # all of it: the whole advance (an overpayment too) goes back with the goods
        amount = min(advance(receipt), refundable) if isinstance(body, FullRefundIn) else released
    if amount <= 0:
        raise Conflict(
            "The credit note only reduced what the invoice still owed: nothing paid is left to give back.",
            code="nothing-to-refund",
        )
    if amount > refundable:
        raise _exceeds(payment, amount)
    cancels = isinstance(body, FullRefundIn) and order.status == "confirmed"
    return await _pay_out(
        session,
        ctx,
        payment,
        receipt,
        order,
        amount=amount,
        reason=body.reason,
        credit_note_id=note_id,
        restock=restock,
        attempt=attempt,
        cancels=cancels,
    )


async def _named_lines(
    session: AsyncSession, order: SalesOrder, body: FullRefundIn | LinesRefundIn | AmountRefundIn
) -> dict[uuid.UUID, SalesOrderLine]:
    """The order's lines a refund by lines names (404 for one not of this order, 400 named twice)."""
    if not isinstance(body, LinesRefundIn):
        return {}
    if len({line.order_line_id for line in body.lines}) < len(body.lines):
        raise RuleViolation("lines", "Name each order line once.", code="duplicate-order-line")
    order_lines = {line.id: line for line in await SalesOrderLineRepository(session).of_order(order.id)}
    if any(line.order_line_id not in order_lines for line in body.lines):
        raise NotFound("The order has no line with this id.", code="order-line-not-found")
    return order_lines


async def _goods_credit(
    session: AsyncSession,
    order: SalesOrder,
    body: FullRefundIn | LinesRefundIn,
    order_lines: dict[uuid.UUID, SalesOrderLine],
) -> FullCreditNoteIn | PartialCreditNoteIn:
    """The credit note's body: the whole invoice, or the invoice lines of the order's lines named."""
    assert order.invoice_id is not None
    if isinstance(body, FullRefundIn):
        return FullCreditNoteIn.model_construct(
            invoice_id=order.invoice_id, reason=body.reason, credit_note_date=None, restock=body.restock, full=True
        )
    invoice = await invoicing.get(session, order.invoice_id)
    by_product = {line.product_id: line for line in invoice.lines if line.product_id is not None}
    credits: list[QuantityCredit | ValueCredit] = []
    for line_in in body.lines:
        order_line = order_lines.get(line_in.order_line_id)
        invoice_line = by_product.get(order_line.product_id) if order_line is not None else None
        if invoice_line is None:
            raise NotFound("The order has no line with this id.", code="order-line-not-found")
        credits.append(QuantityCredit.model_construct(invoice_line_id=invoice_line.id, quantity=line_in.quantity))
    return PartialCreditNoteIn.model_construct(
        invoice_id=order.invoice_id, reason=body.reason, credit_note_date=None, restock=body.restock, lines=credits
    )


# --- a flagged payment's refund ----------------------------------------------------------------


async def refund_payment(
    session: AsyncSession, ctx: Context, payment_id: uuid.UUID, *, body: PaymentRefundIn, attempt: str
) -> Refund:
    """Pay back the advance an online payment flagged `refund_due` left (its invoice voided, its
    order cancelled or not honoured): all of it unless `amount` says less. No credit note: no goods
    and no invoice are involved (a voided invoice is credited by its void)."""
    payment = await _locked_payment(session, payment_id)
    if payment.status != "paid" or not payment.refund_due:
        raise Conflict(
            "Only a paid online payment flagged for refund is refunded here; refund an order's goods with "
            "POST /orders/{id}/refund.",
            code="refund-not-due",
        )
    order = await _locked_order(session, payment.order_id) if payment.order_id is not None else None
    receipt = await _locked_receipt(session, payment)
    refundable = min(payment_refundable(payment), advance(receipt))
    amount = body.amount if body.amount is not None else refundable
    if amount <= 0 or amount > refundable:
        raise _exceeds(payment, amount, advance_left=advance(receipt))
    return await _pay_out(
        session,
        ctx,
        payment,
        receipt,
        order,
        amount=amount,
        reason=body.reason,
        credit_note_id=None,
        restock=False,
        attempt=attempt,
        cancels=False,
    )


# --- the money going back -----------------------------------------------------------------------


def payment_refundable(payment: OnlinePayment) -> Decimal:
    """What of the payment may still go back: paid less refunded (refunds not failed)."""
    return (payment.amount_paid or Decimal("0.00")) - payment.amount_refunded


def advance(receipt: Receipt) -> Decimal:
    """What of the receipt is neither allocated nor refunded: the customer's advance on it."""
    return receipt.amount - receipt.amount_allocated - receipt.amount_refunded


def gateway_receipt(tenant_id: uuid.UUID | None, payment_id: uuid.UUID, attempt: str) -> str:
    """The refund's `receipt` (and idempotency key) at the gateway: the same for every retry of one
    request (same tenant, payment and Idempotency-Key), 36 characters of [a-z0-9_]."""
    digest = hashlib.sha256(f"{tenant_id}:{payment_id}:{attempt}".encode()).hexdigest()
    return f"rfd_{digest[:32]}"


async def _pay_out(
    session: AsyncSession,
    ctx: Context,
    payment: OnlinePayment,
    receipt: Receipt,
    order: SalesOrder | None,
    *,
    amount: Decimal,
    reason: str,
    credit_note_id: uuid.UUID | None,
    restock: bool,
    attempt: str,
    cancels: bool,
) -> Refund:
    """Write the refund and its money's moves, then (last) ask the gateway to pay it out."""
    if amount < MINIMUM_REFUND:  # the gateway would refuse it (a 502 after every rule said yes)
        raise Conflict(
            f"Razorpay refunds ₹{MINIMUM_REFUND} at least; {amount} is less. Settle it another way "
            "(e.g. keep it as the customer's advance).",
            code="refund-below-minimum",
        )
    repo = RefundRepository(session)
    refund = Refund(
        online_payment_id=payment.id,
        order_id=payment.order_id,
        customer_id=payment.customer_id,
        receipt_id=receipt.id,
        amount=amount,
        status="pending",
        credit_note_id=credit_note_id,
        restock=restock,
        reason=reason,
    )
    await repo.add(refund)
    entries = await _move_money(session, ctx, refund, payment, receipt, order, amount, cancels=cancels)
    if payment.refund_due and advance(receipt) <= 0:
        payment.refund_due = False
        entries += _attention(ctx, order, needed=False, reason=None)
    await session.flush()  # every rule has answered: only now does money move
    if payment.razorpay_payment_id is None:  # a paid payment always has it (a CHECK)
        raise Conflict("The payment has no gateway payment to refund.", code="order-not-refundable")
    gateway = await payment_gateways.client_for(session, ctx)
    made = await gateway.refund(
        payment_id=payment.razorpay_payment_id,
        amount_paise=int(amount * PAISE),
        receipt=gateway_receipt(ctx.tenant_id, payment.id, attempt),
        notes={"online_payment_id": str(payment.id), "order_id": str(payment.order_id or "")},
    )
    if made.status == "failed":
        raise PaymentGatewayError("Razorpay refused the refund; nothing was refunded.")
    if await repo.by_razorpay_refund_id(made.id) is not None:
        raise Conflict(
            f"Razorpay's refund {made.id} is recorded already (its webhook came first): it was refunded once.",
            code="refund-already-recorded",
        )
    refund.razorpay_refund_id, refund.status = made.id, made.status
    if made.status == "processed":
        refund.processed_at = ctx.now
    await session.flush()
    entries.append(
        {"action": "refund.created", "entity_type": "refund", "entity_id": refund.id, "after": _snapshot(refund)}
    )
    await audit.record_many(session, entries)
    return refund


async def _move_money(
    session: AsyncSession,
    ctx: Context,
    refund: Refund,
    payment: OnlinePayment,
    receipt: Receipt,
    order: SalesOrder | None,
    amount: Decimal,
    *,
    cancels: bool = False,
) -> list[dict[str, Any]]:
    """`amount` (negative: a failed refund's money coming back) off the receipt's advance, onto the
    customer's balance and the payment's and order's amount refunded; the audit entries."""
    if await ReceiptRepository(session).refund(receipt.id, amount) is None:
        raise _exceeds(payment, amount, advance_left=advance(receipt))
    await CustomerRepository(session).add_to_balance(refund.customer_id, amount)
    payment_before = audit.snapshot(payment, PAYMENT_AUDITED)
    payment.amount_refunded += amount
    entries: list[dict[str, Any]] = [
        {
            "action": "online_payment.refunded" if amount > 0 else "online_payment.refund_failed",
            "entity_type": "online_payment",
            "entity_id": payment.id,
            "before": payment_before,
            "after": audit.snapshot(payment, PAYMENT_AUDITED),
        }
    ]
    if order is not None:
        order_before = audit.snapshot(order, ORDER_AUDITED)
        order.amount_refunded = max(order.amount_refunded + amount, Decimal("0.00"))
        action = "order.refunded"
        if cancels:
            order.status, order.cancelled_at, order.cancel_reason = "cancelled", ctx.now, "refunded"
            action = "order.cancelled"
            payload = event_payloads.order(order, payment_id=payment.id) | {"reason": "refunded"}
            await events.record(
                session, "order.cancelled", resource_type="order", resource_id=order.id, payload=payload
            )
        entries.append(
            {
                "action": action,
                "entity_type": "order",
                "entity_id": order.id,
                "before": order_before,
                "after": audit.snapshot(order, ORDER_AUDITED),
            }
        )
    return entries


def _exceeds(payment: OnlinePayment, asked: Decimal, *, advance_left: Decimal | None = None) -> Conflict:
    refundable = payment_refundable(payment)
    if advance_left is not None:
        refundable = min(refundable, advance_left)
    return Conflict(
        f"Refunding {asked} exceeds what was paid and not yet refunded ({max(refundable, Decimal('0.00'))}: "
        f"paid {payment.amount_paid}, refunded {payment.amount_refunded}).",
        code="refund-exceeds-paid",
    )


# --- the gateway's events ------------------------------------------------------------------------


async def on_refund_event(
    session: AsyncSession,
    ctx: Context,
    payment: OnlinePayment,
    refund: Refund | None,
    *,
    razorpay_refund_id: str,
    status: str,
    amount_paise: int,
    reason: str | None,
) -> str:
    """A refund event (refund.created / refund.processed / refund.failed) for `payment`: `refund`
    is ours when it was made through the API (None: made in the Razorpay dashboard). Rows locked
    by the caller (payment, then refund). Answers the outcome (the event's record keeps it)."""
    state = EVENT_STATUSES.get(status)
    if state is None or state not in REFUND_STATUSES:
        return "ignored_unknown_status"
    repo = RefundRepository(session)
    if refund is None:
        refund = await repo.by_razorpay_refund_id(razorpay_refund_id)
    if refund is None:
        return await _record_external(session, ctx, payment, razorpay_refund_id, state, amount_paise, reason)
    if refund.online_payment_id != payment.id:
        log.warning("refund %s is not of payment %s; event ignored", razorpay_refund_id, payment.id)
        return "ignored_other_payment"
    if refund.status == state:
        return "duplicate"
    if refund.status != "pending" or state == "pending":  # forward only: processed and failed are final
        return "ignored_stale"
    before = _snapshot(refund)
    entries: list[dict[str, Any]] = []
    if state == "processed":
        refund.status, refund.processed_at = "processed", ctx.now
    else:
        entries = await _give_back(session, ctx, refund, payment, reason)
    await session.flush()
    entries.append(
        {
            "action": f"refund.{state}",
            "entity_type": "refund",
            "entity_id": refund.id,
            "before": before,
            "after": _snapshot(refund),
        }
    )
    await audit.record_many(session, entries)
    return state


async def _give_back(
    session: AsyncSession, ctx: Context, refund: Refund, payment: OnlinePayment, reason: str | None
) -> list[dict[str, Any]]:
    """A refund failed: its money is the customer's advance again, the payment flagged for refund
    (the credit note, the restocked goods and a cancelled order stay as they are)."""
    order = await _locked_order(session, refund.order_id) if refund.order_id is not None else None
    receipt = await _locked_receipt(session, payment)
    entries = await _move_money(session, ctx, refund, payment, receipt, order, -refund.amount)
    refund.status, refund.failed_at = "failed", ctx.now
    refund.failure_reason = (reason or "The gateway reported the refund failed.")[:500]
    payment.refund_due = True
    payment.refund_due_reason = f"Refund {refund.razorpay_refund_id} failed: {refund.failure_reason}"
    return entries + _attention(ctx, order, needed=True, reason=payment.refund_due_reason)


def _attention(ctx: Context, order: SalesOrder | None, *, needed: bool, reason: str | None) -> list[dict[str, Any]]:
    """An order flagged `needs_attention` (its payment could not buy it) is resolved once that
    payment's money is back with the customer; a refund that fails flags it again. The audit entry."""
    if order is None or order.needs_attention == needed:
        return []
    before = audit.snapshot(order, ATTENTION_AUDITED)
    order.needs_attention, order.attention_reason, order.updated_at = needed, reason, ctx.now
    return [
        {
            "action": "order.needs_attention" if needed else "order.attention_resolved",
            "entity_type": "order",
            "entity_id": order.id,
            "before": before,
            "after": audit.snapshot(order, ATTENTION_AUDITED),
        }
    ]


async def _record_external(
    session: AsyncSession,
    ctx: Context,
    payment: OnlinePayment,
    razorpay_refund_id: str,
    state: str,
    amount_paise: int,
    reason: str | None,
) -> str:
    """A refund we did not make (the Razorpay dashboard): record it as it stands."""
    amount = (Decimal(amount_paise) / PAISE).quantize(CENT)
    if amount <= 0:
        return "ignored_bad_amount"
    refund = Refund(
        online_payment_id=payment.id,
        order_id=payment.order_id,
        customer_id=payment.customer_id,
        receipt_id=payment.receipt_id,
        amount=amount,
        status=state,
        razorpay_refund_id=razorpay_refund_id,
        reason=f"{DASHBOARD}: {reason}" if reason else DASHBOARD,
    )
    entries: list[dict[str, Any]] = []
    if state == "failed":  # nothing moved: on the record only
        refund.failed_at, refund.failure_reason = ctx.now, DASHBOARD
    else:
        if payment.receipt_id is None or amount > payment_refundable(payment):
            log.warning(
                "refund %s of %s exceeds what payment %s has unrefunded", razorpay_refund_id, amount, payment.id
            )
            return "ignored_exceeds_paid"
        order = await _locked_order(session, payment.order_id) if payment.order_id is not None else None
        receipt = await _locked_receipt(session, payment)
        short = amount - advance(receipt)
        if short > 0:  # beyond the advance: the invoice it paid owes that much again
            invoice_id = payment.invoice_id or (order.invoice_id if order is not None else None)
            if invoice_id is None:
                log.warning("refund %s exceeds the advance of payment %s", razorpay_refund_id, payment.id)
                return "ignored_exceeds_paid"
            invoice = await invoicing.get(session, invoice_id, for_update=True)
            entries.append(await receipts.release(session, ctx, receipt.id, invoice, short))
        if state == "processed":
            refund.processed_at = ctx.now
        entries += await _move_money(session, ctx, refund, payment, receipt, order, amount)
    await RefundRepository(session).add(refund)
    entries.append(
        {"action": "refund.recorded", "entity_type": "refund", "entity_id": refund.id, "after": _snapshot(refund)}
    )
    await audit.record_many(session, entries)
    return "recorded_external"


# --- rows ---------------------------------------------------------------------------------------


async def _locked_payment(session: AsyncSession, payment_id: uuid.UUID) -> OnlinePayment:
    payment = await OnlinePaymentRepository(session).get(payment_id, for_update=True)
    if payment is None:
        raise NotFound("Online payment not found.", code="online-payment-not-found")
    return payment


async def _locked_order(session: AsyncSession, order_id: uuid.UUID) -> SalesOrder:
    order = await SalesOrderRepository(session).lock(order_id)
    if order is None:
        raise NotFound("Order not found.", code="order-not-found")
    return order


async def _locked_receipt(session: AsyncSession, payment: OnlinePayment) -> Receipt:
    if payment.receipt_id is None:
        raise Conflict("The payment has no receipt recorded yet; nothing to refund.", code="refund-exceeds-paid")
    return await receipts.get(session, payment.receipt_id, for_update=True)


def _snapshot(refund: Refund) -> dict[str, Any]:
    return audit.snapshot(refund, AUDITED)


async def list_page(
    session: AsyncSession, filters: RefundFilters, *, limit: int, cursor: str | None, sort: str
) -> tuple[list[Refund], str | None]:
    for field, day in (("from", filters.date_from), ("to", filters.date_to)):
        if day is not None:
            ledger.check_day(field, day)
    return await RefundRepository(session).list_page(filters, limit=limit, cursor=cursor, sort=sort)
