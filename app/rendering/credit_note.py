"""A credit note as a PDF (CGST Rule 53): its own number and date, the original invoice's number
and date, the reason, supplier and recipient with GSTIN or "Unregistered", the lines credited with
their taxes, totals and the amount in words, the authorised signatory."""

from decimal import Decimal

from reportlab.platypus import Flowable, KeepTogether, Paragraph, Spacer

from app.rendering import formatting
from app.rendering.blocks import boxes, line_table, signatory, totals_table
from app.rendering.layout import CONTENT_WIDTH, Page, build, escape, party_lines, style, table
from app.rendering.views import Copy, CreditNoteView, TaxColumns

ZERO = Decimal("0.00")


def render_credit_note(view: CreditNoteView, *, copy: Copy = Copy.original) -> bytes:
    """The credit note's PDF. The same view and copy always give the same bytes."""
    page = Page(
        title=view.title,
        number=view.number,
        date_text=formatting.day(view.credit_note_date),
        supplier=view.supplier,
        issued_at=view.issued_at,
        copy_label=copy.label,
        watermark="VOID" if view.is_void else None,
        footer_brand=view.footer_brand,
        logo=view.logo,
        subject=f"Credit note against invoice {view.invoice_number}",
    )
    return build(page, _story(view, copy))


def _story(view: CreditNoteView, copy: Copy) -> list[Flowable]:
    details = [
        f"Credit Note No.: <b>{escape(view.number)}</b>",
        f"Credit Note Date: <b>{formatting.day(view.credit_note_date)}</b>",
        f"Original Invoice No.: <b>{escape(view.invoice_number)}</b>",
        f"Original Invoice Date: <b>{formatting.day(view.invoice_date)}</b>",
        f"Place of Supply: <b>{escape(view.place_of_supply_label)}</b>",
        f"Whether tax is payable on reverse charge: <b>{'Yes' if view.reverse_charge else 'No'}</b>",
        f"Copy: {copy.label}",
    ]
    flow: list[Flowable] = [
        boxes(party_lines(view.supplier), details, titles=("Supplier", "Credit note details")),
        Spacer(1, 4),
        boxes(party_lines(view.recipient), titles=("Recipient",), widths=[CONTENT_WIDTH]),
        Spacer(1, 4),
        boxes([escape(view.reason)], titles=("Reason for credit",), widths=[CONTENT_WIDTH]),
        Spacer(1, 6),
    ]
    if view.lines:
        flow += [line_table(view.lines, view.tax_columns), Spacer(1, 6)]
    flow.append(KeepTogether(_closing(view)))
    return flow


def _totals(view: CreditNoteView) -> list[tuple[str, Decimal, bool]]:
    rows = [("Taxable Value", view.taxable_value, False)]
    tax = view.tax_columns
    if tax in (TaxColumns.cgst_sgst, TaxColumns.cgst_utgst):
        rows.append(("CGST", view.cgst_amount, False))
    if tax is TaxColumns.cgst_sgst:
        rows.append(("SGST", view.sgst_amount, False))
    if tax is TaxColumns.cgst_utgst:
        rows.append(("UTGST", view.utgst_amount, False))
    if tax is TaxColumns.igst:
        rows.append(("IGST", view.igst_amount, False))
    if tax is not TaxColumns.none:
        rows.append(("Total Tax", view.tax_total, False))
    if view.round_off != ZERO:
        rows.append(("Round Off", view.round_off, False))
    rows.append(("Total Credit", view.total, True))
    return rows


def _closing(view: CreditNoteView) -> list[Flowable]:
    left: list[Flowable] = [
        Paragraph("<b>Amount in words</b>", style(7, grey=True)),
        Paragraph(f"<b>{escape(view.words)}</b>", style(8.5)),
    ]
    if view.notes:
        left += [
            Spacer(1, 4),
            Paragraph("<b>Notes</b>", style(7, grey=True)),
            Paragraph(escape(view.notes), style(7.5)),
        ]
    summary = table(
        [[left, totals_table(_totals(view))]],
        [CONTENT_WIDTH - 240, 240],
        [("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0)],
    )
    return [summary, *signatory(view.supplier.legal_name)]
