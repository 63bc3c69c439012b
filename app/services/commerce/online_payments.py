"""Online payments of a tenant's customers: what a capture or a failure does (issue 12 §2), and
reading them (GET /online-payments).

Exactly once. A capture reaches us several ways, each possibly many times and in any order: the
webhooks `payment_link.paid` and `payment.captured` (app/api/v1/commerce/gateway_webhooks.py) and
the client-side verify of a Payment Link's callback (`verify_link`). Each locks the payment's
row first (`SELECT ... FOR UPDATE`), then `on_captured` moves it to paid with a guarded
`UPDATE ... WHERE status <> 'paid'`: only the call whose UPDATE matched writes the receipt, in the
same transaction, so the others (queued on the lock) find it paid and do nothing. A unique index
on (tenant, razorpay_payment_id) backs it. States only move forward: a failure after the capture
changes nothing, a capture after a failure, an expiry or a cancellation still records the money
(it was received).

The receipt (`record_receipt`): mode razorpay, reference = Razorpay's payment id, the amount
actually paid, dated the day of capture (India), numbered from the company's receipt series; it is
allocated to the invoice up to its balance due at that moment, and what is left stays on the
receipt as the customer's advance (a payment larger than the balance: the invoice was partly paid
meanwhile, in cash or by another link). A payment for a void invoice stays wholly unallocated and
the payment is flagged `refund_due` (POST /online-payments/{id}/refund sends it back).
"""

import hashlib
import logging
import uuid
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.context import Context
from app.core.errors import Conflict, NotFound, SignatureInvalid
from app.domain.statuses import SETTLEABLE_STATUSES, InvoiceStatus
from app.models.base import new_id
from app.models.billing.invoice import Invoice
from app.models.billing.receipt import Receipt, ReceiptAllocation
from app.models.commerce.online_payment import OnlinePayment
from app.repositories.billing.customers import CustomerRepository
from app.repositories.billing.invoices import InvoiceRepository
from app.repositories.billing.receipts import ReceiptRepository
from app.repositories.commerce.online_payments import OnlinePaymentFilters, OnlinePaymentRepository
from app.repositories.commerce.orders import SalesOrderRepository
from app.services.billing import gst_settings, invoicing, numbering
from app.services.billing import receipts as receipt_service
from app.services.commerce import payment_gateways
from app.services.platform import audit, event_payloads, events

log = logging.getLogger(__name__)

PAISE = Decimal("0.01")
AUDITED = [
    "purpose",
    "invoice_id",
    "order_id",
    "gateway_kind",
    "gateway_ref",
    "amount",
    "status",
    "razorpay_payment_id",
    "amount_paid",
    "paid_at",
    "receipt_id",
    "failure_reason",
    "refund_due",
    "refund_due_reason",
]


async def get(session: AsyncSession, payment_id: uuid.UUID, *, for_update: bool = False) -> OnlinePayment:
    payment = await OnlinePaymentRepository(session).get(payment_id, for_update=for_update)
    if payment is None:
        raise NotFound("Online payment not found.", code="online-payment-not-found")
    return payment


async def list_page(
    session: AsyncSession, filters: OnlinePaymentFilters, *, limit: int, cursor: str | None, sort: str
) -> tuple[list[OnlinePayment], str | None]:
    return await OnlinePaymentRepository(session).list_page(filters, limit=limit, cursor=cursor, sort=sort)


