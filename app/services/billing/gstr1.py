"""GSTR-1: one company's (one GSTIN's) outward supplies of a month, in the structure of the GSTN
offline tool / API JSON (README, "GSTR-1"), its summary per section, and the offline tool's sheets
(app.services.billing.gstr1_xlsx).

Where each issued invoice goes (voided ones only count as cancelled in `doc_issue`):
- a supplier that was not a regular taxpayer when it issued the document (composition, unregistered)
  files no GSTR-1 for it: left out of every section, counted in the summary's `excluded`;
- exports -> `exp` (WPAY with payment of IGST, WOPAY under LUT), every line;
- SEZ supplies -> `b2b` with inv_typ SEWP / SEWOP, every line;
- a registered recipient -> `b2b` (inv_typ R);
- inter-state to an unregistered recipient above the B2CL threshold in force on the invoice date
  (gst_thresholds) -> `b2cl`; every other unregistered supply -> `b2cs`, aggregated by type,
  place of supply and rate.
Lines of a regular (not zero-rated) supply at rate 0 are nil-rated, and every line of a bill of
supply (and the rate-0 lines of an invoice-cum-bill of supply) exempt: they go to `nil` by
inter/intra-state and registered or not, not to the sections above. Nothing is non-GST (no line
says so). Credit notes follow their invoice: registered or SEZ -> `cdnr`, B2CL or export ->
`cdnur`, B2CS and nil lines net against `b2cs` and `nil` (as the portal asks). `hsn` holds every
line of the month (credit notes subtracted), split B2B / B2C like the portal since 2025.
"""

import re
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.context import Context
from app.core.errors import NotFound, RuleViolation
from app.domain import uqc
from app.domain.statuses import InvoiceStatus
from app.domain.zero_rated import SEZ, SupplyCategory, TaxTreatment
from app.models.billing.business import Company
from app.models.billing.credit_note import CreditNote, CreditNoteLine
from app.models.billing.invoice import Invoice, InvoiceLine
from app.repositories.billing.companies import CompanyRepository
from app.repositories.billing.gstr1 import Gstr1Repository, GstThresholdRepository
from app.schemas.billing.gstr1 import Gstr1Summary, Register, RegisterTotals, SectionTotals, TaxAmounts

ZERO = Decimal("0.00")
GST_START = date(2017, 7, 1)
PERIOD_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])$"
SECTIONS = ("b2b", "b2cl", "b2cs", "exp", "nil", "cdnr", "cdnur")
CREDIT_SECTIONS = frozenset({"cdnr", "cdnur"})
# GSTN document natures in doc_issue: 1 invoices for outward supply, 5 credit notes.
DOC_INVOICES, DOC_CREDIT_NOTES = 1, 5
_DIGITS = re.compile(r"[0-9]+")


@dataclass
class Amounts:
    txval: Decimal = ZERO
    iamt: Decimal = ZERO
    camt: Decimal = ZERO
    samt: Decimal = ZERO  # SGST or UTGST
    csamt: Decimal = ZERO  # cess: no line carries one yet

    def add(self, other: "Amounts", sign: int = 1) -> None:
        self.txval += sign * other.txval
        self.iamt += sign * other.iamt
        self.camt += sign * other.camt
        self.samt += sign * other.samt
        self.csamt += sign * other.csamt

    def is_zero(self) -> bool:
        return not any((self.txval, self.iamt, self.camt, self.samt, self.csamt))


def line_amounts(line: InvoiceLine | CreditNoteLine) -> Amounts:
    return Amounts(
        txval=line.taxable_value,
        iamt=line.igst_amount,
        camt=line.cgst_amount,
        samt=line.sgst_amount + line.utgst_amount,
    )


@dataclass
class Document:
    """One invoice or credit note as a section lists it: its header and its amounts per rate."""

    number: str
    day: date
    value: Decimal
    place_of_supply: str
    reverse_charge: bool
    kind: str  # inv_typ (b2b, cdnr), exp_typ (exp), typ (cdnur); "" elsewhere
    ctin: str | None = None
    receiver: str | None = None
    port_code: str | None = None
    shipping_bill_number: str | None = None
    shipping_bill_date: date | None = None
    rates: dict[Decimal, Amounts] = field(default_factory=dict)


