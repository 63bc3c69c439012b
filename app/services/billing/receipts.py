"""Receipts: money received from a customer, numbered from the company's receipt series, applied
to the customer's issued invoices by allocations, voided with a reason.

A receipt lowers the customer's balance by its whole amount at once; what is not allocated is the
customer's advance. Allocations are guarded on both sides by atomic UPDATEs (the receipt's
remainder, the invoice's balance due), so racing requests can never over-allocate. Invoice rows
are locked in id order, and the customer's balance row last, as invoicing does, so that
concurrent writers queue instead of deadlocking. Each write is audited in the same transaction;
a service never commits."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.context import Context
from app.core.errors import Conflict, NotFound, RuleViolation
from app.domain.statuses import InvoiceStatus
from app.models.base import new_id
from app.models.billing.business import GstSettings
from app.models.billing.invoice import Invoice
from app.models.billing.receipt import Receipt, ReceiptAllocation
from app.repositories.billing.customers import CustomerRepository
from app.repositories.billing.invoices import InvoiceRepository
from app.repositories.billing.receipts import ReceiptRepository
from app.schemas.billing.receipts import AllocationIn, ReceiptCreate
from app.services.billing import companies, customers, gst_settings, invoicing, numbering
from app.services.billing.rules import DocumentDates
from app.services.platform import audit, event_payloads, events

AUDITED = [
    "status",
    "number",
    "financial_year",
    "company_id",
    "customer_id",
    "receipt_date",
    "amount",
    "amount_allocated",
    "amount_refunded",
    "mode",
    "reference",
    "void_reason",
]


@dataclass(frozen=True)
class Allocated:
    """A receipt and its allocations, each with its invoice's number."""

    receipt: Receipt
    allocations: list[tuple[ReceiptAllocation, str | None]]


async def get(session: AsyncSession, receipt_id: uuid.UUID, *, for_update: bool = False) -> Receipt:
    receipt = await ReceiptRepository(session).get(receipt_id, for_update=for_update)
    if receipt is None:
        raise NotFound("Receipt not found.", code="receipt-not-found")
    return receipt


async def read(session: AsyncSession, receipt_id: uuid.UUID) -> Allocated:
    receipt = await get(session, receipt_id)
    return Allocated(receipt, await ReceiptRepository(session).allocations(receipt.id))


async def create(session: AsyncSession, ctx: Context, *, body: ReceiptCreate) -> Allocated:
    await _check_parties(session, body.customer_id, body.company_id)  # unknown parties: 404 before any rule
    DocumentDates.of(ctx).check("receipt_date", body.receipt_date)
    settings = await gst_settings.get(session)
    number, fy = await numbering.assign(
        session,
        company_id=body.company_id,
        document_type="receipt",
        day=body.receipt_date,
        pattern=settings.receipt_number_pattern,
    )
    fields = body.model_dump(exclude={"allocations"})
    receipt = await ReceiptRepository(session).add(
        Receipt(**fields, number=number, financial_year=fy, amount_allocated=Decimal("0.00"), status="active")
    )
    made, paid_off = await _allocate(session, receipt, body.allocations, on=body.receipt_date)
    await CustomerRepository(session).add_to_balance(receipt.customer_id, -receipt.amount)
    await _audit(session, "receipt.created", receipt, before=None, allocations=made)
    await _event(session, "receipt.created", receipt, event_payloads.receipt(receipt, made))
    for paid in paid_off:
        await invoicing.record_paid(
            session, paid, by="receipt", source_id=receipt.id, on=max(body.receipt_date, paid.invoice_date)
        )
    return await read(session, receipt.id)


@dataclass(frozen=True)
class Payment:
    mode: str
    amount: Decimal
    reference: str | None = None


@dataclass(frozen=True)
class Settled:
    """The receipts that paid an invoice, and its customer's balance and credit limit after them."""

    receipts: list[Receipt]
    balance: Decimal
    credit_limit: Decimal | None


