"""GET /p/<token>: the public invoice page of a share link (no login)."""

import io
import os
import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urljoin

import httpx
import pytest
from playwright.async_api import async_playwright
from pypdf import PdfReader

from app.api.public import CSS, CSS_HASH
from app.services.documents.invoice_page import rupees
from tests.api.v1.invoicing import Party, line, make_customer
from tests.api.v1.receipting import alloc, receive
from tests.api.v1.sharing import VPA, path_of, payable_party, shared, token_of
from tests.browser import find_chromium
from tests.conftest import fresh_ip
from tests.factories import API, make_tenant

HEADERS = {
    "content-security-policy": (
        f"default-src 'none'; style-src 'sha256-{CSS_HASH}'; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'none'"
    ),
    "x-robots-tag": "noindex, nofollow",
    "referrer-policy": "no-referrer",
    "cache-control": "private, no-store",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "content-type": "text/html; charset=utf-8",
}
WRONG_TOKEN = "A" * 43


@pytest.fixture
async def party(client) -> Party:
    return await payable_party(client, await make_tenant(client, business_name="Hidden Holding Co"))


def assert_headers(response: httpx.Response) -> None:
    for name, value in HEADERS.items():
        assert response.headers[name] == value, name
    assert "set-cookie" not in response.headers


def visible(html: str) -> str:
    """The page's text as a reader sees it (tags dropped, blanks collapsed)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html.split("</style>", 1)[1]))


async def views(client, party: Party, invoice: dict) -> list[int]:
    response = await client.get(f"{API}/invoices/{invoice['id']}/share", headers=party.account.headers)
    return [item["view_count"] for item in response.json()["items"]]


class TestThePage:
    async def test_it_shows_the_invoice_as_the_customer_should_see_it(self, client, party, today):
        due = today + timedelta(days=20)
        invoice = await party.invoice(
            client, line("1000.00", "2", unit="NOS"), line("500.00", gst_rate="5"), due_date=due.isoformat()
        )
        link = await shared(client, party.account, invoice)
        response = await client.get(path_of(link["url"]))
        assert response.status_code == 200
        assert_headers(response)
        text = visible(response.text)
        for expected in (
            "Tax Invoice from Sharma Traders",
            invoice["number"],
            f"Due on {due.day} {due:%b %Y}",
            "Total ₹2,885.00",  # 2,000 + 18% + 500 + 5%
            "Balance due ₹2,885.00",
            "Amount paid ₹0.00",
            "Sharma Traders Pvt Ltd",
            party.company["gstin"],
            "Kumar Stores",
            "12 MG Road Bengaluru 560001",
            "Consulting",
            "998311",
            "2 NOS",
            "₹1,000.00",
            "CGST ₹192.50",
            "SGST ₹192.50",
            "Tax payable on reverse charge: No",
            "Download PDF",
        ):
            assert expected in text, expected
        # relative to the page (/p/<token>): it follows PUBLIC_BASE_URL, path prefix included
        assert f'href="{token_of(link["url"])}/pdf"' in response.text
        assert urljoin(link["url"], f"{token_of(link['url'])}/pdf") == f"{link['url']}/pdf"
        assert "<script" not in response.text.lower()
        assert response.text.count("<style>") == 1 and CSS in response.text

    async def test_a_payable_invoice_has_the_upi_qr_and_link(self, client, party):
        invoice = await party.invoice(client)
        page = (await client.get(path_of((await shared(client, party.account, invoice))["url"]))).text
        href = re.search(r'<a id="open-upi"[^>]* href="([^"]+)"', page).group(1).replace("&amp;", "&")
        number = invoice["number"].replace("/", "%2F")
        assert href == (f"upi://pay?pa={VPA}&pn=Sharma%20Traders&am=1180.00&cu=INR&tr={number}&tn=Invoice%20{number}")
        assert "Open UPI app" in page
        assert re.search(r"<svg[^>]*>.*<path", page, re.S), "an inline SVG QR code"

    async def test_partly_paid_then_paid(self, client, party):
        invoice = await party.invoice(client)
        path = path_of((await shared(client, party.account, invoice))["url"])
        await receive(client, party, "180.00", alloc(invoice, "180.00"))
        text = visible((await client.get(path)).text)
        assert "Partly paid, due on" in text and "Amount paid ₹180.00" in text and "Balance due ₹1,000.00" in text
        assert "am=1000.00" in (await client.get(path)).text
        await receive(client, party, "1000.00", alloc(invoice, "1000.00"))
        page = (await client.get(path)).text
        assert "Paid" in visible(page) and "Balance due ₹0.00" in visible(page)
        assert "upi://" not in page and "<svg" not in page, "nothing to pay"

    async def test_overdue(self, client, party, today):
        invoice = await party.invoice(
            client,
            invoice_date=(today - timedelta(days=20)).isoformat(),
            due_date=(today - timedelta(days=1)).isoformat(),
        )
        text = visible((await client.get(path_of((await shared(client, party.account, invoice))["url"]))).text)
        due = today - timedelta(days=1)
        assert f"Overdue since {due.day} {due:%b %Y}" in text

    async def test_without_a_vpa_there_is_no_upi(self, client):
        account = await make_tenant(client)
        party = await Party.make(client, account)
        invoice = await party.invoice(client)
        page = (await client.get(path_of((await shared(client, account, invoice))["url"]))).text
        assert "upi://" not in page and "<svg" not in page and "Balance due" in page

    async def test_it_shows_nothing_of_other_invoices_customers_or_the_tenant(self, client, party):
        invoice = await party.invoice(client, notes="Thank you")
        other_customer = await make_customer(client, party.account, name="Secret Buyer Pvt", email="b@secret.example")
        other = await client.post(
            f"{API}/invoices",
            json={
                "company_id": party.company["id"],
                "customer_id": other_customer["id"],
                "lines": [line("77.00")],
                "issue": True,
            },
            headers=party.account.headers,
        )
        assert other.status_code == 201
        page = (await client.get(path_of((await shared(client, party.account, invoice))["url"]))).text
        for secret in (
            other.json()["number"],
            other.json()["id"],
            "Secret Buyer",
            "secret.example",
            "Hidden Holding Co",  # the tenant's own name
            party.account.tenant_id,
            party.account.email,
            invoice["id"],
            party.customer["id"],
            party.company["id"],
        ):
            assert secret not in page, secret


class TestThePdf:
    async def test_the_pdf_link_serves_the_invoice_pdf_with_an_etag(self, client, party):
        invoice = await party.invoice(client)
        path = path_of((await shared(client, party.account, invoice))["url"])
        response = await client.get(f"{path}/pdf")
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/pdf"
        assert response.headers["x-robots-tag"] == "noindex, nofollow"
        assert "private" in response.headers["cache-control"]
        text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
        assert invoice["number"] in text and "1,180.00" in text
        again = await client.get(f"{path}/pdf", headers={"If-None-Match": response.headers["etag"]})
        assert (again.status_code, again.content) == (304, b"")
        assert await views(client, party, invoice) == [0], "a download is not a page view"

    async def test_a_revoked_links_pdf_is_the_not_found_page(self, client, party):
        invoice = await party.invoice(client)
        link = await shared(client, party.account, invoice)
        assert (
            await client.delete(f"{API}/invoices/{invoice['id']}/share", headers=party.account.headers)
        ).status_code == 204
        gone = await client.get(f"{path_of(link['url'])}/pdf")
        wrong = await client.get(f"/p/{WRONG_TOKEN}/pdf")
        assert (gone.status_code, gone.content) == (404, wrong.content)
        assert "This link is not available" in gone.text
        assert_headers(gone)


class TestViews:
    async def test_each_get_counts_a_view_and_head_does_not(self, client, party):
        invoice = await party.invoice(client)
        path = path_of((await shared(client, party.account, invoice))["url"])
        for _ in range(2):
            assert (await client.get(path)).status_code == 200
        head = await client.head(path)
        assert head.status_code == 200 and head.content == b""
        assert await views(client, party, invoice) == [2]


class TestNotFound:
    async def test_wrong_malformed_revoked_and_expired_links_get_the_same_page(self, app, client, party, today):
        invoice = await party.invoice(client)
        revoked = await shared(client, party.account, invoice)
        expiring = await shared(client, party.account, invoice, expires_in_days=1)
        assert (await client.get(path_of(expiring["url"]))).status_code == 200
        assert (
            await client.delete(
                f"{API}/invoices/{invoice['id']}/share",
                params={"link_id": revoked["id"]},
                headers=party.account.headers,
            )
        ).status_code == 204
        wrong = await client.get(f"/p/{WRONG_TOKEN}")
        assert wrong.status_code == 404
        assert_headers(wrong)
        assert "This link is not available" in wrong.text
        for path in (path_of(revoked["url"]), "/p/x", "/p/" + token_of(revoked["url"])[:-1], "/p/%00%27"):
            response = await client.get(path)
            assert (response.status_code, response.content) == (404, wrong.content), path
            assert_headers(response)
        instant = app.state.runtime.clock()
        app.state.runtime.clock = lambda: instant + timedelta(days=1, seconds=1)
        expired = await client.get(path_of(expiring["url"]))
        assert (expired.status_code, expired.content) == (404, wrong.content)
        assert await views(client, party, invoice) == []

    async def test_a_long_path_is_the_same_not_found_page(self, client):
        wrong = await client.get(f"/p/{WRONG_TOKEN}")
        for path in ("/p/" + "a" * 500, "/p/" + "a" * 500 + "/pdf"):
            response = await client.get(path)
            assert (response.status_code, response.content) == (404, wrong.content), path
            assert_headers(response)


class TestRateLimits:
    # `today` holds the app's clock still: every request falls in one window of the fixed-window limits.
    async def test_wrong_links_from_one_ip_are_refused_after_the_limit_even_with_a_good_link(
        self, app, party, client, settings, today
    ):
        invoice = await party.invoice(client)
        good = path_of((await shared(client, party.account, invoice))["url"])
        transport = httpx.ASGITransport(app=app, client=(fresh_ip(), 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as guesser:
            for n in range(settings.public_page_misses_per_ip):
                assert (await guesser.get(f"/p/{WRONG_TOKEN[:-3]}{n:03d}")).status_code == 404
            refused = await guesser.get(good)
            assert refused.status_code == 429
            assert 1 <= int(refused.headers["retry-after"]) <= 3600
            assert_headers(refused)
            assert "Too many requests" in refused.text
        assert (await client.get(good)).status_code == 200, "another address is not refused"

    async def test_too_many_pages_a_minute_from_one_ip(self, app, party, client, settings, today):
        invoice = await party.invoice(client)
        good = path_of((await shared(client, party.account, invoice))["url"])
        transport = httpx.ASGITransport(app=app, client=(fresh_ip(), 40000))
        statuses = []
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as reader:
            for _ in range(settings.public_page_limit_per_ip + 1):
                statuses.append((await reader.get(good)).status_code)
        assert statuses == [200] * settings.public_page_limit_per_ip + [429]


async def test_the_public_page_is_not_in_the_api_spec(client):
    spec = (await client.get("/openapi.json")).json()
    assert not [path for path in spec["paths"] if path.startswith("/p/")]


ARTIFACTS = Path(os.environ.get("ARTIFACTS_DIR", Path(__file__).resolve().parents[1] / "artifacts"))


@pytest.fixture
def artifacts() -> Path:
    """Where the browser test keeps its screenshot and download (ARTIFACTS_DIR, else tests/artifacts/)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def chromium_path() -> str:
    return find_chromium()  # skips without a Chromium, fails with REQUIRE_CHROMIUM=1