@dataclass
class HsnRow:
    description: str
    quantity: Decimal = Decimal("0.000")
    amounts: Amounts = field(default_factory=Amounts)


@dataclass
class Series:
    """One numbering series: its numbers share a shape (`#/#-#` for 001/26-27, `INV/#-#/#` for
    INV/26-27/00001) and sort by their digit runs, wherever the pattern puts the sequence."""

    shape: str
    numbers: list[tuple[tuple[int, ...], str]] = field(default_factory=list)
    cancelled: int = 0


@dataclass
class Return:
    """The month's return, amounts as Decimals: rendered as GSTN JSON, as sheets, and summarised."""

    gstin: str
    period: str  # YYYY-MM
    b2b: list[Document] = field(default_factory=list)
    b2cl: list[Document] = field(default_factory=list)
    exp: list[Document] = field(default_factory=list)
    cdnr: list[Document] = field(default_factory=list)
    cdnur: list[Document] = field(default_factory=list)
    # (INTER|INTRA, place of supply, rate) -> net amounts
    b2cs: dict[tuple[str, str, Decimal], Amounts] = field(default_factory=lambda: defaultdict(Amounts))
    # sply_ty (INTRB2B ...) -> {"nil_amt" | "expt_amt" | "ngsup_amt": amount}
    nil: dict[str, dict[str, Decimal]] = field(default_factory=dict)
    # (b2b|b2c, hsn, uqc, rate) -> row
    hsn: dict[tuple[str, str, str, Decimal], HsnRow] = field(default_factory=dict)
    # (document nature, series shape) -> series
    docs: dict[tuple[int, str], Series] = field(default_factory=dict)
    excluded: Amounts = field(default_factory=Amounts)
    excluded_documents: int = 0
    lines_without_hsn: int = 0
    register_invoices: Amounts = field(default_factory=Amounts)
    register_credit_notes: Amounts = field(default_factory=Amounts)
    invoice_count: int = 0
    credit_note_count: int = 0


