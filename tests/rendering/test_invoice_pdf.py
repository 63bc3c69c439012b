"""The tax invoice PDF read back with pypdf: every Rule 46 field, Indian money with the ₹ sign,
words, copy markers, tax columns by supply, exports, bills of supply, drafts, pagination."""

from datetime import date
from decimal import Decimal

import pytest

from app.domain.gst import SupplyType
from app.rendering import Copy, render_invoice, upi_link
from app.rendering.blocks import line_table
from app.rendering.layout import CONTENT_WIDTH
from app.rendering.views import ExportDetails, Party, TaxColumns
from tests.rendering import samples
from tests.rendering.pdftext import fonts, pages, text

INTRA = dict(place="29", supply=SupplyType.intra_state)
LUT = "SUPPLY MEANT FOR EXPORT UNDER BOND OR LETTER OF UNDERTAKING WITHOUT PAYMENT OF INTEGRATED TAX"


def intra_invoice(**changes: object) -> samples.InvoiceView:
    recipient = Party(
        legal_name="Rao Textiles",
        address_lines=("88 Residency Road",),
        city="Bengaluru",
        pincode="560025",
        state_code="29",
        gstin="29AAKFR1234D1Z2",
    )
    lines = [
        samples.line(1, "1250.50", "3", "18", discount="100", description="LED panel 2x2 ft", hsn="9405", **INTRA),
        samples.line(2, "499.99", "2.5", "12", description="Copper wire", hsn="8544", unit="MTR", **INTRA),
    ]
    return samples.invoice(lines, place="29", supply="intra_state", recipient=recipient, **changes)


def test_every_rule_46_field_is_printed() -> None:
    view = intra_invoice(reverse_charge=False)
    content = render_invoice(view)
    printed = text(content)
    line = view.lines[0]
    expected = [
        # Supplier: legal and trade name, address, state, GSTIN
        "Sharma & Sons Private Limited",
        "Trade name: Sharma Electricals",
        "12, MG Road",
        "Bengaluru - 560038",
        "State: Karnataka (29)",
        "GSTIN: 29AABCS1429B1ZB",
        # Title, number, date
        "Tax Invoice",
        "Tax Invoice No.: INV/26-27/00042",
        "Tax Invoice Date: 20 Nov 2026",
        "Due Date: 05 Dec 2026",
        # Recipient: name, address, state name and code, GSTIN
        "Rao Textiles",
        "88 Residency Road",
        "GSTIN: 29AAKFR1234D1Z2",
        # Place of supply, always printed with name and code
        "Place of Supply: Karnataka (29)",
        # Line: position, description, HSN, quantity, unit, rate, total value, discount, taxable, tax, total
        "1 LED panel 2x2 ft 9405 3 NOS 1,250.50 3,751.50 100.00 3,651.50 9% 328.64 9% 328.64 4,308.78",
        "2 Copper wire 8544 2.5 MTR 499.99 1,249.98 0.00 1,249.98 6% 75.00 6% 75.00 1,399.98",
        # Tax columns as the invoice has them
        "CGST",
        "SGST",
        # Reverse charge, signatory, copy marker, computer-generated note
        "Whether tax is payable on reverse charge: No",
        "For Sharma & Sons Private Limited",
        "Authorised Signatory",
        "Original for Recipient",
        "This is a computer-generated document.",
        # Totals with the ₹ sign, round-off, words
        "Taxable Value ₹4,901.48",
        "CGST ₹403.64",
        "SGST ₹403.64",
        "Round Off ₹0.24",
        "Total ₹5,709.00",
        "Rupees Five Thousand Seven Hundred Nine Only",
        # Bank details
        "IFSC: HDFC0001234",
    ]
    for field in expected:
        assert field in printed, field
    assert line.total_value == Decimal("3751.50")
    assert "IGST" not in printed and "UTGST" not in printed


def test_reverse_charge_yes_is_said() -> None:
    printed = text(render_invoice(intra_invoice(reverse_charge=True)))
    assert "Whether tax is payable on reverse charge: Yes" in printed
    assert "payable by the recipient under reverse charge" in printed


