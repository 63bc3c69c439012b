"""PDFs and pages of issued documents, rendered from plain data (app/rendering/views.py): reportlab
for the PDFs, segno for UPI QR codes, babel for Indian money. No database, no settings, no web
framework: a view in, bytes out, the same bytes every time."""

from app.rendering.credit_note import render_credit_note
from app.rendering.invoice import render_invoice
from app.rendering.receipt import render_receipt
from app.rendering.statement import render_statement
from app.rendering.upi import InvalidUpiLink, upi_link, upi_qr_svg, valid_vpa
from app.rendering.views import Copy

__all__ = [
    "Copy",
    "InvalidUpiLink",
    "render_credit_note",
    "render_invoice",
    "render_receipt",
    "render_statement",
    "upi_link",
    "upi_qr_svg",
    "valid_vpa",
]