def period_range(period: str, *, today: date) -> tuple[date, date]:
    """First and last day of a `YYYY-MM` month (the route checks the pattern): 400 before GST
    (July 2017) or after the current month (India)."""
    year, month = int(period[:4]), int(period[5:7])
    # Compared as (year, month) before any date is built: year 0000 or 9999 must be a 400, not a 500.
    if (year, month) < (GST_START.year, GST_START.month):
        raise RuleViolation("period", "GST returns start with July 2017.", code="gstr1-period-before-gst")
    if (year, month) > (today.year, today.month):
        raise RuleViolation("period", "The period is after the current month.", code="gstr1-period-in-future")
    first, following = date(year, month, 1), date(year + month // 12, month % 12 + 1, 1)
    return first, date.fromordinal(following.toordinal() - 1)


async def company_with_gstin(session: AsyncSession, company_id: uuid.UUID) -> Company:
    company = await CompanyRepository(session).get(company_id)
    if company is None:
        raise NotFound("No company with this id.", code="company-not-found")
    if company.gstin is None:
        raise RuleViolation(
            "company_id", "The company has no GSTIN: it files no GSTR-1.", code="gstr1-company-unregistered"
        )
    return company


async def build(session: AsyncSession, ctx: Context, *, company_id: uuid.UUID, period: str) -> Return:
    company = await company_with_gstin(session, company_id)
    first, last = period_range(period, today=ctx.today)
    repo = Gstr1Repository(session)
    invoices = await repo.invoices(company.id, first, last)
    notes = await repo.credit_notes(company.id, first, last)
    # A credit note of this month may credit an invoice of an earlier month: its lines' units too.
    this_month = {line.id for invoice in invoices for line in invoice.lines}
    credited = {line.invoice_line_id for note, _ in notes for line in note.lines} - this_month
    earlier = await repo.line_units(credited)
    product_ids = {line.product_id for invoice in invoices for line in invoice.lines if line.product_id}
    units = await repo.product_units(product_ids | {product for product, _ in earlier.values() if product})
    thresholds = await GstThresholdRepository(session).dated("b2cl")
    assert company.gstin is not None
    result = Return(gstin=company.gstin, period=period)
    builder = _Builder(result, thresholds, units)
    for line_id, (product_id, unit) in earlier.items():
        builder.line_units[line_id] = builder.unit_of(product_id, unit)
    builder.run(invoices, notes)
    return result


def threshold_on(thresholds: Sequence[tuple[date, Decimal]], day: date) -> Decimal | None:
    """The B2CL threshold in force on `day` (the latest row from on or before it); None: none yet."""
    amount = None
    for start, value in thresholds:
        if start <= day:
            amount = value
    return amount


class _Builder:
    def __init__(self, result: Return, thresholds: Sequence[tuple[date, Decimal]], units: dict[uuid.UUID, str]) -> None:
        self.result, self.thresholds, self.units = result, thresholds, units
        # units of the invoice lines credit notes refer to, filled as invoices are read
        self.line_units: dict[uuid.UUID, str] = {}

    def run(self, invoices: Iterable[Invoice], notes: Iterable[tuple[CreditNote, Invoice]]) -> None:
        for invoice in invoices:
            void = invoice.status == InvoiceStatus.void
            self._series(DOC_INVOICES, invoice.number or "", cancelled=void)
            if not void:
                self._invoice(invoice)
        for note, invoice in notes:
            self._series(DOC_CREDIT_NOTES, note.number, cancelled=False)
            self._credit_note(note, invoice)

    def unit_of(self, product_id: uuid.UUID | None, unit: str | None) -> str:
        """A line's UQC: its product's, else its own unit when that is a UQC, else OTH."""
        product_unit = self.units.get(product_id) if product_id else None
        return product_unit or _uqc(unit)

    def section(self, invoice: Invoice) -> str:
        if invoice.supplier_registration_type != "regular":
            return "excluded"
        if invoice.supply_category == SupplyCategory.export:
            return "exp"
        if invoice.supply_category in SEZ or invoice.recipient.get("gstin"):
            return "b2b"
        limit = threshold_on(self.thresholds, invoice.invoice_date)
        if invoice.supply_type == "inter_state" and limit is not None and invoice.total > limit:
            return "b2cl"
        return "b2cs"

    @staticmethod
    def nil_column(invoice: Invoice, rate: Decimal) -> str | None:
        """Where a line of a regular supply at this rate goes in `nil` (None: it is taxable)."""
        if invoice.supply_category != SupplyCategory.regular:
            return None
        if invoice.document_type == "bill_of_supply":
            return "expt_amt"
        if rate == 0:
            return "expt_amt" if invoice.document_type == "invoice_cum_bill_of_supply" else "nil_amt"
        return None

    def _invoice(self, invoice: Invoice) -> None:
        result, section = self.result, self.section(invoice)
        totals = Amounts()
        for line in invoice.lines:
            totals.add(line_amounts(line))
        result.invoice_count += 1
        result.register_invoices.add(totals)
        if section == "excluded":
            result.excluded.add(totals)
            result.excluded_documents += 1
            return
        document = self._document(invoice, invoice.number or "", invoice.invoice_date, invoice.total, section)
        for line in invoice.lines:
            self.line_units[line.id] = self.unit_of(line.product_id, line.unit)
            self._hsn(invoice, line, line.quantity, self.line_units[line.id], sign=1)
            self._place(invoice, document, section, line, sign=1)
        if document.rates:
            {"b2b": result.b2b, "b2cl": result.b2cl, "exp": result.exp}.get(section, []).append(document)

    def _credit_note(self, note: CreditNote, invoice: Invoice) -> None:
        result, section = self.result, self.section(invoice)
        totals = Amounts()
        for line in note.lines:
            totals.add(line_amounts(line))
        result.credit_note_count += 1
        result.register_credit_notes.add(totals)
        if section == "excluded":
            result.excluded.add(totals, -1)
            result.excluded_documents += 1
            return
        target = {"b2b": "cdnr", "b2cl": "cdnur", "exp": "cdnur"}.get(section, section)
        document = self._document(invoice, note.number, note.credit_note_date, note.total, target)
        for line in note.lines:
            unit = self.line_units.get(line.invoice_line_id) or _uqc(None)
            self._hsn(invoice, line, line.quantity or Decimal("0.000"), unit, sign=-1)
            self._place(invoice, document, target, line, sign=-1)
        if document.rates:
            (result.cdnr if target == "cdnr" else result.cdnur).append(document)

    def _document(self, invoice: Invoice, number: str, day: date, value: Decimal, section: str) -> Document:
        treatment = invoice.tax_treatment
        with_igst = treatment == TaxTreatment.with_payment_of_igst
        if section in ("b2b", "cdnr"):
            kind = "R" if invoice.supply_category == SupplyCategory.regular else ("SEWP" if with_igst else "SEWOP")
        elif section == "exp":
            kind = "WPAY" if with_igst else "WOPAY"
        elif section == "cdnur":
            exported = invoice.supply_category == SupplyCategory.export
            kind = ("EXPWP" if with_igst else "EXPWOP") if exported else "B2CL"
        else:
            kind = ""
        return Document(
            number=number,
            day=day,
            value=value,
            place_of_supply=invoice.place_of_supply,
            reverse_charge=invoice.reverse_charge,
            kind=kind,
            ctin=invoice.recipient.get("gstin"),
            receiver=invoice.recipient.get("name"),
            port_code=invoice.port_code,
            shipping_bill_number=invoice.shipping_bill_number,
            shipping_bill_date=invoice.shipping_bill_date,
        )

    def _place(
        self, invoice: Invoice, document: Document, section: str, line: InvoiceLine | CreditNoteLine, *, sign: int
    ) -> None:
        amounts, rate = line_amounts(line), line.gst_rate
        column = self.nil_column(invoice, rate)
        if column is not None:
            registered = "B2B" if invoice.recipient.get("gstin") else "B2C"
            kind = ("INTR" if invoice.supply_type == "inter_state" else "INTRA") + registered
            row = self.result.nil.setdefault(kind, {"nil_amt": ZERO, "expt_amt": ZERO, "ngsup_amt": ZERO})
            row[column] += sign * amounts.txval
        elif section == "b2cs":
            supply = "INTER" if invoice.supply_type == "inter_state" else "INTRA"
            self.result.b2cs[(supply, invoice.place_of_supply, rate)].add(amounts, sign)
        else:
            document.rates.setdefault(rate, Amounts()).add(amounts)

    def _hsn(
        self, invoice: Invoice, line: InvoiceLine | CreditNoteLine, quantity: Decimal, unit: str, *, sign: int
    ) -> None:
        if not line.hsn_sac:
            self.result.lines_without_hsn += 1
            return
        service = line.hsn_sac.startswith("99")
        unit = "NA" if service else unit
        registered = invoice.supply_category in SEZ or bool(invoice.recipient.get("gstin"))
        key = ("b2b" if registered else "b2c", line.hsn_sac, unit, line.gst_rate)
        row = self.result.hsn.setdefault(key, HsnRow(description=line.description[:30]))
        if not service:
            row.quantity += sign * quantity
        row.amounts.add(line_amounts(line), sign)

    def _series(self, nature: int, number: str, *, cancelled: bool) -> None:
        shape = _DIGITS.sub("#", number)
        series = self.result.docs.setdefault((nature, shape), Series(shape))
        series.numbers.append((tuple(int(run) for run in _DIGITS.findall(number)), number))
        series.cancelled += cancelled


def _uqc(unit: str | None) -> str:
    """A line's unit as a GST UQC: the code itself when it is one, else OTH (others)."""
    code = (unit or "").strip().upper()
    return code if code in uqc.UNITS else "OTH"


# -- GSTN JSON ---------------------------------------------------------------------------------------


def _n(value: Decimal) -> float:
    """A money or quantity value as the JSON number GSTN expects (exact: 2 or 3 decimals, far
    below 2**53, print back as written)."""
    return float(value)


def _rate(rate: Decimal) -> float | int:
    return int(rate) if rate == rate.to_integral_value() else float(rate)


def _day(day: date) -> str:
    return day.strftime("%d-%m-%Y")


def _itm_det(rate: Decimal, amounts: Amounts, *, igst: bool = True, intra: bool = True) -> dict[str, Any]:
    """rt, txval, then IGST and/or CGST and SGST as asked, then cess (GSTN's item detail)."""
    det: dict[str, Any] = {"rt": _rate(rate), "txval": _n(amounts.txval)}
    if igst:
        det["iamt"] = _n(amounts.iamt)
    if intra:
        det |= {"camt": _n(amounts.camt), "samt": _n(amounts.samt)}
    return det | {"csamt": _n(amounts.csamt)}


def _itms(document: Document, *, igst_only: bool = False) -> list[dict[str, Any]]:
    return [
        {"num": i, "itm_det": _itm_det(rate, amounts, intra=not igst_only)}
        for i, (rate, amounts) in enumerate(sorted(document.rates.items()), start=1)
    ]


def _by_ctin(documents: list[Document], key: str, render: Any) -> list[dict[str, Any]]:
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for document in documents:
        grouped[document.ctin or ""].append(render(document))
    return [{"ctin": ctin, key: rows} for ctin, rows in sorted(grouped.items())]


def to_json(result: Return) -> dict[str, Any]:
    """The return in GSTN's JSON: sections with nothing to report are left out, as the tool does."""
    year, month = result.period.split("-")
    out: dict[str, Any] = {"gstin": result.gstin, "fp": f"{month}{year}", "version": "GST3.2", "hash": "hash"}

    def b2b(d: Document) -> dict[str, Any]:
        return {
            "inum": d.number,
            "idt": _day(d.day),
            "val": _n(d.value),
            "pos": d.place_of_supply,
            "rchrg": "Y" if d.reverse_charge else "N",
            "inv_typ": d.kind,
            "itms": _itms(d),
        }

    def cdnr(d: Document) -> dict[str, Any]:
        return {
            "ntty": "C",
            "nt_num": d.number,
            "nt_dt": _day(d.day),
            "val": _n(d.value),
            "pos": d.place_of_supply,
            "rchrg": "Y" if d.reverse_charge else "N",
            "inv_typ": d.kind,
            "itms": _itms(d),
        }

    if result.b2b:
        out["b2b"] = _by_ctin(result.b2b, "inv", b2b)
    if result.b2cl:
        by_pos: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for d in result.b2cl:
            large = {"inum": d.number, "idt": _day(d.day), "val": _n(d.value), "itms": _itms(d, igst_only=True)}
            by_pos[d.place_of_supply].append(large)
        out["b2cl"] = [{"pos": pos, "inv": rows} for pos, rows in sorted(by_pos.items())]
    b2cs = [
        {"sply_ty": supply, "pos": pos, "typ": "OE"}
        | _itm_det(rate, amounts, igst=supply == "INTER", intra=supply == "INTRA")
        for (supply, pos, rate), amounts in sorted(result.b2cs.items())
        if not amounts.is_zero()
    ]
    if b2cs:
        out["b2cs"] = b2cs
    if result.cdnr:
        out["cdnr"] = _by_ctin(result.cdnr, "nt", cdnr)
    if result.cdnur:
        out["cdnur"] = [
            {"typ": d.kind, "ntty": "C", "nt_num": d.number, "nt_dt": _day(d.day), "val": _n(d.value)}
            | ({"pos": d.place_of_supply} if d.kind == "B2CL" else {})
            | {"itms": _itms(d, igst_only=True)}
            for d in result.cdnur
        ]
    if result.exp:
        by_type: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for d in result.exp:
            invoice: dict[str, Any] = {"inum": d.number, "idt": _day(d.day), "val": _n(d.value)}
            if d.port_code:
                invoice["sbpcode"] = d.port_code
            if d.shipping_bill_number and d.shipping_bill_date:
                invoice |= {"sbnum": d.shipping_bill_number, "sbdt": _day(d.shipping_bill_date)}
            invoice["itms"] = [
                {"rt": _rate(rate), "txval": _n(a.txval), "iamt": _n(a.iamt), "csamt": _n(a.csamt)}
                for rate, a in sorted(d.rates.items())
            ]
            by_type[d.kind].append(invoice)
        out["exp"] = [{"exp_typ": kind, "inv": rows} for kind, rows in sorted(by_type.items())]
    hsn: dict[str, list[dict[str, Any]]] = {"b2b": [], "b2c": []}
    for (split, code, unit, rate), row in sorted(result.hsn.items()):
        if row.amounts.is_zero() and not row.quantity:
            continue
        rows = hsn[split]
        rows.append(
            {"num": len(rows) + 1, "hsn_sc": code, "desc": row.description, "uqc": unit, "qty": _n(row.quantity)}
            | _itm_det(rate, row.amounts)
        )
    if hsn["b2b"] or hsn["b2c"]:
        out["hsn"] = {f"hsn_{split}": rows for split, rows in hsn.items() if rows}
    nil = [{"sply_ty": kind} | {k: _n(v) for k, v in row.items()} for kind, row in sorted(result.nil.items())]
    if nil:
        out["nil"] = {"inv": nil}
    docs: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for (nature, _), series in sorted(result.docs.items()):
        ordered = sorted(series.numbers)
        total = len(ordered)
        docs[nature].append(
            {
                "num": len(docs[nature]) + 1,
                "from": ordered[0][1],
                "to": ordered[-1][1],
                "totnum": total,
                "cancel": series.cancelled,
                "net_issue": total - series.cancelled,
            }
        )
    if docs:
        out["doc_issue"] = {"doc_det": [{"doc_num": nature, "docs": rows} for nature, rows in sorted(docs.items())]}
    return out


# -- summary -----------------------------------------------------------------------------------------


def section_totals(result: Return) -> dict[str, tuple[int, Amounts]]:
    """Per section: documents (rows for b2cs and nil) and amounts as reported (credit notes positive)."""
    totals: dict[str, tuple[int, Amounts]] = {}
    for name, documents in (
        ("b2b", result.b2b),
        ("b2cl", result.b2cl),
        ("exp", result.exp),
        ("cdnr", result.cdnr),
        ("cdnur", result.cdnur),
    ):
        amounts = Amounts()
        for document in documents:
            for part in document.rates.values():
                amounts.add(part)
        totals[name] = (len(documents), amounts)
    b2cs = Amounts()
    rows = [amounts for amounts in result.b2cs.values() if not amounts.is_zero()]
    for amounts in rows:
        b2cs.add(amounts)
    totals["b2cs"] = (len(rows), b2cs)
    nil_total = sum((value for row in result.nil.values() for value in row.values()), ZERO)
    totals["nil"] = (len(result.nil), Amounts(txval=nil_total))
    return {name: totals[name] for name in SECTIONS}


def net_of_sections(totals: dict[str, tuple[int, Amounts]]) -> Amounts:
    net = Amounts()
    for name, (_, amounts) in totals.items():
        net.add(amounts, -1 if name in CREDIT_SECTIONS else 1)
    return net


def _tax_amounts(amounts: Amounts) -> TaxAmounts:
    return TaxAmounts(
        taxable_value=amounts.txval, igst=amounts.iamt, cgst=amounts.camt, sgst=amounts.samt, cess=amounts.csamt
    )


def _register(documents: int, amounts: Amounts) -> RegisterTotals:
    return RegisterTotals(documents=documents, **_tax_amounts(amounts).model_dump())


def summary(result: Return) -> Gstr1Summary:
    totals = section_totals(result)
    net = net_of_sections(totals)
    register = Amounts()
    register.add(result.register_invoices)
    register.add(result.register_credit_notes, -1)
    accounted = Amounts()
    accounted.add(net)
    accounted.add(result.excluded)
    return Gstr1Summary(
        gstin=result.gstin,
        period=result.period,
        sections=[
            SectionTotals(
                section=name,
                documents=count,
                sign=-1 if name in CREDIT_SECTIONS else 1,
                **_tax_amounts(amounts).model_dump(),
            )
            for name, (count, amounts) in totals.items()
        ],
        net_of_sections=_tax_amounts(net),
        excluded=_register(result.excluded_documents, result.excluded),
        sales_register=Register(
            invoices=_register(result.invoice_count, result.register_invoices),
            credit_notes=_register(result.credit_note_count, result.register_credit_notes),
            net=_tax_amounts(register),
        ),
        balanced=accounted == register,
        lines_without_hsn=result.lines_without_hsn,
    )
