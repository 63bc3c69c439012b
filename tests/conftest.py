"""Test harness: a real PostgreSQL (the embedded server, or TEST_DATABASE_URL and
TEST_DATABASE_ADMIN_URL), migrated once per run; the app connects as the application role;
a real SMTP server (aiosmtpd) receives mail; HTTP goes through httpx over ASGI.

Tests isolate by tenant: each registers its own tenants with unique emails, so nothing needs
truncating and tests see exactly the rows they made (which is also what tenancy promises).
"""

import asyncio
import itertools
import os
import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage

import httpx
import pytest
import uvicorn
from aiosmtpd.controller import Controller
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from app.core.config import Settings
from app.core.database import drain_background_tasks
from app.core.embedded_pg import DatabaseUrls
from app.core.migrations import upgrade
from app.domain.fiscal import today_in_india
from app.main import create_app

# Property tests judge the code, not the machine: a CI box running the suite beside a database (or a
# loaded laptop) must not fail a property for drawing its examples slowly.
hypothesis_settings.register_profile("suite", deadline=None, suppress_health_check=[HealthCheck.too_slow])
hypothesis_settings.load_profile("suite")

# One database per run, so concurrent runs (two terminals, a helper, CI) never share one.
TEST_DB = f"rms_test_{os.getpid()}"
PASSWORD = "correct-horse-battery"


async def _test_database_urls() -> DatabaseUrls:
    app_url, admin_url = os.environ.get("TEST_DATABASE_URL"), os.environ.get("TEST_DATABASE_ADMIN_URL")
    if app_url and admin_url:
        return DatabaseUrls(app=app_url, admin=admin_url)
    from app.core.embedded_pg import embedded_urls, ensure_database, start_embedded_server

    server = start_embedded_server(Settings().embedded_pg_dir)
    await ensure_database(server, TEST_DB, recreate=True)
    return embedded_urls(server, TEST_DB, "rms_app")


@pytest.fixture(scope="session")
async def database_urls() -> AsyncIterator[DatabaseUrls]:
    urls = await _test_database_urls()
    await upgrade(urls)
    yield urls
    if not os.environ.get("TEST_DATABASE_URL"):
        await _drop_test_database()


async def _drop_test_database() -> None:
    from app.core.embedded_pg import drop_database, start_embedded_server

    await drop_database(start_embedded_server(Settings().embedded_pg_dir), TEST_DB)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Mailbox:
    """What the aiosmtpd server received."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"

    async def wait_for(self, to: str, subject_contains: str = "", seconds: float = 10.0) -> EmailMessage:
        await drain_background_tasks()
        deadline = asyncio.get_running_loop().time() + seconds
        while True:
            for message in self.messages:
                if message["To"] == to and subject_contains in message["Subject"]:
                    return message
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"no mail to {to} with subject containing {subject_contains!r}")
            await asyncio.sleep(0.05)

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]


MAILBOXES: list[Mailbox] = []  # the session's mailbox, for factories that read a mailed link


@pytest.fixture(scope="session")
def mailbox() -> AsyncIterator[Mailbox]:
    box = Mailbox()
    MAILBOXES.append(box)
    box.port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=box.port)
    controller.start()
    yield box
    controller.stop()


@pytest.fixture(scope="session")
def settings(database_urls: DatabaseUrls, mailbox: Mailbox, tmp_path_factory) -> Settings:
    return Settings(
        env="test",
        database_url=database_urls.app,
        database_admin_url=database_urls.admin,
        bcrypt_rounds=4,
        smtp_host="127.0.0.1",
        smtp_port=mailbox.port,
        outbox_dir=tmp_path_factory.mktemp("outbox"),
        email_link_base="http://test/pages",
        # Tests of other things register and invite freely (their own limit tests lower these).
        register_limit_per_ip=10**6,
        invite_limit_per_tenant=10**6,
        # As many connections at once as the default (20), but only 4 kept idle per app: the session
        # keeps several apps open (the ASGI app, the served one, the live-Razorpay one ...) and the
        # embedded server allows 100 connections in all.
        db_pool_size=4,
        db_max_overflow=16,
    )


@pytest.fixture(scope="session")
async def app(settings: Settings):
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
def today(app) -> Iterator[date]:
    """Today in India, held still for one test: the app's clock is pinned to the instant the test
    starts, so a test running across midnight IST (or into 1 April, a new financial year) sees one
    date from start to end, and the date it expects is the one the server uses."""
    runtime = app.state.runtime
    original, instant = runtime.clock, datetime.now(UTC)
    runtime.clock = lambda: instant
    yield today_in_india(instant)
    runtime.clock = original


@pytest.fixture(scope="session")
def live_server(settings: Settings) -> Iterator[str]:
    """The app served by uvicorn on a loopback port, in its own thread and event loop: for
    black-box tests where real HTTP matters. Rate limits are lifted so fuzzing is not throttled."""
    port = free_port()
    unthrottled = settings.model_copy(
        update={
            "port": port,
            "email_link_base": f"http://127.0.0.1:{port}/pages",  # mailed links open this server's pages
            "public_base_url": f"http://127.0.0.1:{port}",  # share links open this server's /p pages
            "login_limit_per_email": 10**6,
            "login_limit_per_ip": 10**6,
            "reset_limit_per_email": 10**6,
            "reset_limit_per_ip": 10**6,
            "login_limit_per_email_ip": 10**6,
            "register_limit_per_email": 10**6,
        }
    )
    server, thread = serve_in_thread(create_app(unthrottled), port)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=15)


def serve_in_thread(app, port: int, **options) -> tuple[uvicorn.Server, threading.Thread]:
    """Serve an ASGI app with uvicorn on a loopback port, in its own thread and event loop, once it
    is accepting connections (`options`: more uvicorn.Config arguments). Stop it with
    `server.should_exit = True`, then join the thread."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", **options))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError(f"the server on port {port} did not start")
        time.sleep(0.05)
    return server, thread


_ips = itertools.count(1)


def fresh_ip() -> str:
    """Each client gets its own address so per-IP rate limits do not couple unrelated tests."""
    n = next(_ips)
    return f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"


@pytest.fixture
async def client(app) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=(fresh_ip(), 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


def unique_email(prefix: str = "user") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}@example.in"
