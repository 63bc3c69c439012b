"""GET /invoices/{id}/pdf, /credit-notes/{id}/pdf, /receipts/{id}/pdf, /customers/{id}/statement.pdf:
real PDFs read back with pypdf, their headers, 304s, the cache and the render bound."""

import io
import re

import httpx
from pypdf import PdfReader

from tests.api.v1.http_checks import assert_problem
from tests.api.v1.invoicing import Party, line
from tests.factories import API, Account, make_tenant


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
