"""Barcodes by check digit (EAN-13, UPC-A, EAN-8, GTIN-14) and HSN codes (4, 6 or 8 digits)."""

import pytest

from app.domain.errors import RuleBroken
from app.domain.product_codes import check_hsn, normalize_barcode


@pytest.mark.parametrize(
    ("written", "stored"),
    [
        ("4006381333931", "4006381333931"),  # EAN-13
        ("8901030865275", "8901030865275"),  # EAN-13, an Indian (890) prefix
        ("036000291452", "0036000291452"),  # UPC-A, kept in its EAN-13 form
        ("0036000291452", "0036000291452"),  # the same read as EAN-13
        ("96385074", "96385074"),  # EAN-8
        ("00012345600012", "00012345600012"),  # GTIN-14 (a carton)
        ("4006381 333931", "4006381333931"),  # spaces dropped
        ("4-006381-333931", "4006381333931"),
    ],
)
def test_valid_barcodes(written, stored):
    assert normalize_barcode(written) == stored


@pytest.mark.parametrize(
    "written",
    ["4006381333932", "036000291453", "96385075", "1234567", "123456789012345", "40063813339a1", "", "٤٠٠٦٣٨١٣٣٣٩٣١"],
)
def test_invalid_barcodes(written):
    with pytest.raises(RuleBroken) as caught:
        normalize_barcode(written)
    assert caught.value.code == "invalid-barcode"


@pytest.mark.parametrize("code", ["1006", "100630", "10063010"])
def test_hsn_of_4_6_8_digits(code):
    assert check_hsn(code) == code


@pytest.mark.parametrize("code", ["100", "10063", "1006301", "100630100", "99831A", "", "\uff11\uff10\uff10\uff16"])
def test_other_hsn_refused(code):
    with pytest.raises(RuleBroken) as caught:
        check_hsn(code)
    assert caught.value.code == "invalid-hsn"
