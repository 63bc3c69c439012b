"""GST arithmetic (../shared/GST.md): pure functions on Decimal, no I/O.

State codes, GSTIN validation, place of supply, the document a supply asks for, per-line tax split
and document totals with their rounding. Amounts in words are in app.domain.words.

Tax is computed per line and per component, each rounded half-up to the paisa; document totals
are sums of the rounded line values; an optional round-off of the grand total to the rupee is its
own field. Negating the inputs negates every output exactly (rounding is symmetric), which makes
a full credit note the exact negation of its invoice.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from stdnum import luhn
from stdnum.exceptions import InvalidComponent, ValidationError
from stdnum.in_ import gstin as stdnum_gstin
from stdnum.in_ import pan as stdnum_pan

PAISA = Decimal("0.01")
RUPEE = Decimal("1")
ZERO = Decimal("0.00")
HUNDRED = Decimal(100)
EXPORT_PLACE_OF_SUPPLY = "96"
# Union territories without a legislature (CGST Act s.2(114), UTGST Act s.2(8)): UTGST replaces
# SGST. 97 "Other Territory" is one of them (s.2(114)(f)).
UTGST_STATES = frozenset({"04", "26", "31", "35", "38", "97"})
STATE_CODES = {
    "01": "Jammu and Kashmir",
    "02": "Himachal Pradesh",
    "03": "Punjab",
    "04": "Chandigarh",
    "05": "Uttarakhand",
    "06": "Haryana",
    "07": "Delhi",
    "08": "Rajasthan",
    "09": "Uttar Pradesh",
    "10": "Bihar",
    "11": "Sikkim",
    "12": "Arunachal Pradesh",
    "13": "Nagaland",
    "14": "Manipur",
    "15": "Mizoram",
    "16": "Tripura",
    "17": "Meghalaya",
    "18": "Assam",
    "19": "West Bengal",
    "20": "Jharkhand",
    "21": "Odisha",
    "22": "Chhattisgarh",
    "23": "Madhya Pradesh",
    "24": "Gujarat",
    "26": "Dadra and Nagar Haveli and Daman and Diu",
    "27": "Maharashtra",
    "29": "Karnataka",
    "30": "Goa",
    "31": "Lakshadweep",
    "32": "Kerala",
    "33": "Tamil Nadu",
    "34": "Puducherry",
    "35": "Andaman and Nicobar Islands",
    "36": "Telangana",
    "37": "Andhra Pradesh",
    "38": "Ladakh",
    "97": "Other Territory",
    "96": "Other Countries",
}
# Codes python-stdnum 2.2 does not list yet (its GSTIN check stops at 37): 38 Ladakh, 97 Other Territory.
NEWER_GSTIN_STATES = frozenset({"38", "97"})
GSTIN_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


class SupplyType(StrEnum):
    intra_state = "intra_state"
    inter_state = "inter_state"


class DocumentType(StrEnum):
    tax_invoice = "tax_invoice"
    bill_of_supply = "bill_of_supply"
    invoice_cum_bill_of_supply = "invoice_cum_bill_of_supply"


class Registration(StrEnum):
    regular = "regular"
    composition = "composition"
    unregistered = "unregistered"


class InvalidGstin(ValueError):
    pass


def money(value: Decimal) -> Decimal:
    """Half-up to the paisa, symmetric for negatives (-0.005 -> -0.01)."""
    return value.quantize(PAISA, rounding=ROUND_HALF_UP)


def normalize_gstin(value: str) -> str:
    """The GSTIN upper-cased and checked (format, state code, check character)."""
    try:
        compact = _stdnum_validate(value)
    except ValidationError as exc:
        raise InvalidGstin(f"not a valid GSTIN: {exc}") from exc
    if compact[:2] not in STATE_CODES:
        raise InvalidGstin("the GSTIN's state code is unknown")
    return compact


def _stdnum_validate(value: str) -> str:
    try:
        return stdnum_gstin.validate(value)
    except InvalidComponent:
        # Length and format passed; stdnum refused the state code. For a code it does not know yet,
        # run the rest of its checks (entity code, 'Z', PAN, check character) with its own parts.
        compact = stdnum_gstin.compact(value)
        if compact[:2] not in NEWER_GSTIN_STATES or compact[12] == "0" or compact[13] != "Z":
            raise
        stdnum_pan.validate(compact[2:12])
        luhn.validate(compact, GSTIN_ALPHABET)
        return compact


def state_of_gstin(gstin: str) -> str:
    return gstin[:2]


def supply_type(supplier_state: str, place_of_supply: str, *, sez: bool = False) -> SupplyType:
    """Same state = intra-state; different state, exports (POS 96) and SEZ supplies = inter-state."""
    if sez or place_of_supply == EXPORT_PLACE_OF_SUPPLY or supplier_state != place_of_supply:
        return SupplyType.inter_state
    return SupplyType.intra_state


def registration(gstin: str | None, registration_type: str) -> Registration:
    """The supplier's registration: none without a GSTIN, else what the GST settings say."""
    return Registration.unregistered if gstin is None else Registration(registration_type)


