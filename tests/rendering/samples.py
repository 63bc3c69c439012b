"""Views to render in the tests: built by hand, as app/services/document_pdfs.py builds them from rows."""

from datetime import UTC, date, datetime
from decimal import Decimal

from app.domain.gst import SupplyType, line_tax, money, taxable_value
from app.rendering.views import BankDetails, InvoiceLineView, InvoiceView, Party

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
