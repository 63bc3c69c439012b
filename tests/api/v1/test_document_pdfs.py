"""GET /invoices/{id}/pdf, /credit-notes/{id}/pdf, /receipts/{id}/pdf, /customers/{id}/statement.pdf:
real PDFs read back with pypdf, their headers, 304s, the cache and the render bound."""

import asyncio
import hashlib
import io
import re
import threading
import time
import uuid
import zlib

import httpx
import pytest
from PIL import Image
from PIL.PngImagePlugin import PngInfo
from pypdf import PdfReader

from app.api.pdf_responses import content_disposition
from app.core.errors import NotFound
from app.services.documents import document_pdfs
from app.services.documents.document_pdfs import safe_filename
from tests.api.v1.business import audit_rows
from tests.api.v1.http_checks import assert_problem
from tests.api.v1.invoicing import Party, line, make_company, make_customer
from tests.api.v1.members import add_member
from tests.api.v1.report_data import ok, receipt, set_clock
from tests.api.v1.subscription_rows import put_on_plan
from tests.factories import API, Account, make_tenant, verify_email

__all__ = ["set_clock"]


def pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() or "" for page in reader.pages)


def pages(content: bytes) -> int:
    return len(PdfReader(io.BytesIO(content)).pages)


async def get_pdf(client: httpx.AsyncClient, account: Account, path: str, **params) -> httpx.Response:
    response = await client.get(f"{API}{path}", params=params, headers=account.headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    return response


async def party(client: httpx.AsyncClient, **company) -> Party:
    account = await make_tenant(client)
    made = await Party.make(client, account)
    if company:
        update = await client.patch(f"{API}/companies/{made.company['id']}", json=company, headers=account.headers)
        assert update.status_code == 200, update.text
    return made


async def test_invoice_pdf_has_number_total_and_headers(client: httpx.AsyncClient) -> None:
    p = await party(client)
    invoice = await p.invoice(client, line("1000.00"), line("250.50", quantity="2"))
    response = await get_pdf(client, p.account, f"/invoices/{invoice['id']}/pdf")
    text = pdf_text(response.content)
    assert invoice["number"] in text
    assert invoice["total"] == "1771.00"  # 1,501.00 + 18 % = 1,771.18, rounded off to the rupee
    assert "₹1,771.00" in text
    assert "Rupees One Thousand Seven Hundred Seventy-One Only" in text
    assert "Tax Invoice" in text
    assert "Original for Recipient" in text
    safe = invoice["number"].replace("/", "-")
    disposition = response.headers["content-disposition"]
    assert disposition.startswith(f'inline; filename="{safe}.pdf"'), disposition
    assert "/" not in disposition.split("filename*=")[0].split("filename=")[1]
    assert f"filename*=UTF-8''{safe}.pdf" in disposition
    assert response.headers["cache-control"] == "private, no-cache"
    assert re.fullmatch(r'"[0-9a-f]{64}"', response.headers["etag"])


async def test_etag_then_if_none_match_is_304(client: httpx.AsyncClient) -> None:
    p = await party(client)
    invoice = await p.invoice(client)
    first = await get_pdf(client, p.account, f"/invoices/{invoice['id']}/pdf")
    again = await get_pdf(client, p.account, f"/invoices/{invoice['id']}/pdf")
    assert again.content == first.content and again.headers["etag"] == first.headers["etag"]
    etag = first.headers["etag"]
    headers = p.account.headers | {"If-None-Match": etag}
    not_modified = await client.get(f"{API}/invoices/{invoice['id']}/pdf", headers=headers)
    assert not_modified.status_code == 304
    assert not_modified.content == b""
    assert not_modified.headers["etag"] == etag
    listed = p.account.headers | {"If-None-Match": f'"other", W/{etag}'}
    assert (await client.get(f"{API}/invoices/{invoice['id']}/pdf", headers=listed)).status_code == 304
    stale = p.account.headers | {"If-None-Match": '"0000"'}
    assert (await client.get(f"{API}/invoices/{invoice['id']}/pdf", headers=stale)).status_code == 200


async def test_copy_parameter_prints_its_marker(client: httpx.AsyncClient) -> None:
    p = await party(client)
    invoice = await p.invoice(client)
    path = f"/invoices/{invoice['id']}/pdf"
    duplicate = await get_pdf(client, p.account, path, copy="duplicate")
    triplicate = await get_pdf(client, p.account, path, copy="triplicate")
    assert "Duplicate for Transporter" in pdf_text(duplicate.content)
    assert "Triplicate for Supplier" in pdf_text(triplicate.content)
    assert duplicate.headers["etag"] != triplicate.headers["etag"]
    bad = await client.get(f"{API}{path}", params={"copy": "quadruplicate"}, headers=p.account.headers)
    assert_problem(bad, 422, "validation-error")


async def test_draft_is_a_watermarked_preview(client: httpx.AsyncClient) -> None:
    p = await party(client)
    draft = await p.invoice(client, issue=False)
    response = await get_pdf(client, p.account, f"/invoices/{draft['id']}/pdf")
    text = pdf_text(response.content)
    assert "DRAFT" in text
    assert response.headers["content-disposition"].startswith(f'inline; filename="DRAFT-{draft["id"]}.pdf"')


async def test_unknown_and_foreign_ids_are_404(client: httpx.AsyncClient) -> None:
    p = await party(client)
    other = await party(client)
    invoice = await p.invoice(client)
    for path in (
        f"/invoices/{invoice['id']}/pdf",
        f"/customers/{p.customer['id']}/statement.pdf",
    ):
        response = await client.get(f"{API}{path}", headers=other.account.headers)
        assert response.status_code == 404, (path, response.text)
    missing = await client.get(f"{API}/invoices/{'0' * 8}-0000-7000-8000-{'0' * 12}/pdf", headers=p.account.headers)
    assert_problem(missing, 404, "invoice-not-found")


# --- credit notes, receipts ---------------------------------------------------------------------


async def test_credit_note_pdf(client: httpx.AsyncClient, today) -> None:
    p = await party(client)
    invoice = await p.invoice(client, line("1000.00"))
    note = ok(
        await client.post(
            f"{API}/credit-notes",
            json={"invoice_id": invoice["id"], "reason": "Returned", "full": True, "credit_note_date": str(today)},
            headers=p.account.headers,
        ),
        201,
    )
    response = await get_pdf(client, p.account, f"/credit-notes/{note['id']}/pdf", copy="duplicate")
    text = pdf_text(response.content)
    assert note["number"] in text and invoice["number"] in text  # Rule 53: the original invoice's number
    assert "Credit Note" in text and "₹1,180.00" in text and "Duplicate for Transporter" in text
    assert response.headers["content-disposition"].startswith(
        f'inline; filename="{note["number"].replace("/", "-")}.pdf"'
    )


async def test_receipt_pdf(client: httpx.AsyncClient, today) -> None:
    p = await party(client)
    invoice = await p.invoice(client, line("1000.00"))
    paid = await receipt(client, p, "1500.00", str(today), (invoice, "1180.00"))
    response = await get_pdf(client, p.account, f"/receipts/{paid['id']}/pdf")
    text = pdf_text(response.content)
    assert paid["number"] in text and invoice["number"] in text
    assert "₹1,500.00" in text and "Rupees One Thousand Five Hundred Only" in text
    foreign = await party(client)
    assert_problem(
        await client.get(f"{API}/receipts/{paid['id']}/pdf", headers=foreign.account.headers), 404, "receipt-not-found"
    )


async def test_number_with_slashes_is_a_safe_filename() -> None:
    assert safe_filename("INV/2026-27/00001") == "INV-2026-27-00001.pdf"
    assert safe_filename("../../etc/passwd") == "etc-passwd.pdf"
    assert safe_filename("Statement-शर्मा स्टोर्स") == "Statement.pdf"
    disposition = content_disposition("Statement-शर्मा.pdf")
    assert disposition.startswith('inline; filename="Statement-_____.pdf";')  # one "_" per code point
    assert content_disposition('a"b;c\\d.pdf').startswith('inline; filename="a_b_c_d.pdf";')
    assert "filename*=UTF-8''Statement-%E0%A4%B6" in disposition
    assert "\r" not in content_disposition("a\r\nb.pdf") and "\n" not in content_disposition("a\r\nb.pdf")


# --- the UPI QR follows the balance: the cache key changes with it -------------------------------


async def test_payment_changes_the_print_and_the_etag(client: httpx.AsyncClient, today) -> None:
    p = await party(client, upi_vpa="sharma@okaxis")
    invoice = await p.invoice(client, line("1000.00"))  # ₹1,180.00
    path = f"/invoices/{invoice['id']}/pdf"
    unpaid = await get_pdf(client, p.account, path)
    assert "am=1180.00" in pdf_text(unpaid.content)
    advance = await receipt(client, p, "1180.00", str(today))
    allocate = await client.post(
        f"{API}/receipts/{advance['id']}/allocate",
        json={"allocations": [{"invoice_id": invoice["id"], "amount": "500.00"}]},
        headers=p.account.headers,
    )
    assert allocate.status_code == 200, allocate.text
    part_paid = await get_pdf(client, p.account, path)
    assert part_paid.headers["etag"] != unpaid.headers["etag"]
    assert "am=680.00" in pdf_text(part_paid.content)
    stale = await client.get(f"{API}{path}", headers=p.account.headers | {"If-None-Match": unpaid.headers["etag"]})
    assert stale.status_code == 200  # the old copy is not "not modified"
    await client.post(
        f"{API}/receipts/{advance['id']}/allocate",
        json={"allocations": [{"invoice_id": invoice["id"], "amount": "680.00"}]},
        headers=p.account.headers,
    )
    paid = pdf_text((await get_pdf(client, p.account, path)).content)
    assert "upi://" not in paid  # nothing due: no QR


async def test_no_upi_link_without_a_vpa(client: httpx.AsyncClient) -> None:
    p = await party(client)
    invoice = await p.invoice(client)
    assert "upi://" not in pdf_text((await get_pdf(client, p.account, f"/invoices/{invoice['id']}/pdf")).content)


# --- statement of account -------------------------------------------------------------------------


async def test_statement_figures(client: httpx.AsyncClient, set_clock) -> None:
    """Opening 250.00; INV1 04-05 +1180 | INV2 05-10 +2360 (due 06-15) | R1 05-15 -1000 (to INV1) |
    INV3 06-10 +118. May: brought forward 1430.00, INV2 -> 3790.00, R1 -> 2790.00 = closing.
    Aging on 05-31: INV1's 180.00 is 26 days past due (1-30), INV2's 2360.00 is current."""
    owner = await make_tenant(client)
    company = await make_company(client, owner)
    customer = await make_customer(client, owner, billing_address={"state_code": "29"}, opening_balance="250.00")
    p = Party(owner, company, customer)
    set_clock("2026-06-20T12:00:00+05:30")
    inv1 = await p.invoice(client, line("1000.00"), invoice_date="2026-04-05", due_date="2026-05-05")
    inv2 = await p.invoice(client, line("2000.00"), invoice_date="2026-05-10", due_date="2026-06-15")
    r1 = await receipt(client, p, "1000.00", "2026-05-15", (inv1, "1000.00"))
    inv3 = await p.invoice(client, line("100.00"), invoice_date="2026-06-10", due_date="2026-07-10")
    path = f"/customers/{customer['id']}/statement.pdf"
    may = await get_pdf(client, owner, path, **{"from": "2026-05-01", "to": "2026-05-31"})
    text = pdf_text(may.content)
    assert inv2["number"] in text and r1["number"] in text
    assert inv1["number"] not in text and inv3["number"] not in text  # entries of the period only
    assert "Opening balance: ₹1,430.00" in text and "Closing balance: ₹2,790.00" in text
    flat = " ".join(text.split())
    # Each entry with its running balance, then the totals: 1,430.00 + 2,360.00 - 1,000.00 = 2,790.00.
    assert f"{inv2['number']} Tax invoice 2,360.00 3,790.00" in flat
    assert f"{r1['number']} Receipt, upi 1,000.00 2,790.00" in flat
    assert "Total debits ₹2,360.00 Total credits ₹1,000.00 Closing balance ₹2,790.00" in flat
    # Aging on 31 May: current, 1-30, 31-60, 61-90, over 90, total.
    assert "₹2,360.00 ₹180.00 ₹0.00 ₹0.00 ₹0.00 ₹2,540.00" in flat
    assert may.headers["content-disposition"].startswith('inline; filename="Statement-')
    # The default period: the financial year to today (20 June): every document, closing 2,908.00.
    whole = pdf_text((await get_pdf(client, owner, path)).content)
    assert inv1["number"] in whole and inv3["number"] in whole and "2,908.00" in whole
    backwards = await client.get(
        f"{API}{path}", params={"from": "2026-05-31", "to": "2026-05-01"}, headers=owner.headers
    )
    assert_problem(backwards, 400, "invalid-date-range")  # as the ledger answers it


# --- logos and branding ---------------------------------------------------------------------------


def image_bytes(fmt: str, size: tuple[int, int] = (1200, 300), **save) -> bytes:
    image = Image.new("RGB", size, (200, 40, 40))
    out = io.BytesIO()
    image.save(out, format=fmt, **save)
    return out.getvalue()


def jpeg_with_exif() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "SecretCam Industries"  # Make
    exif[0x0131] = "secret-software 1.0"  # Software
    return image_bytes("JPEG", exif=exif.tobytes())


def png_with_text() -> bytes:
    info = PngInfo()
    info.add_text("Comment", "secret comment")
    return image_bytes("PNG", pnginfo=info)


async def put_logo(client: httpx.AsyncClient, p: Party, content: bytes, media_type: str = "image/png"):
    return await client.put(
        f"{API}/companies/{p.company['id']}/logo",
        content=content,
        headers=p.account.headers | {"Content-Type": media_type},
    )


async def stored_logo(client: httpx.AsyncClient, p: Party) -> httpx.Response:
    response = await client.get(f"{API}/companies/{p.company['id']}/logo", headers=p.account.headers)
    assert response.status_code == 200, response.text
    return response


async def test_png_logo_is_reencoded_without_text_chunks(client: httpx.AsyncClient) -> None:
    p = await party(client)
    sent = png_with_text()
    response = await put_logo(client, p, sent)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["media_type"], body["width"], body["height"]) == ("image/png", 600, 150)  # fitted in 600x200
    logo = await stored_logo(client, p)
    assert logo.headers["content-type"] == "image/png"
    assert b"secret comment" not in logo.content
    with Image.open(io.BytesIO(logo.content)) as image:
        assert image.format == "PNG" and image.size == (600, 150)
        assert not getattr(image, "text", {})
    assert hashlib.sha256(logo.content).hexdigest() == body["sha256"]


