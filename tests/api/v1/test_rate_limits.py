"""Failed logins and reset requests are rate limited per email and per IP: 429 with Retry-After."""

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from app.main import create_app
from tests.conftest import PASSWORD, fresh_ip, unique_email
from tests.factories import API, login, make_tenant

LIMITS = {
    "login_limit_per_email": 3,
    "login_limit_per_ip": 6,
    "reset_limit_per_email": 2,
    "reset_limit_per_ip": 4,
}

ClientFactory = Callable[[], httpx.AsyncClient]


@pytest.fixture(scope="module")
async def limited_app(settings):
    application = create_app(settings.model_copy(update=LIMITS))
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def new_client(limited_app) -> AsyncIterator[ClientFactory]:
    """Clients of the low-limit app, each from its own IP address."""
    clients: list[httpx.AsyncClient] = []

    def make() -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=limited_app, client=(fresh_ip(), 40000))
        clients.append(httpx.AsyncClient(transport=transport, base_url="http://test"))
        return clients[-1]

    yield make
    for c in clients:
        await c.aclose()


async def bad_login(client: httpx.AsyncClient, email: str) -> httpx.Response:
    return await client.post(f"{API}/auth/login", json={"email": email, "password": "wrong-password"})


def assert_rate_limited(response: httpx.Response) -> None:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == 429 and body["code"] == "rate-limited"
    assert {"type", "title", "detail"} <= body.keys()
    retry_after = response.headers["retry-after"]
    assert retry_after.isdigit() and int(retry_after) > 0


class TestLoginPerEmail:
    async def test_failures_beyond_the_limit_are_429(self, new_client):
        client = new_client()
        owner = await make_tenant(client)
        statuses = [(await bad_login(new_client(), owner.email)).status_code for _ in range(3)]
        assert statuses == [401, 401, 401]
        assert_rate_limited(await bad_login(new_client(), owner.email))

    async def test_even_the_right_password_is_refused_while_limited(self, new_client):
        owner = await make_tenant(new_client())
        for _ in range(3):
            await bad_login(new_client(), owner.email)
        response = await new_client().post(f"{API}/auth/login", json={"email": owner.email, "password": PASSWORD})
        assert_rate_limited(response)

    async def test_unknown_emails_are_limited_the_same(self, new_client):
        email = unique_email("nobody")
        for _ in range(3):
            assert (await bad_login(new_client(), email)).status_code == 401
        assert_rate_limited(await bad_login(new_client(), email))

    async def test_successful_logins_do_not_count(self, new_client):
        client = new_client()
        owner = await make_tenant(client)
        for _ in range(4):
            await login(client, owner.email)
        assert (await bad_login(client, owner.email)).status_code == 401

    async def test_other_emails_are_not_affected(self, new_client):
        owner = await make_tenant(new_client())
        for _ in range(4):
            await bad_login(new_client(), unique_email())
        await login(new_client(), owner.email)

    async def test_concurrent_failures_cannot_exceed_the_limit(self, new_client):
        email = unique_email("burst")
        responses = await asyncio.gather(*(bad_login(new_client(), email) for _ in range(12)))
        counts = Counter(r.status_code for r in responses)
        assert counts[401] <= 3, counts
        assert counts[429] == 12 - counts[401], counts


class TestLoginPerIp:
    async def test_many_emails_from_one_address_are_429(self, new_client):
        client = new_client()
        for _ in range(6):
            assert (await bad_login(client, unique_email())).status_code == 401
        assert_rate_limited(await bad_login(client, unique_email()))
        assert (await bad_login(new_client(), unique_email())).status_code == 401

    async def test_oauth2_form_login_shares_the_limit(self, new_client):
        client = new_client()
        for _ in range(6):
            await bad_login(client, unique_email())
        response = await client.post(f"{API}/auth/token", data={"username": unique_email(), "password": "x"})
        assert_rate_limited(response)


async def forgot(client: httpx.AsyncClient, email: str) -> httpx.Response:
    return await client.post(f"{API}/auth/forgot-password", json={"email": email})


class TestForgotPassword:
    async def test_per_email(self, new_client, mailbox):
        owner = await make_tenant(new_client())
        assert [(await forgot(new_client(), owner.email)).status_code for _ in range(2)] == [202, 202]
        assert_rate_limited(await forgot(new_client(), owner.email))
        assert len([m for m in mailbox.to(owner.email) if "Reset" in m["Subject"]]) <= 2

    async def test_unknown_email_is_limited_the_same(self, new_client):
        email = unique_email("nobody")
        assert [(await forgot(new_client(), email)).status_code for _ in range(2)] == [202, 202]
        assert_rate_limited(await forgot(new_client(), email))

    async def test_per_ip(self, new_client):
        client = new_client()
        for _ in range(4):
            assert (await forgot(client, unique_email())).status_code == 202
        assert_rate_limited(await forgot(client, unique_email()))

    async def test_concurrent_requests_cannot_exceed_the_limit(self, new_client):
        email = unique_email("burst")
        responses = await asyncio.gather(*(forgot(new_client(), email) for _ in range(8)))
        counts = Counter(r.status_code for r in responses)
        assert counts[202] == 2 and counts[429] == 6, counts


async def test_resend_verification_is_limited(new_client):
    client = new_client()
    owner = await make_tenant(client)
    statuses = [
        (await client.post(f"{API}/auth/resend-verification", headers=owner.headers)).status_code for _ in range(2)
    ]
    assert statuses == [202, 202]
    assert_rate_limited(await client.post(f"{API}/auth/resend-verification", headers=owner.headers))
