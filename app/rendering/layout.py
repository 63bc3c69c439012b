"""The page every document shares: A4, the vendored DejaVu fonts, a running header (logo, supplier,
GSTIN, title, number, date, copy marker) and footer ("Page x of y", "continued", the product's name
on free plans) drawn on every page, a DRAFT or VOID watermark, and deterministic bytes.

"Page x of y" needs the page count before the pages are written: the canvas keeps each page's
drawing and decorates them all at `save` (reportlab's usual deferred-page pattern), one pass."""

import functools
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import BaseDocTemplate, Flowable, Frame, PageTemplate, Table, TableStyle

from app.rendering.views import Party

FONTS = Path(__file__).resolve().parent / "fonts"
FONT = "DejaVuSans"
BOLD = "DejaVuSans-Bold"
PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 28.0
HEADER_HEIGHT = 62.0
FOOTER_HEIGHT = 44.0
CONTENT_WIDTH = PAGE_WIDTH - 2 * MARGIN
GREY = colors.Color(0.35, 0.35, 0.35)
RULE = colors.Color(0.6, 0.6, 0.6)
SHADE = colors.Color(0.93, 0.93, 0.93)
COMPUTER_GENERATED = "This is a computer-generated document."


@functools.cache
def register_fonts() -> None:
    """DejaVu Sans (vendored, with ₹ U+20B9) for all text, embedded as a subset: the same glyphs
    and bytes on every machine, no system fonts needed. Registered once per process."""
    pdfmetrics.registerFont(TTFont(FONT, str(FONTS / "DejaVuSans.ttf")))
    pdfmetrics.registerFont(TTFont(BOLD, str(FONTS / "DejaVuSans-Bold.ttf")))
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=BOLD, italic=FONT, boldItalic=BOLD)


register_fonts()  # before any Paragraph is made: their styles name these fonts


def style(size: float = 8, *, bold: bool = False, right: bool = False, grey: bool = False) -> ParagraphStyle:
    return ParagraphStyle(
        "s",
        fontName=BOLD if bold else FONT,
        fontSize=size,
        leading=size * 1.25,
        alignment=TA_RIGHT if right else 0,
        textColor=GREY if grey else colors.black,
    )


def table(
    data: Sequence[Sequence[Any]], widths: Sequence[float], commands: Sequence[tuple[Any, ...]] = (), **kwargs: Any
) -> Table:
    """A reportlab Table in our font (its cells default to Helvetica, which would stay unembedded)."""
    grid = Table([list(row) for row in data], colWidths=list(widths), **kwargs)
    grid.setStyle(TableStyle([("FONT", (0, 0), (-1, -1), FONT, 8), *commands]))
    return grid


def escape(text: str) -> str:
    """Text for a Paragraph (its markup is XML-like): <, > and & as entities, newlines as breaks."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("\n", "<br/>")


def party_lines(party: Party, *, gstin: bool = True) -> list[str]:
    """A party's block as Paragraph markup: name in bold, trade name, address, state, GSTIN, contact."""
    lines = [f"<b>{escape(party.legal_name)}</b>"]
    if party.trade_name and party.trade_name != party.legal_name:
        lines.append(f"Trade name: {escape(party.trade_name)}")
    lines += [escape(line) for line in party.address_lines if line]
    if party.city_line:
        lines.append(escape(party.city_line))
    if party.state_code:
        lines.append(f"State: {escape(party.state_label)}")
    if gstin:
        lines.append(f"GSTIN: {escape(party.gstin_label)}")
    if party.pan:
        lines.append(f"PAN: {escape(party.pan)}")
    contact = " | ".join(escape(value) for value in (party.phone, party.email) if value)
    if contact:
        lines.append(contact)
    return lines


@dataclass(frozen=True)
class Page:
    """What every page of one document carries."""

    title: str
    number: str
    date_text: str
    supplier: Party
    issued_at: datetime
    copy_label: str | None = None
    watermark: str | None = None  # DRAFT / VOID
    footer_brand: str | None = None
    logo: bytes | None = None
    subject: str = ""
    reference: str | None = None  # the header's right-hand line; "No. <number>    Date: <date>" by default


def pdf_date(moment: datetime) -> str:
    """The PDF's CreationDate from the document's own timestamp (UTC when naive)."""
    offset = moment.utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    hours, mins = divmod(abs(minutes), 60)
    return f"D:{moment:%Y%m%d%H%M%S}{sign}{hours:02d}'{mins:02d}'"