async def on_captured(
    session: AsyncSession,
    ctx: Context,
    payment: OnlinePayment,
    *,
    razorpay_payment_id: str,
    amount_paise: int,
    source: str,
) -> str:
    """The gateway says `payment` was paid (source: "webhook" or "verify"); row locked by the
    caller. The first call marks it paid and records the money (a receipt for an invoice, the
    order's confirmation for an order); every later one answers what it found and changes nothing.
    The outcome: paid, paid-advance (part or all of it is the customer's advance), paid-refund-due,
    the order's outcome, already-paid, or another-payment-<outcome> (a second, different payment
    for a link or order already paid: recorded on an online payment of its own, `_another_payment`)."""
    if payment.status == "paid" and payment.razorpay_payment_id == razorpay_payment_id:
        return "already-paid"
    if amount_paise <= 0:
        log.error("online payment %s: capture of %s paise from %s ignored", payment.id, amount_paise, source)
        return "no-amount"
    if payment.status == "paid":
        return await _another_payment(
            session, ctx, payment, razorpay_payment_id=razorpay_payment_id, amount_paise=amount_paise, source=source
        )
    amount = (Decimal(amount_paise) / 100).quantize(PAISE)
    repo = OnlinePaymentRepository(session)
    before = audit.snapshot(payment, AUDITED)
    if not await repo.mark_paid(payment, razorpay_payment_id=razorpay_payment_id, amount_paid=amount, at=ctx.now):
        return "already-paid"  # the caller's lock makes this unreachable; kept as the guard
    if amount != payment.amount:
        log.warning("online payment %s: asked %s, paid %s (%s)", payment.id, payment.amount, amount, source)
    await audit.record(
        session,
        action="online_payment.paid",
        entity_type="online_payment",
        entity_id=payment.id,
        before=before,
        after=audit.snapshot(payment, AUDITED) | {"source": source},
    )
    if payment.purpose == "order":
        from app.services.commerce import orders  # orders imports this module (record_receipt)

        return await orders.on_payment_captured(session, ctx, payment)
    receipt = await record_receipt(session, ctx, payment, invoice_id=payment.invoice_id)
    if payment.refund_due:
        return "paid-refund-due"
    return "paid" if receipt.amount_allocated == receipt.amount else "paid-advance"


async def _another_payment(
    session: AsyncSession,
    ctx: Context,
    payment: OnlinePayment,
    *,
    razorpay_payment_id: str,
    amount_paise: int,
    source: str,
) -> str:
    """A second, different payment captured for a link or gateway order already paid (the buyer
    paid twice; Razorpay captured both): money received all the same. It is recorded once, on an
    online payment of its own (same purpose, invoice or order; its gateway_ref is the original's
    followed by `#` and the payment id), then captured as any: an order's goes through
    orders.on_payment_captured (kept as the customer's advance, the order flagged); an invoice's
    is allocated to what the invoice still owes, and what could not be allocated is flagged for
    refund. `payment` (the original) is locked by the caller, so replays queue and find it."""
    repo = OnlinePaymentRepository(session)
    if await repo.by_razorpay_payment_id(razorpay_payment_id, for_update=True) is not None:
        return "already-paid"
    log.warning(
        "online payment %s (%s) paid by %s, and %s says %s paid it too: recorded as a payment of its own",
        payment.id,
        payment.gateway_ref,
        payment.razorpay_payment_id,
        source,
        razorpay_payment_id,
    )
    ref = f"{payment.gateway_ref}#{razorpay_payment_id}"
    if len(ref) > 64:  # ids longer than Razorpay's: a digest keeps it unique
        ref = "extra#" + hashlib.sha256(ref.encode()).hexdigest()[:58]
    amount = (Decimal(amount_paise) / 100).quantize(PAISE)
    extra = await repo.add(
        OnlinePayment(
            id=new_id(),
            purpose=payment.purpose,
            invoice_id=payment.invoice_id,
            order_id=payment.order_id,
            company_id=payment.company_id,
            customer_id=payment.customer_id,
            gateway_kind=payment.gateway_kind,
            gateway_ref=ref,
            amount=amount,
            status="created",
            is_sandbox=payment.is_sandbox,
            expires_at=None,
            amount_refunded=Decimal("0.00"),
            refund_due=False,
        )
    )
    await audit.record(
        session,
        action="online_payment.created",
        entity_type="online_payment",
        entity_id=extra.id,
        after=audit.snapshot(extra, AUDITED) | {"another_payment_of": str(payment.id)},
    )
    outcome = await on_captured(
        session, ctx, extra, razorpay_payment_id=razorpay_payment_id, amount_paise=amount_paise, source=source
    )
    if extra.purpose == "invoice" and extra.receipt_id is not None and not extra.refund_due:
        receipt = await ReceiptRepository(session).get(extra.receipt_id)
        if receipt is not None and receipt.amount_allocated == 0:
            before = audit.snapshot(extra, AUDITED)
            _flag_refund(
                extra, f"A second payment of {payment.gateway_ref}, paid already by {payment.razorpay_payment_id}."
            )
            await session.flush()
            await audit.record(
                session,
                action="online_payment.refund_due",
                entity_type="online_payment",
                entity_id=extra.id,
                before=before,
                after=audit.snapshot(extra, AUDITED),
            )
            outcome = "paid-refund-due"
    return f"another-payment-{outcome}"[:40]