async def receive_in_full(
    session: AsyncSession,
    ctx: Context,
    invoice: Invoice,
    payments: Sequence[Payment],
    *,
    settings: GstSettings | None = None,
) -> Settled | None:
    """One receipt per payment for an invoice this transaction has just issued (a counter sale),
    each dated the invoice's day and allocated to it in full: numbered from the company's receipt
    series, written together, the invoice settled by their sum in one guarded UPDATE, the
    customer's balance moved once (all in one statement: ReceiptRepository.pay_in_full), audited as
    `receipt.created` with its allocation like `create`.
    The invoice object takes its new amount paid and status. None when there is no payment.
    `settings`: the tenant's GST settings (their receipt number pattern) if the caller has them
    (read before the invoice took its series' lock, they are not read while it is held)."""
    if not payments:
        return None
    settings = settings or await gst_settings.get(session)
    made = []
    for payment in payments:
        number, fy = await numbering.assign(
            session,
            company_id=invoice.company_id,
            document_type="receipt",
            day=invoice.invoice_date,
            pattern=settings.receipt_number_pattern,
        )
        made.append(
            Receipt(
                id=new_id(),
                company_id=invoice.company_id,
                customer_id=invoice.customer_id,
                number=number,
                financial_year=fy,
                receipt_date=invoice.invoice_date,
                amount=payment.amount,
                amount_allocated=payment.amount,  # nobody else can allocate a receipt not yet committed
                mode=payment.mode,
                reference=payment.reference,
                notes=None,
                status="active",
            )
        )
    allocations = [
        ReceiptAllocation(
            id=new_id(), receipt_id=r.id, invoice_id=invoice.id, amount=r.amount, allocated_on=invoice.invoice_date
        )
        for r in made
    ]
    # One statement: the receipts, their allocations, the invoice settled, the customer's balance.
    paid = await ReceiptRepository(session).pay_in_full(invoice, made, allocations)
    if paid is None:
        total = sum((r.amount for r in made), Decimal("0.00"))
        raise Conflict(
            f"Receiving {total} exceeds invoice {invoice.number}'s balance due of {invoice.balance_due}.",
            code="invoice-over-allocated",
        )
    invoice.amount_paid, invoice.status, invoice.balance_due = paid.amount_paid, paid.status, paid.balance_due
    await audit.record_many(
        session,
        [
            {
                "action": "receipt.created",
                "entity_type": "receipt",
                "entity_id": receipt.id,
                "before": None,
                "after": audit.snapshot(receipt, AUDITED) | {"allocations": _allocations_json([allocation])},
            }
            for receipt, allocation in zip(made, allocations, strict=True)
        ],
    )
    for receipt, allocation in zip(made, allocations, strict=True):
        await _event(session, "receipt.created", receipt, event_payloads.receipt(receipt, [allocation]))
    if paid.status == InvoiceStatus.paid:
        await invoicing.record_paid(session, invoice, by="receipt", source_id=made[-1].id, on=invoice.invoice_date)
    return Settled(made, paid.customer_balance, paid.credit_limit)


async def allocate(
    session: AsyncSession, ctx: Context, receipt_id: uuid.UUID, *, allocations: list[AllocationIn]
) -> Allocated:
    """Apply more of the receipt's remainder to invoices (dated today, or the receipt's date if later)."""
    from app.services.commerce import online_payments  # it imports this module

    receipt = await get(session, receipt_id)
    _check_active(receipt)
    online = await online_payments.of_receipt(session, receipt)  # an online payment's: it is locked first
    before = audit.snapshot(receipt, AUDITED)
    made, paid_off = await _allocate(session, receipt, allocations, on=max(ctx.today, receipt.receipt_date))
    await _audit(session, "receipt.allocated", receipt, before=before, allocations=made)
    for paid in paid_off:
        await invoicing.record_paid(
            session,
            paid,
            by="receipt",
            source_id=receipt.id,
            on=max(ctx.today, receipt.receipt_date, paid.invoice_date),
        )
    if online is not None:  # its advance used here: maybe nothing is left to refund
        await online_payments.advance_used(session, ctx, online, receipt)
    return await read(session, receipt.id)


