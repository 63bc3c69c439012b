"""The QR printed on the invoice, rasterised and decoded by a real QR reader, is the UPI link.

Needs poppler's `pdftoppm` and zbar's `zbarimg` (Debian: poppler-utils, zbar-tools); skipped,
saying so, where they are not installed. test_upi.py checks the modules against segno's matrix
everywhere."""

import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest

from app.rendering import render_invoice, upi_link
from tests.rendering import samples

TOOLS = shutil.which("pdftoppm") and shutil.which("zbarimg")


@pytest.mark.skipif(not TOOLS, reason="pdftoppm (poppler-utils) and zbarimg (zbar-tools) not installed")
def test_printed_qr_decodes_to_the_link(tmp_path: Path) -> None:
    link = upi_link(
        "sharma.sons@okhdfc",
        "Sharma & Sons Pvt Ltd",
        Decimal("43088"),
        "INV/26-27/00042",
        "Invoice INV/26-27/00042 from Sharma & Sons",
    )
    view = samples.invoice([samples.line(i, "1250.50", "3") for i in range(1, 6)], upi_link=link)
    pdf = tmp_path / "invoice.pdf"
    pdf.write_bytes(render_invoice(view))
    subprocess.run(["pdftoppm", "-r", "200", "-png", str(pdf), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page*.png"))
    result = subprocess.run(["zbarimg", "-q", "--raw", *map(str, pages)], capture_output=True, text=True)
    assert result.stdout.strip() == link