async def on_failed(
    session: AsyncSession, ctx: Context, payment: OnlinePayment, *, razorpay_payment_id: str | None, reason: str | None
) -> str:
    """The gateway says an attempt to pay `payment` failed; row locked by the caller. A link stays
    payable (the buyer may try again), so `failed` is not final; a paid, expired or cancelled
    payment stays as it is."""
    if payment.status == "paid":
        return "already-paid"
    before = audit.snapshot(payment, AUDITED)
    if not await OnlinePaymentRepository(session).mark_failed(payment, reason=(reason or "")[:500] or None):
        return f"already-{payment.status}"
    await audit.record(
        session,
        action="online_payment.failed",
        entity_type="online_payment",
        entity_id=payment.id,
        before=before,
        after=audit.snapshot(payment, AUDITED) | {"attempt": razorpay_payment_id},
    )
    return "failed"


async def record_receipt(
    session: AsyncSession, ctx: Context, payment: OnlinePayment, *, invoice_id: uuid.UUID | None
) -> Receipt:
    """The receipt of a paid OnlinePayment (row locked by the caller): mode razorpay, reference =
    its razorpay_payment_id, amount = amount_paid, allocated to `invoice_id` up to its balance due
    (the rest is the customer's advance); a void invoice takes nothing and flags the payment
    `refund_due`. Sets payment.receipt_id. Called once per payment (409 if it has a receipt)."""
    if payment.status != "paid" or payment.amount_paid is None or payment.razorpay_payment_id is None:
        raise Conflict("Only a paid online payment has a receipt.", code="online-payment-not-paid")
    if payment.receipt_id is not None:
        raise Conflict("This online payment has its receipt already.", code="online-payment-has-receipt")
    amount = payment.amount_paid
    day = ctx.today
    settings = await gst_settings.get(session)
    # Lock order as receipts.create: the receipt series, then the invoice, then the customer.
    number, fy = await numbering.assign(
        session,
        company_id=payment.company_id,
        document_type="receipt",
        day=day,
        pattern=settings.receipt_number_pattern,
    )
    invoice = await InvoiceRepository(session).get(invoice_id, for_update=True) if invoice_id is not None else None
    receipt = await ReceiptRepository(session).add(
        Receipt(
            company_id=payment.company_id,
            customer_id=payment.customer_id,
            number=number,
            financial_year=fy,
            receipt_date=day,
            amount=amount,
            amount_allocated=Decimal("0.00"),
            mode="razorpay",
            reference=payment.razorpay_payment_id,
            notes=_notes(payment, invoice),
            status="active",
        )
    )
    allocations: list[ReceiptAllocation] = []
    paid_off: Invoice | None = None  # the invoice as the allocation settled it
    if invoice is not None and invoice.status == InvoiceStatus.void:
        _flag_refund(payment, f"Paid {amount} for invoice {invoice.number}, which is void.")
    elif invoice is not None and invoice.status in SETTLEABLE_STATUSES:
        share = min(amount, invoice.balance_due)
        if share > 0:
            allocations, paid_off = await _allocate(session, receipt, invoice, share, day)
    await CustomerRepository(session).add_to_balance(receipt.customer_id, -amount)
    payment.receipt_id = receipt.id
    await session.flush()
    await audit.record(
        session,
        action="receipt.created",
        entity_type="receipt",
        entity_id=receipt.id,
        after=audit.snapshot(receipt, receipt_service.AUDITED)
        | {"allocations": [{"invoice_id": str(a.invoice_id), "amount": str(a.amount)} for a in allocations]}
        | {"online_payment_id": str(payment.id)},
    )
    payload = event_payloads.receipt(receipt, allocations) | {"online_payment_id": payment.id}
    await events.record(session, "receipt.created", resource_type="receipt", resource_id=receipt.id, payload=payload)
    if allocations and invoice is not None and paid_off is not None:
        await invoicing.record_paid(
            session, paid_off, by="receipt", source_id=receipt.id, on=allocations[0].allocated_on
        )
    return receipt


async def of_receipt(session: AsyncSession, receipt: Receipt) -> OnlinePayment | None:
    """The online payment whose receipt this is (mode razorpay, reference = its payment id),
    locked: a writer of the receipt takes it first, the lock order of captures and refunds."""
    if receipt.mode != "razorpay" or receipt.reference is None:
        return None
    payment = await OnlinePaymentRepository(session).by_razorpay_payment_id(receipt.reference, for_update=True)
    return payment if payment is not None and payment.receipt_id == receipt.id else None


