"""Database rows -> the views the renderers print (app/rendering/views.py). Pure functions: no
session, no clock. An invoice prints its parties as frozen at issue (`supplier` / `recipient`
snapshots), never the live company or customer; a credit note prints its invoice's; a receipt, which
has no snapshot of its own, prints the company and customer as they are."""

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, time
from decimal import Decimal
from typing import Any

from app.domain import zero_rated
from app.domain.fiscal import INDIA
from app.domain.gst import money
from app.domain.words import amount_in_words
from app.models.billing.business import Company
from app.models.billing.credit_note import CreditNote, CreditNoteLine
from app.models.billing.customer import Customer
from app.models.billing.invoice import Invoice, InvoiceLine
from app.models.billing.receipt import Receipt
from app.rendering import views
from app.rendering.snapshots import bank_details, recipient_party, shipping_party, supplier_party
from app.repositories.billing.dashboard import BUCKETS, Tally
from app.repositories.documents.document_sources import AllocationRow

ZERO = Decimal("0.00")


def _lines(*values: Any) -> tuple[str, ...]:
    return tuple(str(value) for value in values if value)


def invoice_line(line: InvoiceLine) -> views.InvoiceLineView:
    return views.InvoiceLineView(
        position=line.position,
        description=line.description,
        hsn_sac=line.hsn_sac,
        quantity=line.quantity,
        unit=line.unit,
        unit_price=line.unit_price,
        discount=line.discount,
        taxable_value=line.taxable_value,
        gst_rate=line.gst_rate,
        cgst_amount=line.cgst_amount,
        sgst_amount=line.sgst_amount,
        utgst_amount=line.utgst_amount,
        igst_amount=line.igst_amount,
        total=line.total,
    )


def credit_note_line(line: CreditNoteLine, credited: InvoiceLine) -> views.InvoiceLineView:
    """A credited line: the quantity returned at the invoice line's unit and price (the difference
    to the credited taxable value, the line's share of its discount, as discount); a credit of value
    only (no quantity) prints as one lump of that value with no unit. Either way the columns add up:
    quantity x rate - discount = taxable value."""
    if line.quantity is not None:
        quantity, unit, price = line.quantity, credited.unit, credited.unit_price
        discount = max(ZERO, money(quantity * price) - line.taxable_value)
    else:
        quantity, unit, price, discount = Decimal(1), None, line.taxable_value, ZERO
    return views.InvoiceLineView(
        position=line.position,
        description=line.description,
        hsn_sac=line.hsn_sac,
        quantity=quantity,
        unit=unit,
        unit_price=price,
        discount=discount,
        taxable_value=line.taxable_value,
        gst_rate=line.gst_rate,
        cgst_amount=line.cgst_amount,
        sgst_amount=line.sgst_amount,
        utgst_amount=line.utgst_amount,
        igst_amount=line.igst_amount,
        total=line.total,
    )


def export_details(invoice: Invoice) -> views.ExportDetails | None:
    """An export's destination country (by name), port code and shipping bill (Rule 46)."""
    if invoice.supply_category != zero_rated.SupplyCategory.export or invoice.destination_country is None:
        return None
    return views.ExportDetails(
        destination_country=zero_rated.country_name(invoice.destination_country) or invoice.destination_country,
        port_code=invoice.port_code,
        shipping_bill_number=invoice.shipping_bill_number,
        shipping_bill_date=invoice.shipping_bill_date,
    )


def invoice_view(
    invoice: Invoice,
    lines: Iterable[InvoiceLine],
    *,
    upi_link: str | None,
    logo: bytes | None,
    footer_brand: str | None,
) -> views.InvoiceView:
    draft = invoice.status == "draft"
    export = export_details(invoice)
    supplier = invoice.supplier or {}
    return views.InvoiceView(
        document_type=invoice.document_type,
        supplier_registration_type=invoice.supplier_registration_type,
        number=None if draft else invoice.number,
        invoice_date=invoice.invoice_date,
        due_date=invoice.due_date,
        supplier=supplier_party(supplier),
        recipient=recipient_party(invoice.recipient or {}, country=export.destination_country if export else None),
        place_of_supply=invoice.place_of_supply,
        supply_type=invoice.supply_type,
        reverse_charge=invoice.reverse_charge,
        lines=tuple(invoice_line(line) for line in lines),
        taxable_value=invoice.taxable_value,
        cgst_amount=invoice.cgst_amount,
        sgst_amount=invoice.sgst_amount,
        utgst_amount=invoice.utgst_amount,
        igst_amount=invoice.igst_amount,
        tax_total=invoice.tax_total,
        round_off=invoice.round_off,
        total=invoice.total,
        issued_at=invoice.issued_at or invoice.updated_at,
        status=invoice.status,
        amount_paid=invoice.amount_paid,
        amount_credited=invoice.amount_credited,
        balance_due=invoice.balance_due,
        amount_in_words=amount_in_words(invoice.total),
        shipping=shipping_party(invoice.recipient or {}),
        notes=invoice.notes,
        terms=invoice.terms,
        bank=bank_details(supplier),
        endorsement=zero_rated.endorsement(invoice.supply_category, invoice.tax_treatment),
        export=export,
        upi_link=upi_link,
        logo=logo,
        footer_brand=footer_brand,
    )


