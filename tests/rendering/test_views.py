"""What the views derive from what was frozen at issue: titles, declarations, tax columns, states."""

from decimal import Decimal

import pytest

from app.rendering import formatting
from app.rendering.views import Party, TaxColumns, state_label, tax_columns
from tests.rendering import samples


@pytest.mark.parametrize(
    ("document", "supply", "place", "columns"),
    [
        ("tax_invoice", "intra_state", "29", TaxColumns.cgst_sgst),
        ("tax_invoice", "intra_state", "04", TaxColumns.cgst_utgst),
        ("tax_invoice", "intra_state", "97", TaxColumns.cgst_utgst),
        ("tax_invoice", "inter_state", "27", TaxColumns.igst),
        ("tax_invoice", "inter_state", "96", TaxColumns.igst),
        ("invoice_cum_bill_of_supply", "intra_state", "27", TaxColumns.cgst_sgst),
        ("bill_of_supply", "intra_state", "27", TaxColumns.none),
    ],
)
def test_tax_columns(document: str, supply: str, place: str, columns: TaxColumns) -> None:
    assert tax_columns(document, supply, place) is columns


def test_titles_and_declarations() -> None:
    line = [samples.line(1, "10")]
    assert samples.invoice(line).title == "Tax Invoice"
    assert samples.invoice(line).declaration is None
    composition = samples.invoice(line, document_type="bill_of_supply", supplier_registration_type="composition")
    assert composition.title == "Bill of Supply"
    assert composition.declaration == "Composition taxable person, not eligible to collect tax on supplies"
    unregistered = samples.invoice(line, document_type="bill_of_supply", supplier_registration_type="unregistered")
    assert unregistered.declaration == "Supplier not registered under GST: no tax charged"
    mixed = samples.invoice(line, document_type="invoice_cum_bill_of_supply")
    assert mixed.title == "Invoice-cum-Bill of Supply"


def test_states_and_parties() -> None:
    assert state_label("29") == "Karnataka (29)"
    assert state_label("97") == "Other Territory (97)"
    assert state_label("96") == "Other Countries (96)"
    party = Party(legal_name="X", gstin=None, city="Pune", pincode="411001", state_code="27")
    assert party.gstin_label == "Unregistered"
    assert party.city_line == "Pune - 411001"


def test_money_and_quantities_the_indian_way() -> None:
    assert formatting.rupees(Decimal("12345678.90")) == "₹1,23,45,678.90"
    assert formatting.rupees(Decimal("100000")) == "₹1,00,000.00"
    assert formatting.rupees(Decimal("999.5")) == "₹999.50"
    assert formatting.amount(Decimal("1234567.8")) == "12,34,567.80"
    assert formatting.amount(Decimal("-1234.5")) == "-1,234.50"
    assert formatting.quantity(Decimal("2.000")) == "2"
    assert formatting.quantity(Decimal("1.250")) == "1.25"
    assert formatting.quantity(Decimal("150000.5")) == "1,50,000.5"
    assert formatting.unit_price(Decimal("0.1275")) == "0.1275"
    assert formatting.unit_price(Decimal("1250.5000")) == "1,250.50"
    assert formatting.rate(Decimal("9.00")) == "9%"
    assert formatting.rate(Decimal("0.125")) == "0.125%"
    assert formatting.rate(Decimal("28")) == "28%"


def test_words_come_from_the_total_unless_given() -> None:
    view = samples.invoice([samples.line(1, "100", "1", "18")])
    assert view.words == "Rupees One Hundred Eighteen Only"
    assert samples.invoice([samples.line(1, "100")], amount_in_words="Given").words == "Given"
