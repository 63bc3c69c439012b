"""The exports' file formats: CSV (UTF-8 with a BOM) and XLSX (openpyxl, write-only), written a
batch of rows at a time, with every text cell neutralised against formula injection.

Formula injection (OWASP "CSV Injection"): a spreadsheet takes a cell that starts with `=`, `+`,
`-`, `@`, a tab or a carriage return as a formula (or the start of one) and may run it when the
file is opened. Such a text cell gets a leading single quote, which spreadsheets show as text.
Only text cells: amounts, quantities and dates are written as numbers and dates, never as text,
so a negative amount stays a number.
"""

import csv
import io
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import IO, Any, Literal
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

Kind = Literal["text", "money", "price", "quantity", "rate", "int", "date", "datetime", "bool", "id"]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
INDIA = ZoneInfo("Asia/Kolkata")
BOM = "\ufeff".encode()
# Rupees, Indian digit grouping (en-IN, locale 4009: 12,34,567.89), two decimals.
RUPEES = "[$₹-4009] #,##,##0.00"
NUMBER_FORMATS: dict[Kind, str] = {
    "money": RUPEES,
    "price": RUPEES + "##",  # unit prices hold four decimals (₹0.0125 a screw): shown, not rounded
    "quantity": "#,##,##0.###",
    "rate": "0.00",
    "int": "0",
    "date": "yyyy-mm-dd",
    "datetime": "yyyy-mm-dd hh:mm:ss",
}
XLSX_CHUNK = 64 * 1024


@dataclass(frozen=True)
class Column:
    key: str  # the label of the query's column
    header: str
    kind: Kind = "text"


def neutralise(text: str) -> str:
    """The text as a spreadsheet shows it but never evaluates it (OWASP CSV injection)."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def sheet_text(value: Any) -> str:
    """Text for a spreadsheet cell: control characters (illegal in XML) dropped first, so that what
    remains is what the formula check sees, then neutralised."""
    return neutralise(ILLEGAL_CHARACTERS_RE.sub("", str(value)))


def price_text(value: Decimal) -> str:
    """A four-decimal price exactly, with at least two decimals: 450.00, 0.0125, 12.345."""
    paise = value.quantize(Decimal("0.01"))
    return format(paise if paise == value else value.normalize(), "f")


def csv_value(value: Any, kind: Kind) -> str:
    if value is None:
        return ""
    if kind == "money":
        return format(value, ".2f")
    if kind == "price":
        return price_text(value)
    if kind in ("quantity", "rate", "int"):
        return format(value, "f") if isinstance(value, Decimal) else str(value)
    if kind == "date":
        return value.isoformat()  # type: ignore[no-any-return]
    if kind == "datetime":
        return value.astimezone(INDIA).isoformat(timespec="seconds")  # type: ignore[no-any-return]
    if kind == "bool":
        return "true" if value else "false"
    if kind == "id":
        return str(value)
    return neutralise(str(value))


class CsvWriter:
    media_type = "text/csv; charset=utf-8"
    extension = "csv"

    def __init__(self, title: str, columns: Sequence[Column]) -> None:
        self.columns = columns

    def header(self) -> bytes:
        out = io.StringIO()
        csv.writer(out, lineterminator="\r\n").writerow([c.header for c in self.columns])
        return BOM + out.getvalue().encode()

    def rows(self, rows: Sequence[Sequence[Any]]) -> bytes:
        out = io.StringIO()
        kinds = [c.kind for c in self.columns]
        csv.writer(out, lineterminator="\r\n").writerows(
            [csv_value(v, k) for v, k in zip(row, kinds, strict=True)] for row in rows
        )
        return out.getvalue().encode()

    def finish(self) -> IO[bytes] | None:
        return None

    def close(self) -> None:
        pass


def xlsx_value(ws: WriteOnlyWorksheet, styles: dict[Kind, Any], value: Any, kind: Kind) -> Any:
    if value is None:
        return None
    if kind == "text":
        # A plain string: openpyxl writes a formula only for a string starting with "=", which a
        # neutralised text never does (a WriteOnlyCell per text cell would halve the speed).
        return sheet_text(value)
    if kind == "id":
        return str(value)
    if kind == "bool":
        return bool(value)
    if kind == "datetime":
        value = value.astimezone(INDIA).replace(tzinfo=None)  # Excel has no time zones: Indian time
    cell = WriteOnlyCell(ws, value)
    cell._style = styles[kind]  # the kind's number format (shared: a written cell is never changed)
    return cell


class XlsxWriter:
    """A write-only workbook: openpyxl writes each row to a temporary file as it is appended and
    assembles the zip at the end, so memory stays flat; the file is then read back in chunks."""

    media_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    extension = "xlsx"

    def __init__(self, title: str, columns: Sequence[Column]) -> None:
        self.columns = columns
        self.workbook = Workbook(write_only=True)
        self.sheet: WriteOnlyWorksheet = self.workbook.create_sheet(title[:31])
        self.sheet.freeze_panes = "A2"
        self.styles: dict[Kind, Any] = {}
        for kind, number_format in NUMBER_FORMATS.items():
            model = WriteOnlyCell(self.sheet)
            model.number_format = number_format
            self.styles[kind] = model._style

    def header(self) -> bytes:
        self.sheet.append([c.header for c in self.columns])
        return b""

    def rows(self, rows: Sequence[Sequence[Any]]) -> bytes:
        ws, styles, kinds = self.sheet, self.styles, [c.kind for c in self.columns]
        for row in rows:
            ws.append([xlsx_value(ws, styles, v, k) for v, k in zip(row, kinds, strict=True)])
        return b""

    def finish(self) -> IO[bytes] | None:
        """The workbook, saved to a temporary file (deleted when closed), positioned at its start."""
        file = tempfile.TemporaryFile()  # noqa: SIM115 (the caller closes it once read)
        try:
            self.workbook.save(file)
            file.seek(0)
        except BaseException:
            file.close()
            raise
        return file

    def close(self) -> None:
        self.workbook.close()


Writer = CsvWriter | XlsxWriter
WRITERS: dict[str, type[Writer]] = {"csv": CsvWriter, "xlsx": XlsxWriter}