class TestInChromium:
    """A real headless Chromium (Debian's, driven by Playwright: no browser download) on a phone's screen."""

    async def test_a_customer_opens_the_link_on_a_phone_and_downloads_the_pdf(
        self, live_server, chromium_path, artifacts
    ):
        async with httpx.AsyncClient(base_url=live_server) as client:
            owner = await make_tenant(client)
            party = await payable_party(client, owner)
            invoice = await party.invoice(
                client,
                line("99999.00", "3", unit="NOS", description="Industrial water pump, 5 HP, stainless steel impeller"),
                line("250.00"),
            )
            link = await shared(client, owner, invoice)
        assert link["url"].startswith(f"{live_server}/p/")

        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=chromium_path, args=["--no-sandbox"])
            try:
                context = await browser.new_context(viewport={"width": 360, "height": 800}, accept_downloads=True)
                page = await context.new_page()
                problems: list[str] = []
                page.on("console", lambda message: problems.append(f"{message.type}: {message.text}"))
                page.on("pageerror", lambda error: problems.append(str(error)))
                response = await page.goto(link["url"])
                assert response is not None and response.status == 200

                assert await page.locator("#invoice-number").inner_text() == invoice["number"]
                total = await page.locator("#total").inner_text()
                balance = await page.locator("#balance-due").inner_text()
                expected = rupees_of(invoice["total"])
                assert (total, balance) == (expected, expected)
                assert await page.locator("#total").is_visible() and await page.locator("#balance-due").is_visible()

                upi = await page.locator("#open-upi").get_attribute("href")
                assert upi is not None and upi.startswith(f"upi://pay?pa={VPA}&") and f"&am={invoice['total']}&" in upi
                assert await page.locator(".pay svg").is_visible()

                width = await page.evaluate("document.scrollingElement.scrollWidth")
                assert width <= 360, f"the page scrolls sideways at 360 px ({width} px wide)"
                await page.screenshot(path=str(artifacts / "public-invoice-360x800.png"), full_page=True)

                async with page.expect_download() as download_info:
                    await page.get_by_role("link", name="Download PDF").click()
                download = await download_info.value
                saved = artifacts / "public-invoice.pdf"
                await download.save_as(saved)
                reader = PdfReader(saved)
                assert invoice["number"] in "".join(p.extract_text() for p in reader.pages)
                assert problems == [], problems  # no CSP violation, no error
            finally:
                await browser.close()


def rupees_of(amount: str) -> str:
    return rupees(Decimal(amount))
