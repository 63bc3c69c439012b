"""GSTR-1 as the GSTN offline tool's Excel template sheets (b2b,sez,de, b2cl, b2cs, cdnr, cdnur, exp,
exemp, hsn(b2b), hsn(b2c), docs): the tool's column headings on row 4 (rows 1-3 are the template's
summary band, here the sheet's title), one row per document and rate from row 5. Amounts are
numeric cells, dates real dates shown dd-mmm-yyyy, places of supply "29-Karnataka"; text from
customers is neutralised against formula injection (a leading quote when it starts with = + - @,
tab or CR). Written by openpyxl in write-only mode, off the event loop (`render`: seconds of CPU
for a month of 10,000 invoices, on the bounded pool PDFs use, app/core/cpu_work.py)."""

import io
from datetime import date
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from app.core import cpu_work
from app.core.context import Context
from app.domain import gst, uqc
from app.services.billing.gstr1 import DOC_CREDIT_NOTES, Document, Return
from app.services.documents.export_formats import sheet_text

MONEY_FORMAT = "0.00"
DATE_FORMAT = "dd-mmm-yyyy"
_B2B_TYPES = {
    "R": "Regular B2B",
    "SEWP": "SEZ supplies with payment",
    "SEWOP": "SEZ supplies without payment",
    "DE": "Deemed Exp",
}
_NIL_ROWS = {
    "INTRB2B": "Inter-State supplies to registered persons",
    "INTRAB2B": "Intra-State supplies to registered persons",
    "INTRB2C": "Inter-State supplies to unregistered persons",
    "INTRAB2C": "Intra-State supplies to unregistered persons",
}
_NATURES = {1: "Invoices for outward supply", DOC_CREDIT_NOTES: "Credit Note"}


def _pos(code: str) -> str:
    return f"{code}-{gst.STATE_CODES.get(code, 'Other Countries')}"


def _uqc(code: str) -> str:
    unit = uqc.UNITS.get(code)
    return f"{code}-{unit.description}" if unit else code


class _Sheet:
    def __init__(self, book: Workbook, name: str, title: str, headings: list[str]) -> None:
        self.sheet: WriteOnlyWorksheet = book.create_sheet(name)
        self.sheet.append([title])
        self.sheet.append([])
        self.sheet.append([])
        self.sheet.append(headings)

    def row(self, *values: Any) -> None:
        cells: list[Any] = []
        for value in values:
            if isinstance(value, Decimal):
                cell = WriteOnlyCell(self.sheet, value=value)
                cell.number_format = MONEY_FORMAT
            elif isinstance(value, date):
                cell = WriteOnlyCell(self.sheet, value=value)
                cell.number_format = DATE_FORMAT
            elif isinstance(value, str):
                cell = WriteOnlyCell(self.sheet, value=sheet_text(value))
                cell.data_type = "s"
            else:
                cell = value
            cells.append(cell)
        self.sheet.append(cells)


def _per_rate(sheet: _Sheet, documents: list[Document], head: Any, tail: Any) -> None:
    for document in documents:
        for rate, amounts in sorted(document.rates.items()):
            sheet.row(*head(document), rate, amounts.txval, amounts.csamt, *tail(document))