@pytest.mark.parametrize(
    ("copy", "label"),
    [
        (Copy.original, "Original for Recipient"),
        (Copy.duplicate, "Duplicate for Transporter"),
        (Copy.triplicate, "Triplicate for Supplier"),
    ],
)
def test_copy_marker_is_the_one_asked_for(copy: Copy, label: str) -> None:
    printed = text(render_invoice(intra_invoice(), copy=copy))
    assert label in printed
    others = {"Original for Recipient", "Duplicate for Transporter", "Triplicate for Supplier"} - {label}
    assert not any(other in printed for other in others)


def test_inter_state_prints_igst_only() -> None:
    view = samples.invoice([samples.line(1, "1000", "1", "18")])
    printed = text(render_invoice(view))
    assert "IGST" in printed and "IGST ₹180.00" in printed
    assert "CGST" not in printed and "SGST" not in printed
    assert "Place of Supply: Maharashtra (27)" in printed
    assert "Supply Type: Inter-State" in printed


def test_union_territory_prints_cgst_and_utgst() -> None:
    supplier = Party(legal_name="Chandigarh Works", state_code="04", gstin="04AABCC1234D1Z7", city="Chandigarh")
    recipient = Party(legal_name="Sector 17 Stores", state_code="04", gstin=None)
    line = samples.line(1, "1000", "1", "18", place="04", supply=SupplyType.intra_state)
    view = samples.invoice([line], place="04", supply="intra_state", supplier=supplier, recipient=recipient, bank=None)
    printed = text(render_invoice(view))
    assert "UTGST ₹90.00" in printed and "CGST ₹90.00" in printed
    assert "SGST" not in printed and "IGST" not in printed
    assert "Place of Supply: Chandigarh (04)" in printed
    assert "GSTIN: Unregistered" in printed


def test_export_under_lut_big_amount_endorsement_and_destination() -> None:
    line = samples.line(1, "12345678.90", "1", "0", place="96", description="Software development services")
    recipient = Party(legal_name="Acme Inc.", address_lines=("1 Main St", "Springfield"), country="United States")
    view = samples.invoice(
        [line],
        place="96",
        round_off=False,
        recipient=recipient,
        endorsement=LUT,
        export=ExportDetails(
            "United States", port_code="INBLR4", shipping_bill_number="1234567", shipping_bill_date=date(2026, 11, 19)
        ),
    )
    printed = text(render_invoice(view))
    assert "Total ₹1,23,45,678.90" in printed
    assert "1,23,45,678.90" in printed  # the line, no sign in the table
    assert (
        "Rupees One Crore Twenty-Three Lakh Forty-Five Thousand Six Hundred Seventy-Eight and Ninety Paise Only"
        in printed
    )
    assert "Place of Supply: Other Countries (96)" in printed
    assert "Country of destination: United States" in printed
    assert "Port code: INBLR4" in printed
    assert "Shipping bill No.: 1234567 dated 19 Nov 2026" in printed
    assert LUT in printed
    assert "GSTIN: Unregistered" in printed


def test_composition_bill_of_supply_has_title_and_declaration_and_no_tax() -> None:
    line = samples.line(1, "1000", "2", "0")
    view = samples.invoice([line], document_type="bill_of_supply", supplier_registration_type="composition")
    printed = text(render_invoice(view))
    assert "Bill of Supply" in printed and "Tax Invoice" not in printed
    assert "Composition taxable person, not eligible to collect tax on supplies" in printed
    assert "IGST" not in printed and "CGST" not in printed and "Total Tax" not in printed
    assert "Total ₹2,000.00" in printed


def test_tax_invoice_has_no_composition_declaration() -> None:
    assert "Composition taxable person" not in text(render_invoice(intra_invoice()))


def test_invoice_cum_bill_of_supply_title() -> None:
    lines = [samples.line(1, "100", "1", "18"), samples.line(2, "100", "1", "0")]
    view = samples.invoice(lines, document_type="invoice_cum_bill_of_supply")
    printed = text(render_invoice(view))
    assert "Invoice-cum-Bill of Supply" in printed
    assert "Composition taxable person" not in printed


def test_draft_has_no_number_and_is_watermarked() -> None:
    view = intra_invoice(number=None, status="draft")
    printed = text(render_invoice(view))
    assert "DRAFT (not yet issued)" in printed
    assert "No. DRAFT" in printed
    assert "INV/26-27/00042" not in printed


