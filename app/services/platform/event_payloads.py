"""The payloads (version 1) of the business events the services record (app.services.platform.events):
what a consumer needs to act on the event without reading it back (ids, numbers, amounts as
strings with two decimals, ISO dates), and nothing secret (no addresses, tokens or notes). README
("Business events") documents each type; a payload changes shape only with a new version."""

import uuid
from datetime import date
from decimal import Decimal
from typing import Any

from app.models.billing.credit_note import CreditNote
from app.models.billing.customer import Customer
from app.models.billing.invoice import Invoice
from app.models.billing.receipt import Receipt, ReceiptAllocation
from app.models.commerce.order import SalesOrder
from app.models.platform.subscription import Subscription


def money(value: Decimal | None) -> str | None:
    return None if value is None else str(Decimal(value).quantize(Decimal("0.01")))


def invoice(inv: Invoice) -> dict[str, Any]:
    """An invoice as issued, paid or voided (its amounts as they are now)."""
    paid, credited = inv.amount_paid or Decimal("0.00"), inv.amount_credited or Decimal("0.00")
    return {
        "invoice_id": inv.id,
        "number": inv.number,
        "financial_year": inv.financial_year,
        "status": inv.status,
        "company_id": inv.company_id,
        "customer_id": inv.customer_id,
        "invoice_date": inv.invoice_date,
        "due_date": inv.due_date,
        "document_type": inv.document_type,
        "supply_type": inv.supply_type,
        "place_of_supply": inv.place_of_supply,
        "taxable_value": money(inv.taxable_value),
        "tax_total": money(inv.tax_total),
        "total": money(inv.total),
        "amount_paid": money(paid),
        "amount_credited": money(credited),
        "balance_due": money(inv.total - paid - credited),
    }


def invoice_paid(inv: Invoice, *, by: str, source_id: uuid.UUID, on: date | None = None) -> dict[str, Any]:
    """The invoice whose balance due reached zero, and what settled its last part (`by`: receipt or
    credit_note, `source_id` that document's id)."""
    return invoice(inv) | {"settled_by": by, "settled_by_id": source_id, "settled_on": on}


def invoice_voided(inv: Invoice) -> dict[str, Any]:
    return invoice(inv) | {"voided_at": inv.voided_at}


def receipt(rec: Receipt, allocations: list[ReceiptAllocation]) -> dict[str, Any]:
    return {
        "receipt_id": rec.id,
        "number": rec.number,
        "financial_year": rec.financial_year,
        "status": rec.status,
        "company_id": rec.company_id,
        "customer_id": rec.customer_id,
        "receipt_date": rec.receipt_date,
        "amount": money(rec.amount),
        "mode": rec.mode,
        "allocations": [{"invoice_id": a.invoice_id, "amount": money(a.amount)} for a in allocations],
    }


def receipt_voided(rec: Receipt, released: list[ReceiptAllocation]) -> dict[str, Any]:
    return receipt(rec, []) | {
        "voided_at": rec.voided_at,
        "released": [{"invoice_id": a.invoice_id, "amount": money(a.amount)} for a in released],
    }


def credit_note(note: CreditNote) -> dict[str, Any]:
    return {
        "credit_note_id": note.id,
        "number": note.number,
        "financial_year": note.financial_year,
        "company_id": note.company_id,
        "customer_id": note.customer_id,
        "invoice_id": note.invoice_id,
        "invoice_number": note.invoice_number,
        "credit_note_date": note.credit_note_date,
        "is_full": note.is_full,
        "restock": note.restock,
        "taxable_value": money(note.taxable_value),
        "tax_total": money(note.tax_total),
        "total": money(note.total),
    }


def customer(cust: Customer) -> dict[str, Any]:
    """A new customer: who it is for the books (no address, phone or email: a consumer with a need
    for them reads the customer through the API)."""
    return {
        "customer_id": cust.id,
        "name": cust.name,
        "gstin": cust.gstin,
        "billing_state_code": cust.billing_state_code,
        "walk_in_company_id": cust.walk_in_company_id,
    }


def order(o: SalesOrder, *, payment_id: uuid.UUID | None) -> dict[str, Any]:
    return {
        "order_id": o.id,
        "status": o.status,
        "company_id": o.company_id,
        "customer_id": o.customer_id,
        "invoice_id": o.invoice_id,
        "total": money(o.total),
        "amount_paid": money(o.amount_paid),
        "payment_method": o.payment_method,
        "online_payment_id": payment_id,
        "placed_at": o.placed_at,
        "hold_until": o.hold_until,
        "confirmed_at": o.confirmed_at,
        "fulfilled_at": o.fulfilled_at,
        "cancelled_at": o.cancelled_at,
    }


def subscription(row: Subscription, previous: Subscription | None, change: str) -> dict[str, Any]:
    """The tenant's current subscription after `change` (started, changed, activated, renewed,
    downgraded), with the plan and status it had before (None at the start)."""
    return {
        "subscription_id": row.id,
        "change": change,
        "plan_code": row.plan_code,
        "status": row.status,
        "previous_plan_code": previous.plan_code if previous is not None else None,
        "previous_status": previous.status if previous is not None else None,
        "current_period_start": row.current_period_start,
        "current_period_end": row.current_period_end,
        "trial_end": row.trial_end,
        "cancel_at_period_end": row.cancel_at_period_end,
    }


def stock_low(
    *,
    alert_id: uuid.UUID,
    product_id: uuid.UUID,
    company_id: uuid.UUID,
    available: Decimal,
    reorder_level: Decimal,
    document_type: str | None,
    document_id: uuid.UUID | None,
) -> dict[str, Any]:
    """A stock level fell to or below its product's reorder level (once per crossing: the alert it
    opened; it fires again only after the level rose above and fell again)."""
    return {
        "alert_id": alert_id,
        "product_id": product_id,
        "company_id": company_id,
        "available": _quantity(available),
        "reorder_level": _quantity(reorder_level),
        "document_type": document_type,
        "document_id": document_id,
    }


def _quantity(value: Decimal) -> str:
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