async def test_jpeg_logo_loses_its_exif(client: httpx.AsyncClient) -> None:
    p = await party(client)
    sent = jpeg_with_exif()
    with Image.open(io.BytesIO(sent)) as original:
        assert original.getexif()  # the upload does carry EXIF
    response = await put_logo(client, p, sent, "image/jpeg")
    assert response.status_code == 200, response.text
    logo = await stored_logo(client, p)
    assert logo.headers["content-type"] == "image/jpeg"
    assert b"SecretCam" not in logo.content and b"Exif" not in logo.content
    with Image.open(io.BytesIO(logo.content)) as image:
        assert image.format == "JPEG" and not image.getexif()


async def test_a_multi_picture_jpeg_from_a_phone_is_a_jpeg(client: httpx.AsyncClient) -> None:
    """Phone cameras write JPEGs with an MPF second picture (a depth or HDR gain map): Pillow
    calls them MPO, and they are JPEG files; the first picture is the logo."""
    p = await party(client)
    first, second = Image.new("RGB", (40, 20), "red"), Image.new("RGB", (40, 20), "blue")
    out = io.BytesIO()
    first.save(out, "MPO", save_all=True, append_images=[second])
    with Image.open(io.BytesIO(out.getvalue())) as opened:
        assert opened.format == "MPO"
    response = await put_logo(client, p, out.getvalue(), "image/jpeg")
    assert response.status_code == 200, response.text
    assert (response.json()["media_type"], response.json()["width"]) == ("image/jpeg", 40)
    with Image.open(io.BytesIO((await stored_logo(client, p)).content)) as image:
        assert image.format == "JPEG" and image.getpixel((20, 10))[0] > 200  # the red first picture


