"""The pages behind mailed links (app/api/pages.py). Opening a link (a GET, which mail scanners
do to every link) redeems nothing; the page's button POSTs the token. Plain HTTP first, then a
real headless Chromium on the served app for what a person sees."""

import re
import uuid
from email.message import EmailMessage

import httpx
import pytest
from sqlalchemy import text

from app.api.pages import PAGES
from app.core.security import token_digest
from tests.api.v1.members import invite
from tests.browser import chromium, find_chromium
from tests.conftest import PASSWORD, unique_email
from tests.factories import API, login, make_tenant

NEW_PASSWORD = "a-brand-new-secret"


def mailed_link(message: EmailMessage, page: str) -> str:
    """The absolute link to `page` in the mail's text part."""
    body = message.get_body(("plain",)).get_content()
    match = re.search(rf"https?://\S+/pages/{page}\?token=[A-Za-z0-9_-]+", body)
    assert match, f"no {page} link in {body!r}"
    return match.group(0)


def token_of(link: str) -> str:
    return link.split("token=", 1)[1]


def assert_page(response: httpx.Response, status: int = 200) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("text/html")
    return response.text


async def register(client: httpx.AsyncClient, email: str) -> None:
    body = {"email": email, "password": PASSWORD, "full_name": "Asha Rao", "business_name": "Rao Traders"}
    assert (await client.post(f"{API}/auth/register", json=body)).status_code == 202


async def email_verified(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> bool:
    return (await login(client, email, password)).user["email_verified"]


async def verification_used_at(app, tenant_id: str, token: str):
    async with app.state.db.transaction(uuid.UUID(tenant_id)) as session:
        row = await session.execute(
            text("SELECT used_at FROM email_verifications WHERE token_hash = :h"), {"h": token_digest(token)}
        )
        return row.scalar_one()


class TestOpeningALinkRedeemsNothing:
    async def test_the_verification_link_and_the_old_api_link_leave_the_token_for_the_button(self, client, mailbox):
        email = unique_email("scanned")
        await register(client, email)
        link = mailed_link(await mailbox.wait_for(email, "Verify your email"), "verify-email")
        token = token_of(link)
        # What a mail scanner does, twice over: the mailed link, and the API link older mails carry.
        for url in (link, f"{API}/auth/verify-email?token={token}") * 2:
            assert_page(await client.get(url, follow_redirects=True))
        assert (await client.head(link)).status_code == 200
        assert await email_verified(client, email) is False

        clicked = await client.post(f"{API}/auth/verify-email", json={"token": token})
        assert clicked.status_code == 200, clicked.text
        assert clicked.json()["email_verified"] is True
        assert await email_verified(client, email) is True

    async def test_the_reset_link_opens_a_page_and_the_token_still_resets(self, client, mailbox):
        owner = await make_tenant(client)
        assert (await client.post(f"{API}/auth/forgot-password", json={"email": owner.email})).status_code == 202
        link = mailed_link(await mailbox.wait_for(owner.email, "Reset your"), "reset-password")
        assert 'name="new_password"' in assert_page(await client.get(link))
        body = {"token": token_of(link), "new_password": NEW_PASSWORD}
        assert (await client.post(f"{API}/auth/reset-password", json=body)).status_code == 204
        await login(client, owner.email, NEW_PASSWORD)

    async def test_the_invitation_link_opens_a_page_and_the_token_still_joins(self, client, mailbox):
        owner = await make_tenant(client)
        email = unique_email("invited")
        invited = await invite(client, owner, email, "viewer")
        assert invited.status_code == 201, invited.text
        link = mailed_link(await mailbox.wait_for(email, "invited you"), "accept-invite")
        assert 'name="full_name"' in assert_page(await client.get(link))
        body = {"token": token_of(link), "full_name": "Meena Iyer", "password": PASSWORD}
        assert (await client.post(f"{API}/auth/accept-invite", json=body)).status_code == 201
        assert (await login(client, email)).tenant_id == owner.tenant_id

    async def test_the_already_registered_mail_links_to_the_forgot_password_page(self, client, mailbox):
        owner = await make_tenant(client)
        await register(client, owner.email)
        message = await mailbox.wait_for(owner.email, "already")
        match = re.search(r"http://test(/pages/forgot-password)\b", message.get_body(("plain",)).get_content())
        assert match, message.get_body(("plain",)).get_content()
        assert 'name="email"' in assert_page(await client.get(match.group(1)))


class TestPages:
    @pytest.mark.parametrize("name", sorted(PAGES))
    async def test_each_page_is_self_contained_and_posts_to_an_api_route(self, client, name):
        page = PAGES[name]
        response = await client.get(f"/pages/{name}", params={"token": "abc_DEF-123"} if page.token else None)
        html = assert_page(response)
        csp = response.headers["content-security-policy"]
        nonce = re.search(r"script-src 'nonce-([^']+)'", csp).group(1)
        assert f'<script nonce="{nonce}">' in html and "connect-src 'self'" in csp and "default-src 'none'" in csp
        assert response.headers["referrer-policy"] == "no-referrer"  # the URL holds a token
        assert response.headers["cache-control"] == "no-store"
        assert not re.search(r"""(src|href)=["']?(https?:)?//""", html), "no external assets"
        assert f'data-action="{page.action}"' in html
        assert ('value="abc_DEF-123"' in html) is page.token
        spec = (await client.get("/openapi.json")).json()
        assert "post" in spec["paths"][page.action], f"{name} posts to {page.action}, which the API does not serve"

    @pytest.mark.parametrize(
        "query", [{}, {"token": ""}, {"token": '"><script>alert(1)</script>'}, {"token": "a" * 201}], ids=repr
    )
    async def test_a_missing_or_damaged_token_is_a_400_page_without_a_form(self, client, query):
        html = assert_page(await client.get("/pages/verify-email", params=query), 400)
        assert "<form" not in html and "<script" not in html and "alert(1)" not in html
        assert "incomplete or damaged" in html

    async def test_an_unknown_page_is_a_404_problem(self, client):
        response = await client.get("/pages/nothing-here", params={"token": "abc"})
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("application/problem+json")

    async def test_the_pages_and_the_old_link_are_not_in_the_api_spec(self, client):
        paths = (await client.get("/openapi.json")).json()["paths"]
        assert not [p for p in paths if p.startswith("/pages")]
        assert "get" not in paths[f"{API}/auth/verify-email"]


@pytest.fixture
def browser_binary() -> str:
    return find_chromium()


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory):
    path = tmp_path_factory.mktemp("chromium-screenshots")
    print(f"\nChromium screenshots: {path}")
    return path