class _DocumentCanvas(Canvas):  # type: ignore[misc]  # reportlab has no type information
    """Keeps every page until `save`, then draws header and footer knowing the page count."""

    def __init__(self, *args: Any, page: Page, logo: ImageReader | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._page = page
        self._logo = logo
        self._pages: list[dict[str, Any]] = []
        created = pdf_date(page.issued_at)
        self.setDateFormatter(lambda *_: created)
        self.setTitle(f"{page.title} {page.number}")
        self.setAuthor(page.supplier.legal_name)
        self.setSubject(page.subject or page.title)
        self.setCreator("RMS Billing")

    def showPage(self) -> None:
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._pages)
        for index, state in enumerate(self._pages, start=1):
            self.__dict__.update(state)
            self._header(index)
            self._footer(index, total)
            super().showPage()
        super().save()

    def _header(self, index: int) -> None:
        page, top = self._page, PAGE_HEIGHT - MARGIN + 6
        left = MARGIN
        if self._logo is not None:
            width, height = self._logo.getSize()
            scale = min(40 / height, 110 / width)
            self.drawImage(self._logo, MARGIN, top - 40 * 1.0, width * scale, height * scale, mask="auto")
            left += width * scale + 8
        self.setFillColor(colors.black)
        self.setFont(BOLD, 11)
        self.drawString(left, top - 11, page.supplier.legal_name[:60])
        self.setFont(FONT, 7.5)
        lines = []
        if page.supplier.trade_name and page.supplier.trade_name != page.supplier.legal_name:
            lines.append(page.supplier.trade_name[:70])
        lines.append(f"GSTIN: {page.supplier.gstin_label}")
        for offset, line in enumerate(lines):
            self.drawString(left, top - 22 - 9 * offset, line)
        right = PAGE_WIDTH - MARGIN
        self.setFont(BOLD, 14)
        self.drawRightString(right, top - 12, page.title)
        self.setFont(FONT, 7.5)
        if page.copy_label:
            self.drawRightString(right, top - 23, page.copy_label)
        self.setFont(FONT, 8)
        self.drawRightString(right, top - 34, page.reference or f"No. {page.number}    Date: {page.date_text}")
        self.setStrokeColor(RULE)
        self.setLineWidth(0.6)
        rule = PAGE_HEIGHT - MARGIN - HEADER_HEIGHT + 18
        self.line(MARGIN, rule, PAGE_WIDTH - MARGIN, rule)
        if index > 1:
            self.setFont(FONT, 7)
            self.setFillColor(GREY)
            self.drawRightString(right, rule - 9, f"continued from page {index - 1}")

    def _footer(self, index: int, total: int) -> None:
        page = self._page
        base = MARGIN - 6
        self.setStrokeColor(RULE)
        self.setLineWidth(0.6)
        self.line(MARGIN, base + 22, PAGE_WIDTH - MARGIN, base + 22)
        self.setFillColor(GREY)
        self.setFont(FONT, 7)
        self.drawString(MARGIN, base + 12, COMPUTER_GENERATED)
        if page.footer_brand:
            self.drawString(MARGIN, base + 3, page.footer_brand)
        self.setFont(FONT, 8)
        self.setFillColor(colors.black)
        self.drawCentredString(PAGE_WIDTH / 2, base + 12, f"Page {index} of {total}")
        if index < total:
            self.setFont(FONT, 7)
            self.drawRightString(PAGE_WIDTH - MARGIN, base + 12, f"continued on page {index + 1}")


def _watermark(text: str) -> Any:
    def draw(canvas: Canvas, _doc: Any) -> None:
        canvas.saveState()
        canvas.setFillColor(colors.Color(0.85, 0.85, 0.85))
        canvas.setFont(BOLD, 110)
        canvas.translate(PAGE_WIDTH / 2, PAGE_HEIGHT / 2)
        canvas.rotate(45)
        canvas.drawCentredString(0, -40, text)
        canvas.restoreState()

    return draw


def build(page: Page, story: Sequence[Flowable]) -> bytes:
    """The document's bytes: the same `page` and story always give the same bytes (reportlab's
    invariant mode: no random file id, no wall-clock date; the creation date is the document's)."""
    register_fonts()
    buffer = io.BytesIO()
    doc = BaseDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN + HEADER_HEIGHT - 14,
        bottomMargin=MARGIN + FOOTER_HEIGHT - 14,
        invariant=1,
        title=f"{page.title} {page.number}",
        author=page.supplier.legal_name,
        subject=page.subject or page.title,
        creator="RMS Billing",
        initialFontName=FONT,  # no unembedded Helvetica left in the page resources
    )
    frame = Frame(doc.leftMargin, doc.bottomMargin, doc.width, doc.height, id="body", leftPadding=0, rightPadding=0)
    on_page = _watermark(page.watermark) if page.watermark else None
    template = (
        PageTemplate(id="page", frames=[frame], onPage=on_page) if on_page else PageTemplate(id="page", frames=[frame])
    )
    doc.addPageTemplates([template])
    logo = ImageReader(io.BytesIO(page.logo)) if page.logo else None
    doc.build(list(story), canvasmaker=functools.partial(_DocumentCanvas, page=page, logo=logo))
    return buffer.getvalue()
