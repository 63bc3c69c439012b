"""The same document renders to the same bytes: twice in a process, in a fresh process, from
threads at once, with a logo; the creation date is the document's own."""

import hashlib
import io
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

import pypdf
from PIL import Image

from app.rendering import Copy, render_credit_note, render_invoice, render_receipt, render_statement, upi_link
from tests.rendering import samples

ROOT = Path(__file__).resolve().parents[2]


def invoice(**changes: object) -> samples.InvoiceView:
    link = upi_link("sharma@okhdfc", "Sharma & Sons", Decimal("4309"), "INV/26-27/00042")
    return samples.invoice(
        [samples.line(i, "1250.50", "3", discount="100") for i in range(1, 31)], upi_link=link, **changes
    )


def png_logo() -> bytes:
    buffer = io.BytesIO()
    image = Image.new("RGB", (120, 60), (200, 30, 30))
    image.paste((20, 20, 160), (30, 15, 90, 45))
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def test_render_twice_same_bytes() -> None:
    assert render_invoice(invoice()) == render_invoice(invoice())
    assert render_credit_note(samples.credit_note([samples.line(1, "10")])) == render_credit_note(
        samples.credit_note([samples.line(1, "10")])
    )
    assert render_receipt(samples.receipt()) == render_receipt(samples.receipt())
    assert render_statement(samples.statement()) == render_statement(samples.statement())


def test_copy_and_content_change_the_bytes() -> None:
    original = render_invoice(invoice())
    assert render_invoice(invoice(), copy=Copy.duplicate) != original
    assert render_invoice(invoice(notes="x")) != original


def test_creation_date_is_the_documents() -> None:
    info = pypdf.PdfReader(io.BytesIO(render_invoice(invoice()))).metadata
    assert info is not None
    assert info["/CreationDate"] == "D:20261120093000+00'00'"
    assert info["/ModDate"] == "D:20261120093000+00'00'"
    assert info["/Title"] == "Tax Invoice INV/26-27/00042"


def test_same_bytes_in_a_fresh_process() -> None:
    """No state of this process (fonts registered earlier, other documents rendered) leaks in."""
    script = (
        "import hashlib, sys; from tests.rendering.test_determinism import invoice; "
        "from app.rendering import render_invoice; "
        "sys.stdout.write(hashlib.sha256(render_invoice(invoice())).hexdigest())"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)
    render_receipt(samples.receipt())  # render something else first here
    assert result.stdout == hashlib.sha256(render_invoice(invoice())).hexdigest()


def test_threads_render_the_same_bytes() -> None:
    """Services render off the event loop in a pool: concurrent renders must not mix their state."""
    views = [invoice(), invoice(number="INV/26-27/00043"), invoice(logo=png_logo())]
    expected = [render_invoice(view) for view in views]
    with ThreadPoolExecutor(max_workers=4) as pool:
        got = list(pool.map(render_invoice, views * 4))
    assert got == expected * 4


def test_logo_is_embedded_and_deterministic() -> None:
    logo = png_logo()
    content = render_invoice(invoice(logo=logo))
    assert content == render_invoice(invoice(logo=logo))
    page = pypdf.PdfReader(io.BytesIO(content)).pages[0]
    images = list(page.images)
    assert images and images[0].image is not None
    assert images[0].image.size == (120, 60)
    assert b"/Subtype /Image" in content or b"/Subtype/Image" in content
