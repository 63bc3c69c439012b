"""Failed logins, reset requests and sign-ups are rate limited: 429 with Retry-After. Failed logins
count per (email, IP) pair, per email with a higher ceiling, and per IP, so a stranger cannot lock
an owner out; the client IP comes from X-Forwarded-For only behind a proxy in FORWARDED_ALLOW_IPS."""

import asyncio
import secrets
from collections import Counter
from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from app.__main__ import uvicorn_options
from app.core.database import drain_background_tasks
from app.main import create_app
from tests.conftest import PASSWORD, free_port, fresh_ip, serve_in_thread, unique_email
from tests.factories import API, login, make_tenant

LIMITS = {
    "login_limit_per_email_ip": 2,
    "login_limit_per_email": 4,
    "login_limit_per_ip": 6,
    "register_limit_per_email": 3,
    "register_limit_per_ip": 4,
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
    async def test_a_stranger_cannot_lock_the_owner_out(self, new_client):
        owner = await make_tenant(new_client())
        stranger = new_client()
        statuses = [(await bad_login(stranger, owner.email)).status_code for _ in range(3)]
        assert statuses == [401, 401, 429]
        await login(new_client(), owner.email)
        assert (await bad_login(new_client(), owner.email)).status_code == 401

    async def test_failures_from_many_addresses_beyond_the_emails_ceiling_are_429(self, new_client):
        client = new_client()
        owner = await make_tenant(client)
        statuses = [(await bad_login(new_client(), owner.email)).status_code for _ in range(4)]
        assert statuses == [401, 401, 401, 401]
        assert_rate_limited(await bad_login(new_client(), owner.email))

    async def test_even_the_right_password_is_refused_while_limited(self, new_client):
        owner = await make_tenant(new_client())
        for _ in range(4):
            await bad_login(new_client(), owner.email)
        response = await new_client().post(f"{API}/auth/login", json={"email": owner.email, "password": PASSWORD})
        assert_rate_limited(response)

    async def test_unknown_emails_are_limited_the_same(self, new_client):
        email = unique_email("nobody")
        for _ in range(4):
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
        assert counts[401] <= 4, counts
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


async def register(client: httpx.AsyncClient, email: str) -> httpx.Response:
    body = {"email": email, "password": PASSWORD, "full_name": "Ravi Sharma", "business_name": "Sharma Traders"}
    return await client.post(f"{API}/auth/register", json=body)


class TestRegister:
    async def test_per_email(self, new_client):
        email = unique_email("signup")
        assert [(await register(new_client(), email)).status_code for _ in range(3)] == [202, 202, 202]
        assert_rate_limited(await register(new_client(), email))

    async def test_per_ip(self, new_client):
        client = new_client()
        for _ in range(4):
            assert (await register(client, unique_email())).status_code == 202
        assert_rate_limited(await register(client, unique_email()))
        assert (await register(new_client(), unique_email())).status_code == 202

    async def test_an_existing_address_gets_one_already_registered_mail_per_window(self, new_client, mailbox):
        owner = await make_tenant(new_client())
        assert [(await register(new_client(), owner.email)).status_code for _ in range(2)] == [202, 202]
        await mailbox.wait_for(owner.email, "already have")
        await drain_background_tasks()
        assert len([m for m in mailbox.to(owner.email) if "already have" in m["Subject"]]) == 1
        assert_rate_limited(await register(new_client(), owner.email))


class TestForwardedFor:
    """The client address behind rate limits: X-Forwarded-For only from FORWARDED_ALLOW_IPS."""

    async def test_served_as_make_run_serves_it_a_loopback_client_cannot_pose_as_others(self, settings):
        options = {k: v for k, v in uvicorn_options(settings).items() if k not in ("host", "port", "workers")}
        options.pop("log_level")
        port = free_port()
        server, thread = serve_in_thread(create_app(settings.model_copy(update=LIMITS)), port, **options)
        # A loopback address of its own: the per-IP bucket of 127.0.0.1 holds the whole run's failures.
        own_loopback = f"127.{secrets.randbelow(250) + 1}.{secrets.randbelow(256)}.{secrets.randbelow(250) + 1}"
        transport = httpx.AsyncHTTPTransport(local_address=own_loopback)
        try:
            async with httpx.AsyncClient(transport=transport, base_url=f"http://127.0.0.1:{port}") as client:
                statuses = []
                for _ in range(7):
                    forged = {"X-Forwarded-For": fresh_ip()}
                    body = {"email": unique_email(), "password": "wrong-password"}
                    statuses.append((await client.post(f"{API}/auth/login", json=body, headers=forged)).status_code)
        finally:
            server.should_exit = True
            thread.join(timeout=15)
        assert statuses == [401] * 6 + [429]

    async def test_a_configured_proxy_is_believed(self, settings):
        proxied = settings.model_copy(update=LIMITS | {"forwarded_allow_ips": ["127.0.0.1"]})
        application = create_app(proxied)
        async with application.router.lifespan_context(application):
            transport = httpx.ASGITransport(app=application, client=("127.0.0.1", 40000))
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                for _ in range(7):  # each from its own address behind the proxy: no per-IP limit reached
                    assert (await bad_login_via(client, fresh_ip())).status_code == 401
                one = fresh_ip()
                for _ in range(6):
                    assert (await bad_login_via(client, one)).status_code == 401
                assert_rate_limited(await bad_login_via(client, one))


async def bad_login_via(client: httpx.AsyncClient, forwarded_for: str) -> httpx.Response:
    body = {"email": unique_email(), "password": "wrong-password"}
    return await client.post(f"{API}/auth/login", json=body, headers={"X-Forwarded-For": forwarded_for})