async def test_logo_checked_by_content_not_name(client: httpx.AsyncClient) -> None:
    p = await party(client)
    response = await put_logo(client, p, image_bytes("JPEG"), "image/png")  # "logo.png" that is a JPEG
    assert response.status_code == 200, response.text
    assert response.json()["media_type"] == "image/jpeg"
    gif = await put_logo(client, p, image_bytes("GIF"), "image/png")
    assert_problem(gif, 415, "logo-format-unsupported")
    svg = await put_logo(client, p, b'<svg xmlns="http://www.w3.org/2000/svg"><script>x</script></svg>', "image/png")
    assert_problem(svg, 415, "logo-format-unsupported")
    truncated = image_bytes("PNG")[:200]
    assert_problem(await put_logo(client, p, truncated), 422, "logo-corrupt")
    garbage_jpeg = image_bytes("JPEG")[:20] + b"\x00" * 500
    assert_problem(await put_logo(client, p, garbage_jpeg, "image/jpeg"), 422, "logo-corrupt")
    still = await stored_logo(client, p)  # nothing half-written: the first logo stays
    assert still.headers["content-type"] == "image/jpeg"


async def test_logo_size_limit_and_bombs(client: httpx.AsyncClient) -> None:
    p = await party(client)
    too_big = await put_logo(client, p, b"\x89PNG" + b"\x00" * (1_048_576 - 3))  # 1 MiB + 1 byte
    assert too_big.status_code == 413, too_big.text
    assert too_big.headers["content-type"].startswith("application/problem+json")
    # A small PNG that claims 40000x40000 pixels (a decompression bomb) is refused before decoding.
    bomb = image_bytes("PNG", size=(1, 1))
    ihdr = bomb.index(b"IHDR")
    claim = (40000).to_bytes(4, "big") * 2
    chunk = b"IHDR" + claim + bomb[ihdr + 12 : ihdr + 17]
    bomb = bomb[:ihdr] + chunk + zlib.crc32(chunk).to_bytes(4, "big") + bomb[ihdr + 21 :]
    assert_problem(await put_logo(client, p, bomb), 422, "logo-corrupt")
    none = await client.get(f"{API}/companies/{p.company['id']}/logo", headers=p.account.headers)
    assert_problem(none, 404, "logo-not-found")