def document_type(
    supplier: Registration, rates: Iterable[Decimal], *, zero_rated: bool, recipient_registered: bool
) -> DocumentType:
    """Which document the law asks for.

    Only a regular taxpayer issues a tax invoice (s.31); a composition taxpayer or an unregistered
    supplier issues a bill of supply (Rule 49), as does a regular one whose every line is exempt or
    nil-rated (0 %). Exports and SEZ supplies at 0 % are zero-rated: still a tax invoice. Taxable and
    exempt lines together to an unregistered recipient make an invoice-cum-bill of supply (Rule 46A);
    to a registered recipient, a tax invoice showing the exempt lines at 0 %."""
    if supplier is not Registration.regular:
        return DocumentType.bill_of_supply
    rates = list(rates)
    if zero_rated or all(rate > 0 for rate in rates):
        return DocumentType.tax_invoice
    if all(rate == 0 for rate in rates):
        return DocumentType.bill_of_supply
    return DocumentType.tax_invoice if recipient_registered else DocumentType.invoice_cum_bill_of_supply


TITLES = {
    DocumentType.tax_invoice: "Tax Invoice",
    DocumentType.bill_of_supply: "Bill of Supply",
    DocumentType.invoice_cum_bill_of_supply: "Invoice-cum-Bill of Supply",
}
# Rule 5(1)(g): a composition taxpayer's bill of supply says so; an unregistered supplier says why
# no tax is shown.
DECLARATIONS = {
    Registration.composition: "Composition taxable person, not eligible to collect tax on supplies",
    Registration.unregistered: "Supplier not registered under GST: no tax charged",
}


def title_and_declaration(document: str, supplier: str) -> tuple[str, str | None]:
    """What a rendering prints above and on the document, from what was frozen at issue."""
    return TITLES[DocumentType(document)], DECLARATIONS.get(Registration(supplier))


@dataclass(frozen=True)
class LineAmounts:
    taxable_value: Decimal
    cgst_amount: Decimal
    sgst_amount: Decimal
    utgst_amount: Decimal
    igst_amount: Decimal

    @property
    def tax(self) -> Decimal:
        return self.cgst_amount + self.sgst_amount + self.utgst_amount + self.igst_amount

    @property
    def total(self) -> Decimal:
        return self.taxable_value + self.tax

    def negated(self) -> "LineAmounts":
        return LineAmounts(
            -self.taxable_value, -self.cgst_amount, -self.sgst_amount, -self.utgst_amount, -self.igst_amount
        )


def taxable_value(quantity: Decimal, unit_price: Decimal, discount: Decimal = ZERO) -> Decimal:
    return money(quantity * unit_price - discount)


def line_tax(
    taxable: Decimal, gst_rate: Decimal, supply: SupplyType, place_of_supply: str, *, without_tax: bool = False
) -> LineAmounts:
    """Split a line's tax into its components, each rounded on the line. `without_tax`: a
    zero-rated supply under bond or LUT (app.domain.zero_rated) carries none, whatever its rate."""
    if without_tax:
        return LineAmounts(taxable, ZERO, ZERO, ZERO, ZERO)
    if supply is SupplyType.inter_state:
        return LineAmounts(taxable, ZERO, ZERO, ZERO, money(taxable * gst_rate / HUNDRED))
    half = money(taxable * gst_rate / 2 / HUNDRED)
    if place_of_supply in UTGST_STATES:
        return LineAmounts(taxable, half, ZERO, half, ZERO)
    return LineAmounts(taxable, half, half, ZERO, ZERO)


@dataclass(frozen=True)
class DocumentTotals:
    taxable_value: Decimal
    cgst_amount: Decimal
    sgst_amount: Decimal
    utgst_amount: Decimal
    igst_amount: Decimal
    tax_total: Decimal
    round_off: Decimal
    total: Decimal


def document_totals(
    lines: Iterable[LineAmounts], *, round_to_rupee: bool, reverse_charge: bool = False
) -> DocumentTotals:
    """Sums of the rounded lines. Under reverse charge the tax is shown but the recipient pays it
    to the government, so `total` (what the recipient owes the supplier) is the taxable value."""
    lines = list(lines)
    taxable = sum((line.taxable_value for line in lines), ZERO)
    cgst = sum((line.cgst_amount for line in lines), ZERO)
    sgst = sum((line.sgst_amount for line in lines), ZERO)
    utgst = sum((line.utgst_amount for line in lines), ZERO)
    igst = sum((line.igst_amount for line in lines), ZERO)
    tax = cgst + sgst + utgst + igst
    grand = taxable if reverse_charge else taxable + tax
    rounded = grand.quantize(RUPEE, rounding=ROUND_HALF_UP) if round_to_rupee else grand
    return DocumentTotals(taxable, cgst, sgst, utgst, igst, tax, money(rounded - grand), money(rounded))