async def advance_used(session: AsyncSession, ctx: Context, payment: OnlinePayment, receipt: Receipt) -> None:
    """The receipt of a payment flagged refund_due was allocated (receipts.allocate): once none of
    its advance is left there is nothing to refund, so the flag goes, and so does its order's
    needs_attention (the other way out of a flagged payment than a refund). Audited."""
    await session.refresh(receipt)
    if not payment.refund_due or receipt.amount - receipt.amount_allocated - receipt.amount_refunded > 0:
        return
    before = audit.snapshot(payment, AUDITED)
    payment.refund_due, payment.refund_due_reason = False, None
    entries: list[dict[str, Any]] = [
        {
            "action": "online_payment.refund_cleared",
            "entity_type": "online_payment",
            "entity_id": payment.id,
            "before": before,
            "after": audit.snapshot(payment, AUDITED)
            | {"why": f"its advance was allocated (receipt {receipt.number})"},
        }
    ]
    order = await SalesOrderRepository(session).lock(payment.order_id) if payment.order_id is not None else None
    if order is not None and order.needs_attention:
        fields = ["status", "needs_attention", "attention_reason"]
        order_before = audit.snapshot(order, fields)
        order.needs_attention, order.attention_reason, order.updated_at = False, None, ctx.now
        entries.append(
            {
                "action": "order.attention_resolved",
                "entity_type": "order",
                "entity_id": order.id,
                "before": order_before,
                "after": audit.snapshot(order, fields),
            }
        )
    await session.flush()
    await audit.record_many(session, entries)


async def _allocate(
    session: AsyncSession, receipt: Receipt, invoice: Invoice, amount: Decimal, day: date
) -> tuple[list[ReceiptAllocation], Invoice]:
    """`amount` of the new receipt to the invoice (locked: its balance was read under the lock);
    the allocation and the invoice as it settled it."""
    receipts = ReceiptRepository(session)
    settled = None
    if (
        await receipts.take(receipt.id, amount) is None
        or (settled := await InvoiceRepository(session).settle(invoice.id, paid=amount)) is None
    ):
        raise Conflict(f"Invoice {invoice.number} could not take {amount}.", code="invoice-over-allocated")
    await session.refresh(receipt)
    allocation = ReceiptAllocation(
        receipt_id=receipt.id, invoice_id=invoice.id, amount=amount, allocated_on=max(day, invoice.invoice_date)
    )
    await receipts.add_allocations([allocation])
    return [allocation], settled


def _flag_refund(payment: OnlinePayment, reason: str) -> None:
    payment.refund_due, payment.refund_due_reason = True, reason


def _notes(payment: OnlinePayment, invoice: Invoice | None) -> str:
    kind = "Payment Link" if payment.gateway_kind == "payment_link" else "order"
    text = f"Paid online (Razorpay {kind} {payment.gateway_ref})"
    return f"{text} for invoice {invoice.number}." if invoice is not None and invoice.number else f"{text}."


async def verify_link(
    session: AsyncSession,
    ctx: Context,
    payment_id: uuid.UUID,
    *,
    razorpay_payment_id: str,
    link_id: str,
    reference_id: str,
    link_status: str,
    signature: str,
) -> tuple[OnlinePayment, str]:
    """A Payment Link's callback (what the customer's browser brings back after paying): the
    signature is checked with the tenant's key secret over the link's own id and reference (a
    payment of another link, or a forged one, is a 400 with nothing written), then the capture is
    applied as the webhooks would (once, whichever comes first)."""
    payment = await get(session, payment_id)
    if payment.gateway_kind != "payment_link":
        raise NotFound("This online payment is not a Payment Link.", code="online-payment-not-found")
    gateway = await payment_gateways.client_for(session, ctx)
    genuine = (
        link_id == payment.gateway_ref
        and payment.is_sandbox == gateway.sandbox
        and gateway.link_signature_ok(link_id, reference_id, link_status, razorpay_payment_id, signature)
    )
    if not genuine:
        raise SignatureInvalid("The payment signature does not match this payment link.")
    if link_status != "paid":
        return payment, f"not-paid-{link_status}"[:40]
    locked = await get(session, payment_id, for_update=True)
    outcome = await on_captured(
        session,
        ctx,
        locked,
        razorpay_payment_id=razorpay_payment_id,
        amount_paise=int(locked.amount * 100),
        source="verify",
    )
    return locked, outcome
