"""A stand-in for Razorpay (the one outside service the tests cannot reach): a real HTTP server on a
loopback port that speaks the Orders API's shape (POST /v1/orders with basic auth, the order
entity back), can be told to fail the next calls, records every call, and pays and signs like
Razorpay (Checkout's signature, signed webhook events).

Fixtures: `fake_razorpay` (the server), `razorpay_app` (the app in RAZORPAY_MODE=live pointed at
it, a settings copy: the shared `settings` stay in sandbox mode) and `razorpay_client`.
"""

import base64
import hashlib
import hmac
import itertools
import json
import secrets
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.conftest import free_port, fresh_ip, serve_in_thread

KEY_ID = "rzp_test_fake0001"
KEY_SECRET = "fake-key-secret-0123456789"
WEBHOOK_SECRET = "fake-webhook-secret-0123456789"
_events = itertools.count(1)


@dataclass
class Call:
    path: str
    auth: tuple[str, str] | None
    body: dict


@dataclass
class FakeRazorpay:
    key_id: str = KEY_ID
    key_secret: str = KEY_SECRET
    webhook_secret: str = WEBHOOK_SECRET
    url: str = ""
    calls: list[Call] = field(default_factory=list)
    orders: dict[str, dict] = field(default_factory=dict)
    _failures: list[int] = field(default_factory=list)

    def fail_next(self, count: int, status: int = 500) -> None:
        """The next `count` calls answer `status` (Razorpay's error shape)."""
        self._failures = [status] * count

    def reset(self) -> None:
        self.calls.clear()
        self._failures.clear()

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/v1/orders", self._create_order, methods=["POST"])])

    async def _create_order(self, request: Request) -> JSONResponse:
        try:
            body = json.loads(await request.body())
        except ValueError:
            body = {}
        auth = _basic_auth(request.headers.get("authorization", ""))
        self.calls.append(Call(request.url.path, auth, body))
        if auth != (self.key_id, self.key_secret):
            return _error(401, "BAD_REQUEST_ERROR", "Authentication failed")
        if self._failures:
            return _error(self._failures.pop(0), "SERVER_ERROR", "The server encountered an error")
        amount, currency = body.get("amount"), body.get("currency")
        if not isinstance(amount, int) or amount < 100 or currency != "INR":
            return _error(400, "BAD_REQUEST_ERROR", "The amount must be at least INR 1.00")
        order = {
            "id": "order_" + secrets.token_hex(7),
            "entity": "order",
            "amount": amount,
            "amount_paid": 0,
            "amount_due": amount,
            "currency": currency,
            "receipt": body.get("receipt"),
            "offer_id": None,
            "status": "created",
            "attempts": 0,
            "notes": body.get("notes") or [],
            "created_at": int(time.time()),
        }
        self.orders[order["id"]] = order
        return JSONResponse(order)

    def pay(self, order_id: str) -> dict[str, str]:
        """What Checkout returns once the buyer has paid the order."""
        payment_id = "pay_" + secrets.token_hex(7)
        signature = _hmac(self.key_secret, f"{order_id}|{payment_id}".encode())
        return {"razorpay_order_id": order_id, "razorpay_payment_id": payment_id, "razorpay_signature": signature}

    def event(
        self, kind: str, order_id: str, payment_id: str, *, amount: int = 99_900, event_id: str | None = None
    ) -> tuple[bytes, dict[str, str]]:
        """A webhook delivery (raw body, headers) of `kind` as Razorpay signs it."""
        status = {"payment.failed": "failed"}.get(kind, "captured")
        payment = {
            "id": payment_id,
            "entity": "payment",
            "amount": amount,
            "currency": "INR",
            "status": status,
            "order_id": order_id,
            "method": "upi",
            "captured": status == "captured",
            "error_code": "BAD_REQUEST_ERROR" if status == "failed" else None,
            "error_description": "Payment failed at the bank" if status == "failed" else None,
        }
        payload: dict = {"payment": {"entity": payment}}
        if kind == "order.paid":
            payload["order"] = {"entity": {"id": order_id, "entity": "order", "amount": amount, "status": "paid"}}
        event = {
            "entity": "event",
            "account_id": "acc_fake0001",
            "event": kind,
            "contains": list(payload),
            "payload": payload,
            "created_at": int(time.time()),
        }
        body = json.dumps(event).encode()
        headers = {
            "Content-Type": "application/json",
            "X-Razorpay-Signature": _hmac(self.webhook_secret, body),
            "X-Razorpay-Event-Id": event_id or f"evt_fake{next(_events):010d}",
        }
        return body, headers


def _hmac(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def _basic_auth(header: str) -> tuple[str, str] | None:
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, _, password = base64.b64decode(value).decode().partition(":")
    except ValueError:
        return None
    return user, password


def _error(status: int, code: str, description: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "description": description}}, status_code=status)


@pytest.fixture(scope="session")
def fake_razorpay() -> Iterator[FakeRazorpay]:
    fake = FakeRazorpay()
    port = free_port()
    server, thread = serve_in_thread(fake.app(), port)
    fake.url = f"http://127.0.0.1:{port}"
    yield fake
    server.should_exit = True
    thread.join(timeout=15)


def live_settings(settings, fake: FakeRazorpay, **changes):
    return settings.model_copy(
        update={
            "razorpay_mode": "live",
            "razorpay_key_id": fake.key_id,
            "razorpay_key_secret": fake.key_secret,
            "razorpay_webhook_secret": fake.webhook_secret,
            "razorpay_base_url": fake.url,
            "razorpay_timeout_seconds": 5.0,
            "razorpay_max_retries": 2,
            **changes,
        }
    )


@pytest.fixture(scope="session")
async def razorpay_app(settings, fake_razorpay):
    from app.main import create_app

    app = create_app(live_settings(settings, fake_razorpay))
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def razorpay_client(razorpay_app, fake_razorpay) -> AsyncIterator[httpx.AsyncClient]:
    fake_razorpay.reset()
    original = razorpay_app.state.runtime.clock
    transport = httpx.ASGITransport(app=razorpay_app, client=(fresh_ip(), 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://test", timeout=60) as client:
        yield client
    razorpay_app.state.runtime.clock = original
