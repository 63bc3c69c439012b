"""The GST UQC list as data, each unit's decimal places, and quantity checks by unit."""

from decimal import Decimal

import pytest

from app.domain import uqc
from app.domain.errors import RuleBroken

GSTN_CODES = [
    "BAG",
    "BAL",
    "BDL",
    "BKL",
    "BOU",
    "BOX",
    "BTL",
    "BUN",
    "CAN",
    "CBM",
    "CCM",
    "CMS",
    "CTN",
    "DOZ",
    "DRM",
    "GGK",
    "GMS",
    "GRS",
    "GYD",
    "KGS",
    "KLR",
    "KME",
    "LTR",
    "MLT",
    "MTR",
    "MTS",
    "NOS",
    "OTH",
    "PAC",
    "PCS",
    "PRS",
    "QTL",
    "ROL",
    "SET",
    "SQF",
    "SQM",
    "SQY",
    "TBS",
    "TGM",
    "THD",
    "TON",
    "TUB",
    "UGS",
    "UNT",
    "YDS",
]


def test_the_list_is_the_gstn_list():
    assert list(uqc.UNITS) == sorted(GSTN_CODES)
    assert all(unit.code == code and unit.description for code, unit in uqc.UNITS.items())
    assert uqc.UNITS["NOS"].description == "NUMBERS"
    assert uqc.UNITS["KGS"].description == "KILOGRAMS"


@pytest.mark.parametrize("code", ["NOS", "PCS", "BOX", "DOZ", "PRS", "SET", "BTL", "TBS", "UNT"])
def test_countable_units_take_whole_numbers(code):
    assert uqc.decimals(code) == 0


@pytest.mark.parametrize("code", ["KGS", "GMS", "LTR", "MLT", "MTR", "CMS", "SQM", "SQF", "TON", "QTL", "CBM"])
def test_measures_take_three_decimals(code):
    assert uqc.decimals(code) == 3


@pytest.mark.parametrize("code", ["XYZ", "nos", "KG", ""])
def test_an_unknown_code_is_refused(code):
    with pytest.raises(RuleBroken) as caught:
        uqc.decimals(code)
    assert caught.value.code == "unknown-uqc"


@pytest.mark.parametrize(
    ("code", "quantity"),
    [("NOS", "1"), ("NOS", "2.000"), ("PCS", "1E+2"), ("KGS", "0.001"), ("KGS", "2.5"), ("LTR", "1.250")],
)
def test_quantities_the_unit_allows(code, quantity):
    uqc.check_quantity(code, Decimal(quantity))


@pytest.mark.parametrize(
    ("code", "quantity", "error"),
    [
        ("NOS", "1.5", "quantity-too-precise"),
        ("PCS", "0.1", "quantity-too-precise"),
        ("KGS", "0.0005", "quantity-too-precise"),
        ("KGS", "1.2345", "quantity-too-precise"),
        ("NOS", "0", "quantity-not-positive"),
        ("KGS", "-1", "quantity-not-positive"),
        ("KGS", "NaN", "quantity-not-positive"),
        ("KGS", "Infinity", "quantity-not-positive"),
        ("ABC", "1", "unknown-uqc"),
    ],
)
def test_quantities_refused(code, quantity, error):
    with pytest.raises(RuleBroken) as caught:
        uqc.check_quantity(code, Decimal(quantity))
    assert caught.value.code == error
    assert caught.value.field == ("unit" if error == "unknown-uqc" else "quantity")


def test_precision_alone_allows_zero():
    uqc.check_precision("NOS", Decimal("0"))
    with pytest.raises(RuleBroken):
        uqc.check_precision("NOS", Decimal("0.5"), field="reorder_level")