async def void(session: AsyncSession, ctx: Context, receipt_id: uuid.UUID, *, reason: str) -> Allocated:
    """Cancel a receipt: its allocations are released (the invoices owe them again), the customer
    owes its amount again, its number stays taken. Not the receipt of an online payment: that
    money is in the gateway's hands, and goes back by a refund (POST /orders/{id}/refund or
    /online-payments/{id}/refund), which needs its receipt active."""
    from app.services.commerce import online_payments  # it imports this module

    # an online payment's receipt: the payment row first (the lock order of captures and refunds)
    if await online_payments.of_receipt(session, await get(session, receipt_id)) is not None:
        raise Conflict(
            "This receipt records an online payment the gateway holds: refund it instead of voiding the receipt.",
            code="receipt-of-online-payment",
        )
    receipt = await get(session, receipt_id, for_update=True)
    _check_active(receipt)
    if receipt.amount_refunded > 0:
        raise Conflict(
            f"{receipt.amount_refunded} of this receipt was refunded to the customer; it cannot be voided.",
            code="receipt-refunded",
        )
    repo = ReceiptRepository(session)
    released = [allocation for allocation, _ in await repo.allocations(receipt.id)]
    before = audit.snapshot(receipt, AUDITED) | {"allocations": _allocations_json(released)}
    invoices = InvoiceRepository(session)
    for allocation in sorted(released, key=lambda a: a.invoice_id):
        if await invoices.settle(allocation.invoice_id, paid=-allocation.amount) is None:
            raise Conflict("An invoice this receipt paid can no longer take it back.", code="allocation-not-releasable")
    await repo.delete_allocations(receipt.id)
    receipt.status, receipt.void_reason, receipt.voided_at = "void", reason, ctx.now
    receipt.amount_allocated = Decimal("0.00")
    await session.flush()
    await CustomerRepository(session).add_to_balance(receipt.customer_id, receipt.amount)
    await audit.record(
        session,
        action="receipt.voided",
        entity_type="receipt",
        entity_id=receipt.id,
        before=before,
        after=audit.snapshot(receipt, AUDITED),
    )
    await _event(session, "receipt.voided", receipt, event_payloads.receipt_voided(receipt, released))
    return Allocated(receipt, [])


async def release(
    session: AsyncSession, ctx: Context, receipt_id: uuid.UUID, invoice: Invoice, amount: Decimal
) -> dict[str, Any]:
    """Take `amount` of the receipt's allocations to `invoice` (newest first) back to the receipt's
    advance: the invoice owes it again, the customer's balance does not move. For a credit note of
    a refund (app.services.billing.credit_notes.create_refunding), whose caller has locked the
    receipt before the invoice. Answers the receipt's audit entry, for the caller to record."""
    receipt = await get(session, receipt_id, for_update=True)
    _check_active(receipt)
    repo = ReceiptRepository(session)
    before = audit.snapshot(receipt, AUDITED)
    left = amount
    for allocation in await repo.allocated_to(receipt.id, invoice.id):
        if left == 0:
            break
        part = min(left, allocation.amount)
        await repo.shrink_allocation(allocation.id, part)
        left -= part
    if left > 0 or await repo.take(receipt.id, -amount) is None:
        raise Conflict(
            f"The receipt has less than {amount} allocated to invoice {invoice.number} to give back.",
            code="allocation-not-releasable",
        )
    if await InvoiceRepository(session).settle(invoice.id, paid=-amount) is None:
        raise Conflict("The invoice can no longer take the payment back.", code="allocation-not-releasable")
    return {
        "action": "receipt.allocation_released",
        "entity_type": "receipt",
        "entity_id": receipt.id,
        "before": before,
        "after": audit.snapshot(receipt, AUDITED) | {"invoice_id": str(invoice.id), "released": str(amount)},
    }


