"""Pieces several documents print: the line table of an invoice or credit note (Rule 46(g)-(m)),
the totals box, two-column boxes, the signatory and the UPI block."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import Flowable, Paragraph, Spacer, Table

from app.rendering import formatting
from app.rendering.layout import BOLD, CONTENT_WIDTH, FONT, RULE, SHADE, escape, style, table
from app.rendering.upi import upi_qr_drawing
from app.rendering.views import InvoiceLineView, TaxColumns

CELL = 7.0  # the line table's font size
PADDING = 6.0
DESCRIPTION_MIN = 110.0
TAX_LABELS = {
    TaxColumns.cgst_sgst: (("CGST", "cgst"), ("SGST", "sgst")),
    TaxColumns.cgst_utgst: (("CGST", "cgst"), ("UTGST", "utgst")),
    TaxColumns.igst: (("IGST", "igst"),),
    TaxColumns.none: (),
}


@dataclass(frozen=True)
class Column:
    head: str  # first header row (spans both rows unless `sub` is set)
    sub: str | None  # second header row (tax components: "%" / "Amount")
    cell: Callable[[InvoiceLineView], str]
    numeric: bool = True


def _amount_of(component: str) -> Callable[[InvoiceLineView], str]:
    return lambda line: formatting.amount(getattr(line, f"{component}_amount"))


def _rate_of(component: str) -> Callable[[InvoiceLineView], str]:
    return lambda line: formatting.rate(line.component_rate(component))


def columns(tax: TaxColumns) -> list[Column]:
    cols = [
        Column("#", None, lambda line: str(line.position)),
        Column("Description", None, lambda line: line.description, numeric=False),
        Column("HSN/SAC", None, lambda line: line.hsn_sac or "-", numeric=False),
        Column("Qty", None, lambda line: formatting.quantity(line.quantity)),
        Column("Unit", None, lambda line: line.unit or "-", numeric=False),
        Column("Rate (₹)", None, lambda line: formatting.unit_price(line.unit_price)),
        Column("Value (₹)", None, lambda line: formatting.amount(line.total_value)),
        Column("Discount (₹)", None, lambda line: formatting.amount(line.discount)),
        Column("Taxable\nValue (₹)", None, lambda line: formatting.amount(line.taxable_value)),
    ]
    for label, component in TAX_LABELS[tax]:
        cols.append(Column(label, "Rate", _rate_of(component)))
        cols.append(Column(label, "Amount (₹)", _amount_of(component)))
    cols.append(Column("Total (₹)", None, lambda line: formatting.amount(line.total)))
    return cols


def _width(text: str, font: str = FONT, size: float = CELL) -> float:
    widths: list[float] = [stringWidth(part, font, size) for part in text.split("\n")]
    return max(widths) + PADDING


def line_table(lines: Sequence[InvoiceLineView], tax: TaxColumns) -> Table:
    """Every line with its HSN/SAC, quantity and unit, rate, value, discount, taxable value and each
    tax component's rate and amount. The two header rows repeat at the top of every page."""
    cols = columns(tax)
    cells = [[col.cell(line) for col in cols] for line in lines]
    widths = []
    for index, col in enumerate(cols):
        label = col.sub if col.sub else col.head
        widest = max([_width(label, BOLD)] + [_width(row[index]) for row in cells])
        widths.append(widest)
    described = cols.index(next(col for col in cols if col.head == "Description"))
    widths[described] = max(CONTENT_WIDTH - (sum(widths) - widths[described]), DESCRIPTION_MIN)
    text_style = style(CELL)
    for row in cells:
        row[described] = Paragraph(escape(row[described]), text_style)
    head = [
        col.head if col.sub is None or index == 0 or cols[index - 1].head != col.head else ""
        for index, col in enumerate(cols)
    ]
    sub = [col.sub or "" for col in cols]
    commands: list[tuple[Any, ...]] = [
        ("FONT", (0, 0), (-1, -1), FONT, CELL),
        ("FONT", (0, 0), (-1, 1), BOLD, CELL),
        ("BACKGROUND", (0, 0), (-1, 1), SHADE),
        ("GRID", (0, 0), (-1, -1), 0.4, RULE),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("VALIGN", (0, 0), (-1, 1), "MIDDLE"),
        ("ALIGN", (0, 0), (-1, 1), "CENTER"),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]
    for index, col in enumerate(cols):
        if col.sub is None:
            commands.append(("SPAN", (index, 0), (index, 1)))
        elif index + 1 < len(cols) and cols[index + 1].head == col.head:
            commands.append(("SPAN", (index, 0), (index + 1, 0)))
        if col.numeric:
            commands.append(("ALIGN", (index, 2), (index, -1), "RIGHT"))
    return table([head, sub, *cells], widths, commands, repeatRows=2)