def credit_note_view(
    note: CreditNote,
    invoice: Invoice,
    lines: Iterable[tuple[CreditNoteLine, InvoiceLine]],
    *,
    logo: bytes | None,
    footer_brand: str | None,
) -> views.CreditNoteView:
    return views.CreditNoteView(
        number=note.number,
        credit_note_date=note.credit_note_date,
        invoice_number=note.invoice_number,
        invoice_date=note.invoice_date,
        reason=note.reason,
        supplier=supplier_party(invoice.supplier or {}),
        recipient=recipient_party(invoice.recipient or {}),
        place_of_supply=note.place_of_supply,
        supply_type=note.supply_type,
        lines=tuple(credit_note_line(line, credited) for line, credited in lines),
        taxable_value=note.taxable_value,
        cgst_amount=note.cgst_amount,
        sgst_amount=note.sgst_amount,
        utgst_amount=note.utgst_amount,
        igst_amount=note.igst_amount,
        tax_total=note.tax_total,
        round_off=note.round_off,
        total=note.total,
        issued_at=note.created_at,
        document_type=invoice.document_type,
        reverse_charge=invoice.reverse_charge,
        amount_in_words=amount_in_words(note.total),
        logo=logo,
        footer_brand=footer_brand,
    )


def company_party(company: Company) -> views.Party:
    return views.Party(
        legal_name=company.legal_name,
        trade_name=company.trade_name,
        address_lines=_lines(company.address_line1, company.address_line2),
        city=company.city,
        pincode=company.pincode,
        state_code=company.state_code,
        gstin=company.gstin,
        phone=company.phone,
        email=company.email,
        pan=company.pan,
    )


def customer_party(customer: Customer) -> views.Party:
    return views.Party(
        legal_name=customer.name,
        address_lines=_lines(customer.billing_address_line1, customer.billing_address_line2),
        city=customer.billing_city,
        pincode=customer.billing_pincode,
        state_code=customer.billing_state_code,
        gstin=customer.gstin,
        phone=customer.phone,
        email=customer.email,
    )


def receipt_view(
    receipt: Receipt,
    company: Company,
    customer: Customer,
    allocations: Iterable[AllocationRow],
    *,
    logo: bytes | None,
    footer_brand: str | None,
) -> views.ReceiptView:
    return views.ReceiptView(
        number=receipt.number,
        receipt_date=receipt.receipt_date,
        supplier=company_party(company),
        received_from=customer_party(customer),
        amount=receipt.amount,
        mode=receipt.mode,
        issued_at=receipt.created_at,
        reference=receipt.reference,
        notes=receipt.notes,
        allocations=tuple(
            views.AllocationView(
                invoice_number=row.invoice_number or "-", invoice_date=row.invoice_date, amount=row.amount
            )
            for row in allocations
        ),
        status=receipt.status,
        amount_in_words=amount_in_words(receipt.amount),
        logo=logo,
        footer_brand=footer_brand,
    )


def statement_view(
    company: Company | None,
    customer: Customer,
    *,
    date_from: Any,
    date_to: Any,
    opening_balance: Decimal,
    closing_balance: Decimal,
    entries: Iterable[Any],
    aging: Mapping[str, Tally],
    logo: bytes | None,
    footer_brand: str | None,
) -> views.StatementView:
    # The statement is "as at" the end of its period: a fixed instant, so the same figures always
    # print the same bytes (the request's clock would change them every second).
    as_at = datetime.combine(date_to, time(23, 59, 59), tzinfo=INDIA).astimezone(UTC)
    return views.StatementView(
        company=company_party(company) if company is not None else views.Party(legal_name=""),
        customer=customer_party(customer),
        period_from=date_from,
        period_to=date_to,
        opening_balance=opening_balance,
        closing_balance=closing_balance,
        issued_at=as_at,
        entries=tuple(
            views.StatementEntry(
                entry_date=row.entry_date,
                document=row.number or "-",
                description=row.description,
                debit=row.debit,
                credit=row.credit,
                balance=row.balance,
            )
            for row in entries
        ),
        aging=views.AgingSummary(**{name: aging[name].amount for name in BUCKETS}),
        logo=logo,
        footer_brand=footer_brand,
    )
