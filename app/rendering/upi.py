"""UPI payment links (NPCI "UPI Linking Specification") and their QR codes.

`upi://pay?pa=<vpa>&pn=<payee>&am=<amount, 2 decimals>&cu=INR&tr=<reference>&tn=<note>`: every
value percent-encoded (RFC 3986, nothing left unescaped but letters, digits and `-._~`, and the
VPA's `@`), so a payee
called "Sharma & Sons" cannot add a parameter. A scanning app pre-fills the payee, amount and note;
`tr` (the invoice number) lets the payment be matched to its invoice."""

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from urllib.parse import quote

import segno
from reportlab.graphics.shapes import Drawing, Rect
from reportlab.lib import colors

from app.rendering.layout import FONT

# user@psp: the handle 2-256 of letters, digits, '.', '_', '-'; the PSP handle letters and digits.
VPA = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{1,255}@[A-Za-z][A-Za-z0-9]{1,63}")
NOTE_LENGTH = 50  # tn: NPCI apps show at most 50 characters
REFERENCE_LENGTH = 35  # tr
PAYEE_LENGTH = 99
MAX_AMOUNT = Decimal("9999999999.99")


class InvalidUpiLink(ValueError):
    """A VPA, amount or reference a UPI app would refuse."""


def valid_vpa(vpa: str) -> bool:
    return VPA.fullmatch(vpa) is not None


def _encode(key: str, value: str) -> str:
    # The VPA keeps its '@' (a query may hold it, RFC 3986 pchar; apps match `pa` literally); it was
    # validated to letters, digits and . _ - so nothing else in it needs escaping.
    return quote(value, safe="@" if key == "pa" else "")


def upi_link(vpa: str, payee: str, amount: Decimal, reference: str | None = None, note: str | None = None) -> str:
    """The `upi://pay` link that asks for `amount` rupees to `vpa`. Raises InvalidUpiLink."""
    vpa = vpa.strip()
    if not valid_vpa(vpa):
        raise InvalidUpiLink(f"not a UPI id (name@bank): {vpa!r}")
    payee = " ".join(payee.split())
    if not payee:
        raise InvalidUpiLink("the payee name is empty")
    try:
        rounded = Decimal(amount).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    except (InvalidOperation, TypeError) as error:
        raise InvalidUpiLink(f"not an amount: {amount!r}") from error
    if not rounded.is_finite() or rounded <= 0 or rounded > MAX_AMOUNT:
        raise InvalidUpiLink(f"the amount must be between 0.01 and {MAX_AMOUNT}: {amount}")
    params = [("pa", vpa), ("pn", payee[:PAYEE_LENGTH]), ("am", f"{rounded:.2f}"), ("cu", "INR")]
    if reference:
        if len(reference) > REFERENCE_LENGTH:
            raise InvalidUpiLink(f"the reference is longer than {REFERENCE_LENGTH} characters")
        params.append(("tr", reference))
    if note:
        params.append(("tn", " ".join(note.split())[:NOTE_LENGTH]))
    return "upi://pay?" + "&".join(f"{key}={_encode(key, value)}" for key, value in params)


def _qr(link: str) -> segno.QRCode:
    return segno.make_qr(link, error="m", boost_error=False)


def upi_qr_svg(link: str, *, scale: int = 4) -> str:
    """The QR as an inline <svg> element (for the public HTML page), no XML declaration."""
    svg: str = _qr(link).svg_inline(scale=scale, border=2, title="UPI payment QR code")
    return svg


def upi_qr_drawing(link: str, size: float) -> Drawing:
    """The QR as vector rectangles for a PDF: `size` points wide with a 2-module quiet zone.
    Dark modules of a row are merged into runs, so a code is a few hundred rectangles."""
    matrix = _qr(link).matrix
    modules = len(matrix) + 4
    cell = size / modules
    drawing = Drawing(size, size, initialFontName=FONT)  # no unembedded Helvetica in the page
    drawing.add(Rect(0, 0, size, size, fillColor=colors.white, strokeColor=None))
    for row_index, row in enumerate(matrix):
        y = size - (row_index + 3) * cell
        start = None
        for column, dark in enumerate([*row, 0]):
            if dark and start is None:
                start = column
            elif not dark and start is not None:
                x = (start + 2) * cell
                drawing.add(Rect(x, y, (column - start) * cell, cell, fillColor=colors.black, strokeColor=None))
                start = None
    return drawing
