"""The codes a product carries: its barcode (a GTIN: EAN-13, UPC-A, EAN-8, or a carton's GTIN-14,
by check digit) and its HSN code (4, 6 or 8 digits); and the MRP rule on its price."""

import re
from decimal import ROUND_HALF_UP, Decimal

from stdnum import ean
from stdnum.exceptions import ValidationError

from app.domain.errors import RuleBroken

PAISA = Decimal("0.01")
HSN = re.compile(r"[0-9]{4}|[0-9]{6}|[0-9]{8}")


def normalize_barcode(value: str, *, field: str = "barcode") -> str:
    """The barcode's digits (spaces and dashes dropped), check digit verified, or RuleBroken
    `invalid-barcode` (400). A 12-digit UPC-A is kept in its EAN-13 form (a leading 0), the form a
    scanner set to EAN-13 reads, so the two spellings of one code are one barcode."""
    try:
        digits: str = ean.validate(value)
    except ValidationError as exc:
        raise RuleBroken(
            field,
            "The barcode is not a valid EAN-13, UPC-A, EAN-8 or GTIN-14 (digits or check digit).",
            code="invalid-barcode",
        ) from exc
    return "0" + digits if len(digits) == 12 else digits


def check_hsn(value: str, *, field: str = "hsn_code") -> str:
    """An HSN code of 4, 6 or 8 digits (services carry a SAC on their service type instead)."""
    if not HSN.fullmatch(value):
        raise RuleBroken(field, "An HSN code has 4, 6 or 8 digits.", code="invalid-hsn")
    return value


def price_with_tax(sale_price: Decimal, *, includes_tax: bool, gst_rate: Decimal) -> Decimal:
    """What a customer pays for one unit: the price itself when it includes tax, else the price
    with GST added, to the paisa (half up)."""
    if includes_tax:
        return sale_price
    return (sale_price * (100 + gst_rate) / 100).quantize(PAISA, rounding=ROUND_HALF_UP)


def check_mrp(sale_price: Decimal, *, includes_tax: bool, gst_rate: Decimal, mrp: Decimal | None) -> None:
    """Selling above the MRP printed on a package is an offence (Legal Metrology (Packaged
    Commodities) Rules, 2011, r.18(2)): the price with tax may not exceed it (400 `price-above-mrp`)."""
    if mrp is None:
        return
    paid = price_with_tax(sale_price, includes_tax=includes_tax, gst_rate=gst_rate)
    if paid > mrp:
        raise RuleBroken(
            "sale_price",
            f"The price with tax ({paid}) is above the MRP ({mrp}); a product cannot be sold above its MRP.",
            code="price-above-mrp",
        )
