"""A receipt voucher as a PDF: who paid, how much (figures and words), how, the invoices it
settles and what stays as an advance, signed for the company."""

from reportlab.platypus import Flowable, KeepTogether, Paragraph, Spacer

from app.rendering import formatting
from app.rendering.blocks import boxes, signatory, totals_table
from app.rendering.layout import BOLD, CONTENT_WIDTH, RULE, SHADE, Page, build, escape, party_lines, style, table
from app.rendering.views import ReceiptView

MODES = {
    "cash": "Cash",
    "upi": "UPI",
    "bank_transfer": "Bank transfer",
    "card": "Card",
    "cheque": "Cheque",
    "razorpay": "Online (Razorpay)",
}


def render_receipt(view: ReceiptView) -> bytes:
    """The receipt voucher's PDF. The same view always gives the same bytes."""
    page = Page(
        title=view.title,
        number=view.number,
        date_text=formatting.day(view.receipt_date),
        supplier=view.supplier,
        issued_at=view.issued_at,
        watermark="VOID" if view.is_void else None,
        footer_brand=view.footer_brand,
        logo=view.logo,
        subject=f"Receipt from {view.received_from.legal_name}",
    )
    return build(page, _story(view))


def _story(view: ReceiptView) -> list[Flowable]:
    details = [
        f"Receipt No.: <b>{escape(view.number)}</b>",
        f"Receipt Date: <b>{formatting.day(view.receipt_date)}</b>",
        f"Mode of payment: {escape(MODES.get(view.mode, view.mode))}",
    ]
    if view.reference:
        details.append(f"Reference: {escape(view.reference)}")
    flow: list[Flowable] = [
        boxes(party_lines(view.received_from), details, titles=("Received from", "Receipt details")),
        Spacer(1, 8),
        Paragraph(
            f"Received with thanks the sum of <b>{escape(formatting.rupees(view.amount))}</b> "
            f"(<b>{escape(view.words)}</b>) by {escape(MODES.get(view.mode, view.mode))}.",
            style(9),
        ),
        Spacer(1, 8),
    ]
    if view.allocations:
        rows: list[list[str]] = [["#", "Invoice No.", "Invoice Date", "Amount applied (₹)"]]
        rows += [
            [str(index), item.invoice_number, formatting.day(item.invoice_date), formatting.amount(item.amount)]
            for index, item in enumerate(view.allocations, start=1)
        ]
        flow += [
            Paragraph("<b>Applied to invoices</b>", style(7, grey=True)),
            table(
                rows,
                [24, 180, 120, CONTENT_WIDTH - 324],
                [
                    ("FONT", (0, 0), (-1, 0), BOLD, 8),
                    ("BACKGROUND", (0, 0), (-1, 0), SHADE),
                    ("GRID", (0, 0), (-1, -1), 0.4, RULE),
                    ("ALIGN", (-1, 0), (-1, -1), "RIGHT"),
                ],
                repeatRows=1,
            ),
            Spacer(1, 6),
        ]
    totals = [("Amount received", view.amount, True), ("Applied to invoices", view.allocated, False)]
    totals.append(("Unallocated (advance)", view.unallocated, False))
    closing: list[Flowable] = [totals_table(totals)]
    if view.notes:
        closing += [
            Spacer(1, 4),
            Paragraph("<b>Notes</b>", style(7, grey=True)),
            Paragraph(escape(view.notes), style(7.5)),
        ]
    flow.append(KeepTogether([*closing, *signatory(view.supplier.legal_name)]))
    return flow