def workbook(result: Return) -> bytes:
    book = Workbook(write_only=True)
    b2b = _Sheet(
        book,
        "b2b,sez,de",
        "Summary For B2B, SEZ, DE (4A, 4B, 6B, 6C)",
        [
            "GSTIN/UIN of Recipient",
            "Receiver Name",
            "Invoice Number",
            "Invoice date",
            "Invoice Value",
            "Place Of Supply",
            "Reverse Charge",
            "Applicable % of Tax Rate",
            "Invoice Type",
            "E-Commerce GSTIN",
            "Rate",
            "Taxable Value",
            "Cess Amount",
        ],
    )
    for d in result.b2b:
        for rate, amounts in sorted(d.rates.items()):
            b2b.row(
                d.ctin or "",
                d.receiver or "",
                d.number,
                d.day,
                d.value,
                _pos(d.place_of_supply),
                "Y" if d.reverse_charge else "N",
                None,
                _B2B_TYPES[d.kind],
                None,
                rate,
                amounts.txval,
                amounts.csamt,
            )
    b2cl = _Sheet(
        book,
        "b2cl",
        "Summary For B2CL(5)",
        [
            "Invoice Number",
            "Invoice date",
            "Invoice Value",
            "Place Of Supply",
            "Applicable % of Tax Rate",
            "Rate",
            "Taxable Value",
            "Cess Amount",
            "E-Commerce GSTIN",
        ],
    )
    _per_rate(b2cl, result.b2cl, lambda d: (d.number, d.day, d.value, _pos(d.place_of_supply), None), lambda d: [None])
    b2cs = _Sheet(
        book,
        "b2cs",
        "Summary For B2CS(7)",
        [
            "Type",
            "Place Of Supply",
            "Applicable % of Tax Rate",
            "Rate",
            "Taxable Value",
            "Cess Amount",
            "E-Commerce GSTIN",
        ],
    )
    for (_, pos, rate), amounts in sorted(result.b2cs.items()):
        if not amounts.is_zero():
            b2cs.row("OE", _pos(pos), None, rate, amounts.txval, amounts.csamt, None)
    cdnr = _Sheet(
        book,
        "cdnr",
        "Summary For CDNR(9B)",
        [
            "GSTIN/UIN of Recipient",
            "Receiver Name",
            "Note Number",
            "Note Date",
            "Note Type",
            "Place Of Supply",
            "Reverse Charge",
            "Note Supply Type",
            "Note Value",
            "Applicable % of Tax Rate",
            "Rate",
            "Taxable Value",
            "Cess Amount",
        ],
    )
    for d in result.cdnr:
        for rate, amounts in sorted(d.rates.items()):
            cdnr.row(
                d.ctin or "",
                d.receiver or "",
                d.number,
                d.day,
                "C",
                _pos(d.place_of_supply),
                "Y" if d.reverse_charge else "N",
                _B2B_TYPES[d.kind],
                d.value,
                None,
                rate,
                amounts.txval,
                amounts.csamt,
            )
    cdnur = _Sheet(
        book,
        "cdnur",
        "Summary For CDNUR(9B)",
        [
            "UR Type",
            "Note Number",
            "Note Date",
            "Note Type",
            "Place Of Supply",
            "Note Value",
            "Applicable % of Tax Rate",
            "Rate",
            "Taxable Value",
            "Cess Amount",
        ],
    )
    _per_rate(
        cdnur,
        result.cdnur,
        lambda d: (d.kind, d.number, d.day, "C", _pos(d.place_of_supply) if d.kind == "B2CL" else None, d.value, None),
        lambda d: [],
    )
    exp = _Sheet(
        book,
        "exp",
        "Summary For EXP(6)",
        [
            "Export Type",
            "Invoice Number",
            "Invoice date",
            "Invoice Value",
            "Port Code",
            "Shipping Bill Number",
            "Shipping Bill Date",
            "Rate",
            "Taxable Value",
            "Cess Amount",
        ],
    )
    _per_rate(
        exp,
        result.exp,
        lambda d: (d.kind, d.number, d.day, d.value, d.port_code, d.shipping_bill_number, d.shipping_bill_date),
        lambda d: [],
    )
    exemp = _Sheet(
        book,
        "exemp",
        "Summary For Nil rated, exempted and non GST outward supplies (8)",
        ["Description", "Nil Rated Supplies", "Exempted(other than nil rated/non GST supply)", "Non-GST Supplies"],
    )
    for kind, label in _NIL_ROWS.items():
        row = result.nil.get(kind)
        if row:
            exemp.row(label, row["nil_amt"], row["expt_amt"], row["ngsup_amt"])
    hsn_headings = [
        "HSN",
        "Description",
        "UQC",
        "Total Quantity",
        "Total Value",
        "Rate",
        "Taxable Value",
        "Integrated Tax Amount",
        "Central Tax Amount",
        "State/UT Tax Amount",
        "Cess Amount",
    ]
    hsn = {
        "b2b": _Sheet(book, "hsn(b2b)", "Summary For HSN(12) - B2B", hsn_headings),
        "b2c": _Sheet(book, "hsn(b2c)", "Summary For HSN(12) - B2C", hsn_headings),
    }
    for (split, code, unit, rate), entry in sorted(result.hsn.items()):
        a = entry.amounts
        if a.is_zero() and not entry.quantity:
            continue
        value = a.txval + a.iamt + a.camt + a.samt + a.csamt
        hsn[split].row(
            code,
            entry.description,
            _uqc(unit),
            float(entry.quantity),  # up to 3 decimals: a general number, not the 2-decimal money format
            value,
            rate,
            a.txval,
            a.iamt,
            a.camt,
            a.samt,
            a.csamt,
        )
    docs = _Sheet(
        book,
        "docs",
        "Summary of documents issued during the tax period (13)",
        ["Nature of Document", "Sr. No. From", "Sr. No. To", "Total Number", "Cancelled"],
    )
    for (nature, _), series in sorted(result.docs.items()):
        ordered = sorted(series.numbers)
        docs.row(_NATURES[nature], ordered[0][1], ordered[-1][1], len(ordered), series.cancelled)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


async def render(ctx: Context, result: Return) -> bytes:
    """`workbook(result)` on the CPU pool, at most PDF_RENDER_CONCURRENCY at once."""
    return await cpu_work.run(ctx.settings, workbook, result)