class TestInChromium:
    async def test_the_mailed_verification_link_verifies_only_when_the_button_is_clicked(
        self, app, live_server, mailbox, browser_binary, screenshots
    ):
        email = unique_email("browser")
        async with httpx.AsyncClient(base_url=live_server) as client:
            await register(client, email)
            link = mailed_link(await mailbox.wait_for(email, "Verify your email"), "verify-email")
            assert link.startswith(f"{live_server}/pages/"), "the link follows the server's port"
            tenant_id = (await login(client, email)).tenant_id

            async with chromium(browser_binary) as page:
                await page.open(link)
                await page.screenshot(screenshots / "verify-email-opened.png")
                assert await page.text("h1") == "Verify your email"
                assert await verification_used_at(app, tenant_id, token_of(link)) is None, "the GET redeemed it"
                assert await email_verified(client, email) is False

                await page.click("#submit")
                status = await page.wait_for_text("#status", "verified")
                await page.screenshot(screenshots / "verify-email-clicked.png")
                assert "Your email address is verified" in status, status
                assert page.console() == []  # no CSP violation, no script error

            assert await verification_used_at(app, tenant_id, token_of(link)) is not None
            assert await email_verified(client, email) is True

    async def test_the_reset_link_page_sets_the_typed_password(self, live_server, mailbox, browser_binary, screenshots):
        async with httpx.AsyncClient(base_url=live_server) as client:
            owner = await make_tenant(client)
            assert (await client.post(f"{API}/auth/forgot-password", json={"email": owner.email})).status_code == 202
            link = mailed_link(await mailbox.wait_for(owner.email, "Reset your"), "reset-password")

            async with chromium(browser_binary) as page:
                await page.open(link)
                await page.type_into("#new_password", NEW_PASSWORD)
                await page.type_into("#new_password-repeat", "something-else")
                await page.click("#submit")
                assert "do not match" in await page.wait_for_text("#status", "do not match")

                await page.evaluate("document.getElementById('new_password-repeat').value = ''")
                await page.type_into("#new_password-repeat", NEW_PASSWORD)
                await page.click("#submit")
                status = await page.wait_for_text("#status", "password is changed")
                await page.screenshot(screenshots / "reset-password-done.png")
                assert "Sign in with the new one" in status, status
                assert page.console() == []

            await login(client, owner.email, NEW_PASSWORD)

    async def test_the_invitation_page_shows_field_errors_then_joins(
        self, live_server, mailbox, browser_binary, screenshots
    ):
        email = unique_email("invited")
        async with httpx.AsyncClient(base_url=live_server) as client:
            owner = await make_tenant(client)
            assert (await invite(client, owner, email, "viewer")).status_code == 201
            link = mailed_link(await mailbox.wait_for(email, "invited you"), "accept-invite")

            async with chromium(browser_binary) as page:
                await page.open(link)
                await page.type_into("#full_name", "Meena <b>Iyer</b>")
                for selector in ("#password", "#password-repeat"):
                    await page.type_into(selector, "short")
                await page.click("#submit")
                status = await page.wait_for_text("#status", "Password:")
                await page.screenshot(screenshots / "accept-invite-error.png")
                assert "Password:" in status and "8 characters" in status, status

                for selector in ("#password", "#password-repeat"):
                    await page.evaluate(f"document.querySelector('{selector}').value = ''")
                    await page.type_into(selector, PASSWORD)
                await page.click("#submit")
                assert "Welcome aboard" in await page.wait_for_text("#status", "Welcome aboard")
                assert page.console() == []

            member = await login(client, email)
            assert member.tenant_id == owner.tenant_id and member.user["full_name"] == "Meena <b>Iyer</b>"