async def test_logo_roles_delete_and_tenancy(client: httpx.AsyncClient, mailbox) -> None:
    p = await party(client)
    assert (await put_logo(client, p, image_bytes("PNG"))).status_code == 200
    viewer = await add_member(client, mailbox, await verify_email(client, p.account), "viewer")
    refused = await client.put(
        f"{API}/companies/{p.company['id']}/logo",
        content=image_bytes("PNG"),
        headers=viewer.headers | {"Content-Type": "image/png"},
    )
    assert_problem(refused, 403, "role-forbidden")
    assert (await client.get(f"{API}/companies/{p.company['id']}/logo", headers=viewer.headers)).status_code == 200
    other = await party(client)
    for method in ("GET", "PUT", "DELETE"):
        response = await client.request(
            method,
            f"{API}/companies/{p.company['id']}/logo",
            content=image_bytes("PNG") if method == "PUT" else None,
            headers=other.account.headers | {"Content-Type": "image/png"},
        )
        assert_problem(response, 404, "company-not-found")
    deleted = await client.delete(f"{API}/companies/{p.company['id']}/logo", headers=p.account.headers)
    assert deleted.status_code == 204
    again = await client.delete(f"{API}/companies/{p.company['id']}/logo", headers=p.account.headers)
    assert_problem(again, 404, "logo-not-found")
    actions = [row["action"] for row in await audit_rows(client, p.account, p.company["id"])]
    assert actions.count("company.logo_set") == 1 and actions.count("company.logo_deleted") == 1


