"""Views to render in the tests: built by hand, as app/services/documents/document_pdfs.py builds them from rows."""

from datetime import UTC, date, datetime
from decimal import Decimal

from app.domain.gst import SupplyType, line_tax, money, taxable_value
from app.rendering.views import (
    AgingSummary,
    AllocationView,
    BankDetails,
    CreditNoteView,
    InvoiceLineView,
    InvoiceView,
    Party,
    ReceiptView,
    StatementEntry,
    StatementView,
)

ISSUED_AT = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)

SUPPLIER = Party(
    legal_name="Sharma & Sons Private Limited",
    trade_name="Sharma Electricals",
    address_lines=("12, MG Road", "Indiranagar"),
    city="Bengaluru",
    pincode="560038",
    state_code="29",
    gstin="29AABCS1429B1ZB",
    phone="+91 80 4123 4567",
    email="accounts@sharma.example",
)
RECIPIENT = Party(
    legal_name="Patel Traders LLP",
    address_lines=("4th Floor, Dalal Street",),
    city="Mumbai",
    pincode="400001",
    state_code="27",
    gstin="27AAFFP1234C1Z5",
)


def line(
    position: int,
    price: str,
    quantity: str = "1",
    rate: str = "18",
    *,
    place: str = "27",
    supply: SupplyType = SupplyType.inter_state,
    discount: str = "0",
    description: str | None = None,
    hsn: str = "998314",
    unit: str = "NOS",
) -> InvoiceLineView:
    taxable = taxable_value(Decimal(quantity), Decimal(price), Decimal(discount))
    amounts = line_tax(taxable, Decimal(rate), supply, place)
    return InvoiceLineView(
        position=position,
        description=description or f"Consulting services, item {position}",
        hsn_sac=hsn,
        quantity=Decimal(quantity),
        unit=unit,
        unit_price=Decimal(price),
        discount=Decimal(discount),
        taxable_value=amounts.taxable_value,
        gst_rate=Decimal(rate),
        cgst_amount=amounts.cgst_amount,
        sgst_amount=amounts.sgst_amount,
        utgst_amount=amounts.utgst_amount,
        igst_amount=amounts.igst_amount,
        total=amounts.total,
    )


def invoice(
    lines: list[InvoiceLineView],
    *,
    place: str = "27",
    supply: str = "inter_state",
    round_off: bool = True,
    **changes: object,
) -> InvoiceView:
    taxable = sum((item.taxable_value for item in lines), Decimal("0.00"))
    cgst = sum((item.cgst_amount for item in lines), Decimal("0.00"))
    sgst = sum((item.sgst_amount for item in lines), Decimal("0.00"))
    utgst = sum((item.utgst_amount for item in lines), Decimal("0.00"))
    igst = sum((item.igst_amount for item in lines), Decimal("0.00"))
    tax = cgst + sgst + utgst + igst
    exact = taxable + tax
    total = money(exact.quantize(Decimal("1"))) if round_off else exact
    fields: dict[str, object] = dict(
        document_type="tax_invoice",
        supplier_registration_type="regular",
        number="INV/26-27/00042",
        invoice_date=date(2026, 11, 20),
        due_date=date(2026, 12, 5),
        supplier=SUPPLIER,
        recipient=RECIPIENT,
        place_of_supply=place,
        supply_type=supply,
        reverse_charge=False,
        lines=tuple(lines),
        taxable_value=taxable,
        cgst_amount=cgst,
        sgst_amount=sgst,
        utgst_amount=utgst,
        igst_amount=igst,
        tax_total=tax,
        round_off=total - exact,
        total=total,
        balance_due=total,
        issued_at=ISSUED_AT,
        bank=BankDetails(
            account_name="Sharma & Sons Private Limited", account_number="50200012345678", ifsc="HDFC0001234"
        ),
    )
    fields.update(changes)
    return InvoiceView(**fields)  # type: ignore[arg-type]


def credit_note(lines: list[InvoiceLineView], **changes: object) -> CreditNoteView:
    base = invoice(lines)
    fields: dict[str, object] = dict(
        number="CN/26-27/00007",
        credit_note_date=date(2026, 11, 25),
        invoice_number="INV/26-27/00042",
        invoice_date=date(2026, 11, 20),
        reason="Goods returned: two units damaged in transit",
        supplier=SUPPLIER,
        recipient=RECIPIENT,
        place_of_supply="27",
        supply_type="inter_state",
        lines=tuple(lines),
        taxable_value=base.taxable_value,
        cgst_amount=base.cgst_amount,
        sgst_amount=base.sgst_amount,
        utgst_amount=base.utgst_amount,
        igst_amount=base.igst_amount,
        tax_total=base.tax_total,
        round_off=base.round_off,
        total=base.total,
        issued_at=ISSUED_AT,
    )
    fields.update(changes)
    return CreditNoteView(**fields)  # type: ignore[arg-type]


def receipt(**changes: object) -> ReceiptView:
    fields: dict[str, object] = dict(
        number="RCT/26-27/00003",
        receipt_date=date(2026, 11, 28),
        supplier=SUPPLIER,
        received_from=RECIPIENT,
        amount=Decimal("150000.00"),
        mode="bank_transfer",
        reference="UTR 412345678901",
        allocations=(
            AllocationView("INV/26-27/00042", date(2026, 11, 20), Decimal("100000.00")),
            AllocationView("INV/26-27/00043", date(2026, 11, 21), Decimal("35000.50")),
        ),
        issued_at=ISSUED_AT,
    )
    fields.update(changes)
    return ReceiptView(**fields)  # type: ignore[arg-type]


def statement(entry_count: int = 6, **changes: object) -> StatementView:
    opening = Decimal("12500.00")
    balance = opening
    entries = []
    for index in range(entry_count):
        debit = Decimal("11800.00") + index if index % 3 != 2 else Decimal("0.00")
        credit = Decimal("0.00") if index % 3 != 2 else Decimal("20000.00")
        balance += debit - credit
        number = f"INV/26-27/{index + 1:05d}" if debit else f"RCT/26-27/{index + 1:05d}"
        entries.append(
            StatementEntry(
                date(2026, 10, 1 + index % 28),
                number,
                "Invoice" if debit else "Payment received",
                debit,
                credit,
                balance,
            )
        )
    fields: dict[str, object] = dict(
        company=SUPPLIER,
        customer=RECIPIENT,
        period_from=date(2026, 10, 1),
        period_to=date(2026, 11, 28),
        opening_balance=opening,
        closing_balance=balance,
        entries=tuple(entries),
        aging=AgingSummary(Decimal("11804.00"), Decimal("7904.00"), Decimal("0.00"), Decimal("0.00"), Decimal("0.00")),
        issued_at=ISSUED_AT,
    )
    fields.update(changes)
    return StatementView(**fields)  # type: ignore[arg-type]


def formatting_rupees(value: Decimal) -> str:
    from app.rendering.formatting import rupees

    return rupees(value)
