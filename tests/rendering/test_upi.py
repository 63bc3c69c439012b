"""UPI payment links (NPCI linking spec) and their QR codes."""

from decimal import Decimal
from urllib.parse import parse_qsl, urlsplit

import pytest
import segno

from app.rendering import InvalidUpiLink, upi_link, upi_qr_svg, valid_vpa
from app.rendering.upi import QrCode, qr_runs


def test_link_is_exactly_as_specified() -> None:
    link = upi_link(
        "sharma@okhdfc", "Sharma Electricals", Decimal("5709.00"), "INV/26-27/00042", "Invoice INV/26-27/00042"
    )
    assert link == (
        "upi://pay?pa=sharma@okhdfc&pn=Sharma%20Electricals&am=5709.00&cu=INR"
        "&tr=INV%2F26-27%2F00042&tn=Invoice%20INV%2F26-27%2F00042"
    )


def test_values_cannot_add_parameters() -> None:
    link = upi_link("shop@ybl", "Sharma & Sons=Co #1?", Decimal("1"), note="a&am=1&pa=evil@upi")
    parts = urlsplit(link)
    assert parts.scheme == "upi" and parts.netloc == "pay"
    params = parse_qsl(parts.query, strict_parsing=True)
    assert [key for key, _ in params] == ["pa", "pn", "am", "cu", "tn"]
    assert dict(params) == {
        "pa": "shop@ybl",
        "pn": "Sharma & Sons=Co #1?",
        "am": "1.00",
        "cu": "INR",
        "tn": "a&am=1&pa=evil@upi",
    }
    assert "pn=Sharma%20%26%20Sons%3DCo%20%231%3F" in link
    assert "+" not in link  # spaces are %20, never '+', which UPI apps show literally


@pytest.mark.parametrize(
    ("amount", "printed"),
    [
        (Decimal("100"), "100.00"),
        (Decimal("0.01"), "0.01"),
        (Decimal("1234.5"), "1234.50"),
        (Decimal("1234.565"), "1234.57"),  # half up to the paisa
        (Decimal("12345678.90"), "12345678.90"),  # no grouping in a link
        (Decimal("1E+3"), "1000.00"),
    ],
)
def test_amount_has_two_decimals(amount: Decimal, printed: str) -> None:
    assert f"&am={printed}&" in upi_link("shop@ybl", "Shop", amount)


@pytest.mark.parametrize("amount", [Decimal("0"), Decimal("-1"), Decimal("0.004"), Decimal("NaN"), Decimal("1E+11")])
def test_amount_out_of_range_is_refused(amount: Decimal) -> None:
    with pytest.raises(InvalidUpiLink):
        upi_link("shop@ybl", "Shop", amount)


@pytest.mark.parametrize("vpa", ["sharma@okhdfc", "9876543210@paytm", "first.last-1_2@oksbi", "ab@ybl", "  shop@upi  "])
def test_valid_vpas(vpa: str) -> None:
    assert upi_link(vpa, "Shop", Decimal(1)).startswith(f"upi://pay?pa={vpa.strip()}&")


@pytest.mark.parametrize(
    "vpa",
    [
        "",
        "sharma",
        "@okhdfc",
        "sharma@",
        "a@okhdfc",
        "sharma@o",
        "sharma@@okhdfc",
        "sha rma@okhdfc",
        "sharma@ok hdfc",
        "sharma@ok.hdfc",
        "sharma@1bank",
        "sharma@okhdfc&am=1",
        "shárma@okhdfc",
        ".x@okhdfc",
    ],
)
def test_invalid_vpas_are_refused(vpa: str) -> None:
    assert not valid_vpa(vpa.strip())
    with pytest.raises(InvalidUpiLink):
        upi_link(vpa, "Shop", Decimal(1))


def test_payee_is_required_and_whitespace_collapsed() -> None:
    with pytest.raises(InvalidUpiLink):
        upi_link("shop@ybl", "   ", Decimal(1))
    assert "pn=Sharma%20Sons&" in upi_link("shop@ybl", " Sharma \n  Sons ", Decimal(1))


def test_note_is_cut_to_fifty_characters_and_reference_bounded() -> None:
    link = upi_link("shop@ybl", "Shop", Decimal(1), note="x" * 80)
    assert link.endswith("&tn=" + "x" * 50)
    with pytest.raises(InvalidUpiLink):
        upi_link("shop@ybl", "Shop", Decimal(1), reference="R" * 36)
    assert "&tr=" not in upi_link("shop@ybl", "Shop", Decimal(1))


def test_qr_svg_is_an_inline_svg_of_the_link() -> None:
    link = upi_link("shop@ybl", "Shop", Decimal("10"), "INV-1")
    svg = upi_qr_svg(link)
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert "<?xml" not in svg
    assert "UPI payment QR code" in svg
    assert svg == upi_qr_svg(link)  # deterministic
    assert svg != upi_qr_svg(upi_link("shop@ybl", "Shop", Decimal("11"), "INV-1"))


def test_pdf_qr_draws_the_same_modules_as_segno() -> None:
    """segno cannot decode; check the runs the PDF draws cover exactly segno's dark modules."""
    link = upi_link("shop@ybl", "Shop & Co", Decimal("10"), "INV-1")
    matrix = segno.make_qr(link, error="m", boost_error=False).matrix
    dark = {(row, column) for start, row, length in qr_runs(link) for column in range(start, start + length)}
    expected = {(r, c) for r, line in enumerate(matrix) for c, value in enumerate(line) if value}
    assert dark == expected
    assert QrCode(link, 84).wrap(500, 500) == (84, 84)