def totals_table(rows: Sequence[tuple[str, Decimal, bool]], width: float = 230) -> Table:
    """Label / ₹ amount rows; bold ones (the grand total) shaded."""
    data = [[label, formatting.rupees(value)] for label, value, _ in rows]
    commands: list[tuple[Any, ...]] = [
        ("FONT", (0, 0), (-1, -1), FONT, 8),
        ("ALIGN", (1, 0), (1, -1), "RIGHT"),
        ("LINEBELOW", (0, 0), (-1, -1), 0.3, RULE),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]
    for index, (_, _, bold) in enumerate(rows):
        if bold:
            commands += [("FONT", (0, index), (-1, index), BOLD, 9), ("BACKGROUND", (0, index), (-1, index), SHADE)]
    return table(data, [width * 0.5, width * 0.5], commands, hAlign="RIGHT")


def boxes(*columns_: Sequence[str], titles: Sequence[str] = (), widths: Sequence[float] | None = None) -> Table:
    """Side-by-side boxes of Paragraph lines (supplier | details, bill to | ship to)."""
    body = style(8)
    cells: list[Any] = []
    for index, lines in enumerate(columns_):
        title = [Paragraph(f"<b>{escape(titles[index])}</b>", style(7, grey=True))] if index < len(titles) else []
        cells.append(title + [Paragraph(line, body) for line in lines])
    count = len(columns_)
    return table(
        [cells],
        list(widths) if widths else [CONTENT_WIDTH / count] * count,
        [
            ("BOX", (0, 0), (-1, -1), 0.5, RULE),
            ("INNERGRID", (0, 0), (-1, -1), 0.5, RULE),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LEFTPADDING", (0, 0), (-1, -1), 5),
            ("RIGHTPADDING", (0, 0), (-1, -1), 5),
        ],
    )


def signatory(supplier_name: str) -> list[Flowable]:
    """'For <supplier>', room to sign, 'Authorised Signatory' (a list: nested KeepTogethers misjudge heights)."""
    return [
        Spacer(1, 6),
        Paragraph(f"For <b>{escape(supplier_name)}</b>", style(8.5, right=True)),
        Spacer(1, 26),
        Paragraph("Authorised Signatory", style(8.5, right=True)),
    ]


def upi_block(link: str, amount: Decimal) -> Table:
    """The QR beside the words 'Scan to pay', the amount and the link itself as text."""
    text = [
        Paragraph("<b>Scan to pay with any UPI app</b>", style(8.5)),
        Paragraph(f"Amount: {escape(formatting.rupees(amount))}", style(8)),
        Paragraph(escape(link), style(6.5, grey=True)),
    ]
    return table(
        [[upi_qr_drawing(link, 84), text]],
        [92, CONTENT_WIDTH - 92],
        [("VALIGN", (0, 0), (-1, -1), "MIDDLE"), ("LEFTPADDING", (0, 0), (-1, -1), 0)],
    )


def paragraphs(lines: Sequence[str], size: float = 8) -> list[Flowable]:
    return [Paragraph(line, style(size)) for line in lines]
