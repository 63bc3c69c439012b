"""The codes a product carries: its barcode (a GTIN: EAN-13, UPC-A, EAN-8, or a carton's GTIN-14,
by check digit) and its HSN code (4, 6 or 8 digits)."""

import re

from stdnum import ean
from stdnum.exceptions import ValidationError

from app.domain.errors import RuleBroken

HSN = re.compile(r"[0-9]{4}|[0-9]{6}|[0-9]{8}")


def normalize_barcode(value: str, *, field: str = "barcode") -> str:
    """The barcode's digits (spaces and dashes dropped), check digit verified, or RuleBroken
    `invalid-barcode` (422). A 12-digit UPC-A is kept in its EAN-13 form (a leading 0), the form a
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
