"""PDFs and pages of issued documents, rendered from plain data (app/rendering/views.py): reportlab
for the PDFs, segno for UPI QR codes, babel for Indian money. No database, no settings, no web
framework: a view in, bytes out, the same bytes every time."""

from app.rendering.invoice import render_invoice
from app.rendering.upi import InvalidUpiLink, upi_link, upi_qr_svg
from app.rendering.views import Copy

__all__ = ["Copy", "InvalidUpiLink", "render_invoice", "upi_link", "upi_qr_svg"]