def test_two_hundred_lines_paginate_cleanly() -> None:
    lines = [samples.line(index, "1250.50", "3", discount="100") for index in range(1, 201)]
    view = samples.invoice(lines)
    printed = pages(render_invoice(view))
    count = len(printed)
    assert count >= 4
    for number, page in enumerate(printed, start=1):
        assert f"Page {number} of {count}" in page
        assert "HSN/SAC" in page and "Taxable Value (₹)" in page  # the table header on every page
        assert "Tax Invoice" in page and "INV/26-27/00042" in page  # the running header
        assert ("continued on page" in page) == (number < count)
        if number < count:
            assert f"continued on page {number + 1}" in page
        assert ("continued from page" in page) == (number > 1)
        if number > 1:
            assert f"continued from page {number - 1}" in page
        last = number == count
        for closing in ("Amount in words", "Authorised Signatory", "Total Tax", "Bank details"):
            assert (closing in page) == last, (closing, number)
    everything = " ".join(printed)
    for index in (1, 57, 123, 200):
        assert everything.count(f"Consulting services, item {index} ") == 1
    assert f"Total {samples.formatting_rupees(view.total)}" in printed[-1]


def test_dejavu_is_embedded_and_nothing_else_is_used() -> None:
    used = fonts(render_invoice(intra_invoice(upi_link=upi_link("sharma@okhdfc", "Sharma", Decimal(10)))))
    assert {name.split("+")[-1] for name in used} == {"DejaVuSans", "DejaVuSans-Bold"}
    assert all(used.values()), used  # embedded (subset)
    assert all("+" in name for name in used)  # subset-tagged


def test_upi_qr_link_printed_when_payable_and_absent_otherwise() -> None:
    link = upi_link(
        "sharma.sons@okhdfc", "Sharma & Sons Pvt Ltd", Decimal("5709"), "INV/26-27/00042", "Invoice INV/26-27/00042"
    )
    assert link == (
        "upi://pay?pa=sharma.sons@okhdfc&pn=Sharma%20%26%20Sons%20Pvt%20Ltd&am=5709.00&cu=INR"
        "&tr=INV%2F26-27%2F00042&tn=Invoice%20INV%2F26-27%2F00042"
    )
    content = render_invoice(intra_invoice(upi_link=link, balance_due=Decimal("5709.00")))
    assert link in text(content).replace(" ", "")
    assert "Scan to pay with any UPI app Amount: ₹5,709.00" in text(content)
    assert "upi://" not in text(render_invoice(intra_invoice()))
    # A draft or void invoice is not payable, whatever the caller passed.
    assert "upi://" not in text(render_invoice(intra_invoice(upi_link=link, number=None, status="draft")))
    assert "upi://" not in text(render_invoice(intra_invoice(upi_link=link, status="void")))


def test_notes_terms_and_escaping() -> None:
    view = intra_invoice(notes="Deliver to <gate 2> & call", terms="Payment within 15 days.\nInterest @18% after.")
    printed = text(render_invoice(view))
    assert "Deliver to <gate 2> & call" in printed
    assert "Interest @18% after." in printed


def test_totals_that_do_not_fit_move_whole_to_the_next_page() -> None:
    """35 lines fill page 1; the closing block (words, totals, signatory) is never split across pages."""
    view = samples.invoice([samples.line(index, "1250.50", "3", discount="100") for index in range(1, 36)])
    first, second = pages(render_invoice(view))
    assert "Consulting services, item 35 " in first and "Consulting services" not in second
    assert "continued on page 2" in first and "Page 1 of 2" in first
    assert "continued from page 1" in second and "Page 2 of 2" in second
    for closing in ("Amount in words", "Taxable Value ₹", "Total ₹", "Authorised Signatory"):
        assert closing in second and closing not in first


@pytest.mark.parametrize("columns", list(TaxColumns))
def test_line_table_fits_the_page_even_with_crores(columns: TaxColumns) -> None:
    """Crore amounts and four-decimal prices shrink the table's font; it never runs off the page."""
    big = samples.line(
        99, "4567890.1234", "12345.125", "28", place="29", supply=SupplyType.intra_state, discount="1234567.89"
    )
    for lines in ([samples.line(1, "10")], [big] * 3):
        table = line_table(lines, columns)
        width, _ = table.wrap(CONTENT_WIDTH, 10_000)
        assert width <= CONTENT_WIDTH + 0.01
    printed = text(render_invoice(samples.invoice([big], place="29", supply="intra_state")))
    assert "45,67,890.1234" in printed and "12,345.125" in printed