def image_xobjects(content: bytes) -> int:
    count = 0
    for page in PdfReader(io.BytesIO(content)).pages:
        xobjects = page.get("/Resources", {}).get("/XObject", {})
        for ref in xobjects.values():
            if ref.get_object().get("/Subtype") == "/Image":
                count += 1
    return count


async def test_logo_printed_on_paid_plans_only(client: httpx.AsyncClient, app) -> None:
    p = await party(client)
    assert (await put_logo(client, p, image_bytes("PNG"))).status_code == 200
    invoice = await p.invoice(client)
    path = f"/invoices/{invoice['id']}/pdf"
    trial = await get_pdf(client, p.account, path)  # a new tenant is on the trial
    assert image_xobjects(trial.content) == 0
    assert "Made with RMS Billing" in pdf_text(trial.content)
    await put_on_plan(app, p.account.tenant_id, "standard", "active")
    paid = await get_pdf(client, p.account, path)
    assert image_xobjects(paid.content) == 1
    assert "Made with RMS Billing" not in pdf_text(paid.content)
    assert paid.headers["etag"] != trial.headers["etag"]
    await put_on_plan(app, p.account.tenant_id, "free", "free")
    free = await get_pdf(client, p.account, path)
    assert image_xobjects(free.content) == 0 and "Made with RMS Billing" in pdf_text(free.content)


