"""GST unit quantity codes (UQC): the GSTN's official list, as data, with the decimal places a
quantity in each unit may carry.

The codes and descriptions are the GST portal's (the list GSTR-1's HSN summary and e-invoices
accept). A countable unit (numbers, pieces, boxes, dozens, pairs, ...) takes whole quantities; a
measure (weights, volumes, lengths, areas) takes three decimals, the scale of every quantity column
(NUMERIC(15,3)). OTH ("others") is not known to be countable, so it takes three as well.
"""

from dataclasses import dataclass
from decimal import Decimal

from app.domain.errors import RuleBroken

MEASURE_DECIMALS = 3


@dataclass(frozen=True)
class Unit:
    code: str
    description: str
    decimals: int


_COUNTABLE = {
    "BAG": "BAGS",
    "BAL": "BALE",
    "BDL": "BUNDLES",
    "BKL": "BUCKLES",
    "BOU": "BILLION OF UNITS",
    "BOX": "BOX",
    "BTL": "BOTTLES",
    "BUN": "BUNCHES",
    "CAN": "CANS",
    "CTN": "CARTONS",
    "DOZ": "DOZENS",
    "DRM": "DRUMS",
    "GGK": "GREAT GROSS",
    "GRS": "GROSS",
    "NOS": "NUMBERS",
    "PAC": "PACKS",
    "PCS": "PIECES",
    "PRS": "PAIRS",
    "ROL": "ROLLS",
    "SET": "SETS",
    "TBS": "TABLETS",
    "TGM": "TEN GROSS",
    "THD": "THOUSANDS",
    "TUB": "TUBES",
    "UNT": "UNITS",
}
_MEASURES = {
    "CBM": "CUBIC METERS",
    "CCM": "CUBIC CENTIMETERS",
    "CMS": "CENTIMETERS",
    "GMS": "GRAMMES",
    "GYD": "GROSS YARDS",
    "KGS": "KILOGRAMS",
    "KLR": "KILOLITRE",
    "KME": "KILOMETRE",
    "LTR": "LITRES",
    "MLT": "MILILITRE",  # sic: the GSTN's spelling
    "MTR": "METERS",
    "MTS": "METRIC TON",
    "OTH": "OTHERS",
    "QTL": "QUINTAL",
    "SQF": "SQUARE FEET",
    "SQM": "SQUARE METERS",
    "SQY": "SQUARE YARDS",
    "TON": "TONNES",
    "UGS": "US GALLONS",
    "YDS": "YARDS",
}

UNITS: dict[str, Unit] = {
    code: Unit(code, description, decimals)
    for table, decimals in ((_COUNTABLE, 0), (_MEASURES, MEASURE_DECIMALS))
    for code, description in table.items()
}
UNITS = dict(sorted(UNITS.items()))


def unit(code: str, *, field: str = "unit") -> Unit:
    """The unit of `code`, or RuleBroken `unknown-uqc` (400)."""
    found = UNITS.get(code)
    if found is None:
        raise RuleBroken(field, f"{code!r} is not a GST unit quantity code (UQC).", code="unknown-uqc")
    return found


def decimals(code: str) -> int:
    """How many decimal places a quantity in `code` may carry (unknown code: `unknown-uqc`)."""
    return unit(code).decimals


def places(quantity: Decimal) -> int:
    """The decimal places `quantity` really uses (2.500 uses 1, 3 and 3.000 use 0)."""
    if not quantity.is_finite():
        return 0
    exponent = quantity.normalize().as_tuple().exponent
    return max(0, -int(exponent))


def check_quantity(code: str, quantity: Decimal, *, field: str = "quantity") -> None:
    """Refuse (RuleBroken, 400) a quantity that is not positive or that carries more decimals than
    the unit allows: 1.5 NOS, 0.0005 KGS. Trailing zeros do not count (2.000 NOS is 2)."""
    unit(code)
    if not quantity.is_finite() or quantity <= 0:
        raise RuleBroken(field, "The quantity must be more than zero.", code="quantity-not-positive")
    check_precision(code, quantity, field=field)


def check_precision(code: str, quantity: Decimal, *, field: str = "quantity") -> None:
    """Refuse (RuleBroken, 400) a quantity (any sign: a reorder level may be 0) with more decimals
    than the unit allows."""
    allowed = decimals(code)
    if places(quantity) > allowed:
        whole = "whole numbers" if allowed == 0 else f"at most {allowed} decimal places"
        raise RuleBroken(
            field,
            f"A quantity in {code} ({UNITS[code].description.lower()}) takes {whole}.",
            code="quantity-too-precise",
        )
