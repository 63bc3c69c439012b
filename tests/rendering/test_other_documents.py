"""Credit note (Rule 53), receipt voucher and statement of account read back with pypdf."""

from decimal import Decimal

from app.rendering import render_credit_note, render_receipt, render_statement
from app.rendering.views import AllocationView
from tests.rendering import samples
from tests.rendering.pdftext import fonts, pages, text


def test_credit_note_names_the_original_invoice() -> None:
    view = samples.credit_note([samples.line(1, "1000", "2", "18")])
    printed = text(render_credit_note(view))
    for field in (
        "Credit Note",
        "Credit Note No.: CN/26-27/00007",
        "Credit Note Date: 25 Nov 2026",
        "Original Invoice No.: INV/26-27/00042",
        "Original Invoice Date: 20 Nov 2026",
        "Goods returned: two units damaged in transit",
        "GSTIN: 29AABCS1429B1ZB",
        "GSTIN: 27AAFFP1234C1Z5",
        "Place of Supply: Maharashtra (27)",
        "IGST ₹360.00",
        "Total Credit ₹2,360.00",
        "Rupees Two Thousand Three Hundred Sixty Only",
        "Authorised Signatory",
        "Original for Recipient",
        "Page 1 of 1",
    ):
        assert field in printed, field
    assert all(fonts(render_credit_note(view)).values())


def test_receipt_figures_words_and_allocations() -> None:
    view = samples.receipt()
    printed = text(render_receipt(view))
    assert view.unallocated == Decimal("14999.50")
    for field in (
        "Receipt Voucher",
        "Receipt No.: RCT/26-27/00003",
        "Receipt Date: 28 Nov 2026",
        "Patel Traders LLP",
        "Received with thanks the sum of ₹1,50,000.00 (Rupees One Lakh Fifty Thousand Only) by Bank transfer.",
        "Mode of payment: Bank transfer",
        "Reference: UTR 412345678901",
        "1 INV/26-27/00042 20 Nov 2026 1,00,000.00",
        "2 INV/26-27/00043 21 Nov 2026 35,000.50",
        "Amount received ₹1,50,000.00",
        "Applied to invoices ₹1,35,000.50",
        "Unallocated (advance) ₹14,999.50",
        "For Sharma & Sons Private Limited",
    ):
        assert field in printed, field


def test_receipt_without_allocations_is_all_advance() -> None:
    view = samples.receipt(allocations=(), amount=Decimal("2500"), mode="upi", reference=None)
    printed = text(render_receipt(view))
    assert "Unallocated (advance) ₹2,500.00" in printed
    assert "Mode of payment: UPI" in printed
    assert "Applied to invoices ₹0.00" in printed


def test_void_receipt_is_watermarked() -> None:
    assert "VOID" in text(render_receipt(samples.receipt(status="void")))
    assert "VOID" not in text(render_receipt(samples.receipt()))


def test_statement_balances_add_up_and_are_printed() -> None:
    view = samples.statement()
    assert view.opening_balance + view.total_debits - view.total_credits == view.closing_balance
    printed = text(render_statement(view))
    for field in (
        "Statement of Account",
        "Period: 01 Oct 2026 to 28 Nov 2026",
        "Opening balance ₹12,500.00",
        "Total debits ₹47,208.00",
        "Total credits ₹40,000.00",
        "Closing balance ₹19,708.00",
        "01 Oct 2026 INV/26-27/00001 Invoice 11,800.00 24,300.00",
        "03 Oct 2026 RCT/26-27/00003 Payment received 20,000.00 16,101.00",
        "Closing balance 47,208.00 40,000.00 19,708.00",
        "Current 1-30 days 31-60 days 61-90 days Over 90 days Total due",
        "₹11,804.00 ₹7,904.00 ₹0.00 ₹0.00 ₹0.00 ₹19,708.00",
    ):
        assert field in printed, field


def test_long_statement_repeats_its_header_and_keeps_the_summary_last() -> None:
    view = samples.statement(entry_count=150)
    printed = pages(render_statement(view))
    assert len(printed) >= 3
    for number, page in enumerate(printed, start=1):
        assert "Date Document Description Debit (₹) Credit (₹) Balance (₹)" in page
        assert f"Page {number} of {len(printed)}" in page
        assert ("Total debits" in page) == (number == len(printed))
    assert view.opening_balance + view.total_debits - view.total_credits == view.closing_balance


def test_statement_with_an_advance_shows_a_negative_balance() -> None:
    view = samples.statement(
        entry_count=0, opening_balance=Decimal("-5000.00"), closing_balance=Decimal("-5000.00"), aging=None
    )
    printed = text(render_statement(view))
    assert "Closing balance ₹-5,000.00" in printed or "Closing balance -₹5,000.00" in printed
    assert AllocationView  # imported for the samples' types