# --- off the event loop, bounded ------------------------------------------------------------------


async def test_renders_run_off_the_event_loop_and_bounded(client: httpx.AsyncClient, app, monkeypatch) -> None:
    """4 renders of a 200-line draft (never cached) at once: at most PDF_RENDER_CONCURRENCY run at a
    time, each on a worker thread, and /health keeps answering while they run."""
    p = await party(client)
    lines = [line(f"{100 + n}.00", description=f"Item {n}") for n in range(200)]
    draft = await p.invoice(client, *lines, issue=False)
    active, peak, threads = 0, 0, set()
    original = document_pdfs.render_invoice

    def counting(*args, **kwargs):
        nonlocal active, peak
        active += 1
        peak = max(peak, active)
        threads.add(threading.current_thread().name)
        try:
            return original(*args, **kwargs)
        finally:
            active -= 1

    monkeypatch.setattr(document_pdfs, "render_invoice", counting)
    # counted on threads: a process pool's workers would run their own copy (tests/core/test_cpu_work.py)
    monkeypatch.setattr(app.state.runtime.settings, "pdf_render_pool", "thread")
    path = f"/invoices/{draft['id']}/pdf"
    renders = [asyncio.ensure_future(get_pdf(client, p.account, path)) for _ in range(4)]
    health_latencies = []
    while not all(task.done() for task in renders):
        started = time.perf_counter()
        health = await client.get(f"{API}/health")
        health_latencies.append(time.perf_counter() - started)
        assert health.status_code == 200
        await asyncio.sleep(0.02)
    results = await asyncio.gather(*renders)
    assert pages(results[0].content) >= 4  # 200 lines paginate
    limit = app.state.runtime.settings.pdf_render_concurrency
    assert peak <= limit
    assert threading.main_thread().name not in threads
    assert len(health_latencies) >= 3, health_latencies  # answered again and again meanwhile
    assert sorted(health_latencies)[len(health_latencies) // 2] < 0.5, health_latencies


def test_cache_is_bounded_lru() -> None:
    cache = document_pdfs.PdfCache(max_bytes=10)
    pdf = lambda content: document_pdfs.RenderedPdf(content, "x.pdf", document_pdfs.etag_of(content))  # noqa: E731
    cache.put("a", pdf(b"1234"))
    cache.put("b", pdf(b"5678"))
    assert cache.get("a") is not None  # a is now the most recently used
    cache.put("c", pdf(b"90ab"))  # 12 bytes > 10: b goes
    assert cache.get("b") is None and cache.get("a") is not None and cache.get("c") is not None
    cache.put("huge", pdf(b"x" * 11))  # larger than the cache: not kept
    assert cache.get("huge") is None and len(cache) == 2


async def test_export_invoice_prints_its_endorsement_and_destination(client: httpx.AsyncClient) -> None:
    """The export helper's invoice fields, frozen at issue, reach the print (Rule 46)."""
    owner = await make_tenant(client)
    company = await make_company(client, owner, state="27")
    address = {"line1": "Office 1204, Marina Plaza", "city": "Dubai", "state_code": "96"}
    customer = await make_customer(client, owner, name="Gulf Traders LLC", billing_address=address)
    p = Party(owner, company, customer)
    invoice = await p.invoice(client, line("1000.00"), tax_treatment="under_lut", destination_country="AE")
    text = " ".join(pdf_text((await get_pdf(client, owner, f"/invoices/{invoice['id']}/pdf")).content).split())
    assert invoice["endorsement"] in text
    assert "UNDER BOND OR LETTER OF UNDERTAKING WITHOUT PAYMENT OF INTEGRATED TAX" in text
    assert "United Arab Emirates" in text


async def test_render_by_kind_is_what_the_api_serves(client: httpx.AsyncClient, app, today) -> None:
    """`render(session, ctx, kind, id)`, as the outbox and the share page call it outside a request:
    the same bytes and ETag as the HTTP answer; another tenant's id is NotFound."""
    p = await party(client)
    invoice = await p.invoice(client)
    paid = await receipt(client, p, "100.00", str(today))
    served = await get_pdf(client, p.account, f"/invoices/{invoice['id']}/pdf", copy="triplicate")
    runtime = app.state.runtime
    tenant = uuid.UUID(p.account.tenant_id)
    async with runtime.db.transaction(tenant) as session:
        ctx = runtime.context(tenant_id=tenant)
        pdf = await document_pdfs.render(
            session, ctx, "invoice", uuid.UUID(invoice["id"]), copy=document_pdfs.Copy.triplicate
        )
        voucher = await document_pdfs.render(session, ctx, document_pdfs.DocumentKind.receipt, uuid.UUID(paid["id"]))
        statement = await document_pdfs.render(
            session, ctx, document_pdfs.DocumentKind.statement, uuid.UUID(p.customer["id"]), start=today, end=today
        )
    assert (pdf.content, pdf.etag) == (served.content, served.headers["etag"])
    assert pdf.filename == f"{invoice['number'].replace('/', '-')}.pdf"
    assert paid["number"] in pdf_text(voucher.content)
    assert invoice["number"] in pdf_text(statement.content)
    other = await party(client)
    other_tenant = uuid.UUID(other.account.tenant_id)
    async with runtime.db.transaction(other_tenant) as session:
        with pytest.raises(NotFound):
            await document_pdfs.invoice_pdf(session, runtime.context(tenant_id=other_tenant), uuid.UUID(invoice["id"]))


async def test_credit_notes_by_quantity_and_by_value_add_up(client: httpx.AsyncClient, today) -> None:
    """3 x ₹250.00 with ₹75.00 off (taxable 675.00): 2 returned credit 2 x 250.00 - 50.00 = 450.00;
    a credit of value only prints as 1 lump of that value, no unit."""
    p = await party(client)
    invoice = await p.invoice(client, line("250.00", quantity="3", discount="75.00", unit="NOS"), line("1000.00"))
    lines = invoice["lines"]
    body = {
        "invoice_id": invoice["id"],
        "reason": "Two returned, a rebate on the service",
        "credit_note_date": str(today),
        "lines": [
            {"invoice_line_id": lines[0]["id"], "quantity": "2"},
            {"invoice_line_id": lines[1]["id"], "taxable_value": "200.00"},
        ],
    }
    note = ok(await client.post(f"{API}/credit-notes", json=body, headers=p.account.headers), 201)
    assert [ln["taxable_value"] for ln in note["lines"]] == ["450.00", "200.00"]
    flat = " ".join(pdf_text((await get_pdf(client, p.account, f"/credit-notes/{note['id']}/pdf")).content).split())
    assert "2 NOS 250.00 500.00 50.00 450.00" in flat, flat
    assert "1 - 200.00 200.00 0.00 200.00" in flat, flat