async def _allocate(
    session: AsyncSession, receipt: Receipt, allocations: list[AllocationIn], *, on: date
) -> tuple[list[ReceiptAllocation], list[Invoice]]:
    """Check every allocation, then apply them in invoice id order (a fixed lock order). Answers
    the allocations made and the invoices they paid off (nothing left due)."""
    if not allocations:
        return [], []
    invoices = await InvoiceRepository(session).by_ids({a.invoice_id for a in allocations})
    seen: set[uuid.UUID] = set()
    for index, allocation in enumerate(allocations):
        _check_invoice(receipt, invoices.get(allocation.invoice_id), f"allocations.{index}.invoice_id", seen)
    made, paid_off = [], []
    for allocation in sorted(allocations, key=lambda a: a.invoice_id):
        await _take_from_receipt(session, receipt, allocation.amount)
        settled = await _pay_invoice(session, invoices[allocation.invoice_id], allocation.amount)
        if settled.status == InvoiceStatus.paid:
            paid_off.append(settled)
        # An advance paid before the invoice existed settles it on the invoice's date, not earlier.
        day = max(on, invoices[allocation.invoice_id].invoice_date)
        made.append(
            ReceiptAllocation(
                receipt_id=receipt.id, invoice_id=allocation.invoice_id, amount=allocation.amount, allocated_on=day
            )
        )
    await ReceiptRepository(session).add_allocations(made)
    return made, paid_off


def _check_invoice(receipt: Receipt, invoice: Invoice | None, field: str, seen: set[uuid.UUID]) -> None:
    if invoice is None:
        raise NotFound("No invoice with this id.", code="invoice-not-found")
    if invoice.id in seen:
        raise RuleViolation(field, "Allocate to each invoice once per request.", code="duplicate-allocation")
    seen.add(invoice.id)
    if invoice.customer_id != receipt.customer_id or invoice.company_id != receipt.company_id:
        raise RuleViolation(
            field,
            "The invoice is not the receipt's customer's from the receipt's company.",
            code="invoice-of-another-party",
        )
    if invoice.status == "draft":
        raise Conflict("A draft invoice cannot be paid; issue it first.", code="invoice-not-issued")
    if invoice.status == "void":
        raise Conflict("A void invoice cannot be paid.", code="invoice-void")


async def _take_from_receipt(session: AsyncSession, receipt: Receipt, amount: Decimal) -> None:
    if await ReceiptRepository(session).take(receipt.id, amount) is not None:
        return
    await session.refresh(receipt)
    _check_active(receipt)
    raise Conflict(
        f"Allocating {amount} exceeds the receipt's unallocated "
        f"{receipt.amount - receipt.amount_allocated - receipt.amount_refunded}.",
        code="receipt-over-allocated",
    )


async def _pay_invoice(session: AsyncSession, invoice: Invoice, amount: Decimal) -> Invoice:
    """The invoice as the settling UPDATE left it."""
    if (settled := await InvoiceRepository(session).settle(invoice.id, paid=amount)) is not None:
        return settled
    await session.refresh(invoice)
    if invoice.status == "void":
        raise Conflict("A void invoice cannot be paid.", code="invoice-void")
    raise Conflict(
        f"Allocating {amount} to invoice {invoice.number} exceeds its balance due of {invoice.balance_due}.",
        code="invoice-over-allocated",
    )


def _check_active(receipt: Receipt) -> None:
    if receipt.status == "void":
        raise Conflict("The receipt is void.", code="receipt-void")


async def _check_parties(session: AsyncSession, customer_id: uuid.UUID, company_id: uuid.UUID) -> None:
    await customers.get_active(session, customer_id)
    await companies.get_active(session, company_id)


def _allocations_json(allocations: list[ReceiptAllocation]) -> list[dict[str, str]]:
    return [{"invoice_id": str(a.invoice_id), "amount": str(a.amount)} for a in allocations]


async def _audit(
    session: AsyncSession,
    action: str,
    receipt: Receipt,
    *,
    before: dict[str, Any] | None,
    allocations: list[ReceiptAllocation],
) -> None:
    after = audit.snapshot(receipt, AUDITED) | {"allocations": _allocations_json(allocations)}
    await audit.record(session, action=action, entity_type="receipt", entity_id=receipt.id, before=before, after=after)


async def _event(session: AsyncSession, event_type: str, receipt: Receipt, payload: dict[str, Any]) -> None:
    await events.record(session, event_type, resource_type="receipt", resource_id=receipt.id, payload=payload)
