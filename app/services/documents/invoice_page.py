"""The public invoice page's view (GET /p/<token>): the invoice as its customer should see it, as
issued (the frozen supplier and recipient), every amount formatted in rupees with Indian grouping."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from babel.numbers import format_currency

from app.domain import gst
from app.domain.statuses import InvoiceStatus, is_open, is_overdue
from app.models.billing.invoice import Invoice


def rupees(amount: Decimal) -> str:
    """₹ with Indian digit grouping: ₹1,23,456.50."""
    return format_currency(amount, "INR", locale="en_IN")


def day(value: date) -> str:
    return f"{value.day} {value:%b %Y}"


def seller_name(invoice: Invoice) -> str:
    supplier = invoice.supplier
    return str(supplier.get("trade_name") or supplier.get("legal_name") or "")


@dataclass(frozen=True)
class PublicLine:
    description: str
    hsn_sac: str | None
    quantity: str
    unit: str | None
    rate: str
    taxable_value: str
    gst_rate: str
    tax: str
    total: str


@dataclass(frozen=True)
class PublicInvoice:
    """What the public page shows: the invoice as the customer should see it, formatted."""

    title: str
    number: str
    invoice_date: str
    due_date: str
    status: str  # Paid, Overdue, Due on <date>, Partly paid, Cancelled
    status_kind: str  # paid, overdue, due, partly-paid, void (a CSS class)
    seller: dict[str, Any]
    buyer: dict[str, Any]
    place_of_supply: str | None
    reverse_charge: bool
    lines: list[PublicLine]
    taxes: list[tuple[str, str]]  # (label, amount)
    taxable_value: str
    round_off: str | None
    total: str
    amount_paid: str
    amount_credited: str | None
    balance_due: str
    payable: bool
    upi_link: str | None
    upi_qr_svg: str | None
    pay_now_url: str | None  # the invoice's open Razorpay Payment Link (card, netbanking, UPI, wallets)
    notes: str | None
    terms: str | None


def public_invoice(
    invoice: Invoice, today: date, *, upi_link: str | None, upi_qr_svg: str | None, pay_now_url: str | None = None
) -> PublicInvoice:
    """The page's view. `upi_link`: `document_pdfs.payment_link` (the company's VPA now, where a
    payment goes today, as on the PDF), `upi_qr_svg` its QR code (drawn off the event loop);
    `pay_now_url`: the invoice's open payment link (app.services.commerce.payment_links.pay_now_url)."""
    supplier, recipient = invoice.supplier, invoice.recipient
    payable = is_open(invoice.status, invoice.balance_due)
    link = upi_link
    return PublicInvoice(
        title=_title(invoice.document_type),
        number=invoice.number or "",
        invoice_date=day(invoice.invoice_date),
        due_date=day(invoice.due_date),
        status=_status(invoice, today),
        status_kind=_status_kind(invoice, today),
        seller=_party(
            supplier.get("trade_name") or supplier.get("legal_name"),
            supplier.get("legal_name") if supplier.get("trade_name") else None,
            supplier.get("gstin"),
            [supplier.get("address_line1"), supplier.get("address_line2"), supplier.get("city")],
            supplier.get("pincode"),
            supplier.get("state"),
            supplier.get("state_code"),
        ),
        buyer=_party(
            recipient.get("name"),
            None,
            recipient.get("gstin"),
            [
                recipient.get("billing_address_line1"),
                recipient.get("billing_address_line2"),
                recipient.get("billing_city"),
            ],
            recipient.get("billing_pincode"),
            recipient.get("state"),
            recipient.get("billing_state_code"),
        ),
        place_of_supply=_place(invoice.place_of_supply) if invoice.supply_type == "inter_state" else None,
        reverse_charge=invoice.reverse_charge,
        lines=[
            PublicLine(
                description=line.description,
                hsn_sac=line.hsn_sac,
                quantity=_plain(line.quantity),
                unit=line.unit,
                rate=format_currency(line.unit_price.normalize(), "INR", locale="en_IN", decimal_quantization=False),
                taxable_value=rupees(line.taxable_value),
                gst_rate=f"{_plain(line.gst_rate)}%",
                tax=rupees(line.cgst_amount + line.sgst_amount + line.utgst_amount + line.igst_amount),
                total=rupees(line.total),
            )
            for line in invoice.lines
        ],
        taxes=[
            (label, rupees(amount))
            for label, amount in (
                ("CGST", invoice.cgst_amount),
                ("SGST", invoice.sgst_amount),
                ("UTGST", invoice.utgst_amount),
                ("IGST", invoice.igst_amount),
            )
            if amount
        ],
        taxable_value=rupees(invoice.taxable_value),
        round_off=rupees(invoice.round_off) if invoice.round_off else None,
        total=rupees(invoice.total),
        amount_paid=rupees(invoice.amount_paid),
        amount_credited=rupees(invoice.amount_credited) if invoice.amount_credited else None,
        balance_due=rupees(invoice.balance_due),
        payable=payable,
        upi_link=link,
        upi_qr_svg=upi_qr_svg,
        pay_now_url=pay_now_url if payable else None,
        notes=invoice.notes,
        terms=invoice.terms,
    )


def _place(code: str) -> str:
    return f"{gst.STATE_CODES.get(code, 'Other countries')} ({code})"


def _title(document_type: str) -> str:
    return {
        "tax_invoice": "Tax Invoice",
        "bill_of_supply": "Bill of Supply",
        "invoice_cum_bill_of_supply": "Invoice-cum-Bill of Supply",
    }.get(document_type, "Invoice")


def _status(invoice: Invoice, today: date) -> str:
    if invoice.status == InvoiceStatus.void:
        return "Cancelled"
    if invoice.status == InvoiceStatus.paid or invoice.balance_due <= 0:
        return "Paid"
    if is_overdue(invoice.status, invoice.due_date, invoice.balance_due, today):
        return f"Overdue since {day(invoice.due_date)}"
    if invoice.status == InvoiceStatus.partially_paid:
        return f"Partly paid, due on {day(invoice.due_date)}"
    return f"Due on {day(invoice.due_date)}"


def _status_kind(invoice: Invoice, today: date) -> str:
    if invoice.status == InvoiceStatus.void:
        return "void"
    if invoice.status == InvoiceStatus.paid or invoice.balance_due <= 0:
        return "paid"
    if is_overdue(invoice.status, invoice.due_date, invoice.balance_due, today):
        return "overdue"
    return "partly-paid" if invoice.status == InvoiceStatus.partially_paid else "due"


def _party(
    name: Any, legal_name: Any, gstin: Any, address: list[Any], pincode: Any, state: Any, state_code: Any
) -> dict[str, Any]:
    lines = [str(part) for part in address if part]
    if pincode:
        lines[-1:] = [f"{lines[-1]} {pincode}" if lines else str(pincode)]
    return {
        "name": name,
        "legal_name": legal_name,
        "gstin": gstin,
        "address": lines,
        "state": f"{state} ({state_code})" if state and state_code else None,
    }


def _plain(value: Decimal) -> str:
    """A quantity or rate without trailing zeros: 2, 1.5, 18."""
    return format(value.normalize(), "f")
