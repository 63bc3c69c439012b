"""A stand-in for Razorpay (the one outside service the tests cannot reach): a real HTTP server on a
loopback port that speaks the shapes of the Razorpay APIs we use, for several accounts, can be
told to fail or stall the next calls, records every call, and pays and signs like Razorpay
(Checkout's and Payment Links' callback signatures, signed webhook events).

Accounts. The fake's own account (KEY_ID / KEY_SECRET / WEBHOOK_SECRET, the SaaS's, for upgrades)
and any number of tenant accounts: `fake_razorpay.account()` -> a `RazorpayAccount(key_id,
key_secret, webhook_secret, account_id)` the fake now accepts (basic auth key_id:key_secret). Each
account sees only its own orders, links, payments and refunds (another account's id is 400 "does
not exist", as Razorpay answers).

APIs (basic auth; a wrong key pair is 401 BAD_REQUEST_ERROR "Authentication failed"):
- Orders: POST /v1/orders (amount >= 100 paise, INR), GET /v1/orders?count=N (the harmless key
  check the gateway settings make), GET /v1/orders/{id}.
- Payment Links: POST /v1/payment_links (amount >= 100, INR, reference_id unique per account,
  expire_by at least 15 minutes ahead, as Razorpay asks), GET /v1/payment_links/{id},
  POST /v1/payment_links/{id}/cancel (400 unless `created`).
- Refunds: POST /v1/payments/{id}/refund (the payment must be captured on this account; amount
  defaults to what is left; more than what is left is 400), GET /v1/refunds/{id}. A refund starts
  `pending`; `settle_refund(refund_id, "processed" | "failed")` moves it (then send its event).
- GET /v1/payments/{id}.

Paying (what the buyer's side would do): `pay(order_id)` -> Checkout's signed result for an order
(of any account: signed with that account's key secret; the payment is recorded captured);
`pay_link(link_id, amount=None)` -> the query a paid link's callback carries (link `paid`, payment
recorded captured). Failures: `fail_next(count, status=500)` answers the next authenticated calls
with a 5xx/4xx in Razorpay's error shape; `stall_next(count, seconds)` sleeps that long before
answering them (a read timeout for a client with a shorter timeout; the call still takes effect,
as at Razorpay).

Webhook events (raw body, headers), signed with the account's webhook secret, event id in
X-Razorpay-Event-Id: `event(kind, order_id, payment_id, ...)` for the SaaS account (upgrades);
for a tenant account `payment_event(account, kind, order_id, payment_id, amount=...)`
(payment.captured | payment.failed | order.paid), `link_paid_event(account, link_id)`
(payment_link.paid, after pay_link), `refund_event(account, kind, refund_id)` (refund.created |
refund.processed | refund.failed). Every builder takes `event_id=` (to replay one event) and the
tenant builders `sign_with=` (another secret: the wrong tenant's).

Fixtures: `fake_razorpay` (the server), `razorpay_app` (the app in RAZORPAY_MODE=live pointed at
it, a settings copy: the shared `settings` stay in sandbox mode) and `razorpay_client`.
`await configure_gateway(client, owner, account)` saves `account` as the tenant's own Razorpay
(PUT /payment-gateways/razorpay through the API; the app must point at the fake: razorpay_app) and
answers the saved gateway (its `webhook_url`, `webhook_id`); `webhook_path(gateway)` is the path
to post its events to.
"""

import asyncio
import base64
import hashlib
import hmac
import itertools
import json
import secrets
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

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
_accounts = itertools.count(2)


@dataclass
class Call:
    path: str
    auth: tuple[str, str] | None
    body: dict
    method: str = "POST"


@dataclass
class RazorpayAccount:
    key_id: str
    key_secret: str
    webhook_secret: str
    account_id: str

    def __repr__(self) -> str:  # a failing assertion must not print the secrets into the test log
        return f"RazorpayAccount({self.key_id!r})"


@dataclass
class FakeRazorpay:
    key_id: str = KEY_ID
    key_secret: str = KEY_SECRET
    webhook_secret: str = WEBHOOK_SECRET
    url: str = ""
    calls: list[Call] = field(default_factory=list)
    orders: dict[str, dict] = field(default_factory=dict)
    links: dict[str, dict] = field(default_factory=dict)
    payments: dict[str, dict] = field(default_factory=dict)
    refunds: dict[str, dict] = field(default_factory=dict)
    accounts: dict[str, RazorpayAccount] = field(default_factory=dict)
    owners: dict[str, str] = field(default_factory=dict)  # entity id -> key id of its account
    _failures: list[int] = field(default_factory=list)
    _stalls: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.accounts[self.key_id] = RazorpayAccount(self.key_id, self.key_secret, self.webhook_secret, "acc_fake0001")

    def account(self) -> RazorpayAccount:
        """A new tenant account with keys of its own, accepted from now on."""
        n = next(_accounts)
        account = RazorpayAccount(
            key_id=f"rzp_test_{secrets.token_hex(7)}",
            key_secret=secrets.token_urlsafe(18),
            webhook_secret=secrets.token_urlsafe(16),
            account_id=f"acc_fake{n:04d}",
        )
        self.accounts[account.key_id] = account
        return account

    def fail_next(self, count: int, status: int = 500) -> None:
        """The next `count` calls answer `status` (Razorpay's error shape)."""
        self._failures = [status] * count

    def stall_next(self, count: int, seconds: float) -> None:
        """The next `count` calls wait `seconds` before doing their work and answering."""
        self._stalls = [seconds] * count

    def reset(self) -> None:
        self.calls.clear()
        self._failures.clear()
        self._stalls.clear()

    def calls_of(self, account: RazorpayAccount) -> list[Call]:
        return [call for call in self.calls if call.auth and call.auth[0] == account.key_id]

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/v1/orders", self._create_order, methods=["POST"]),
                Route("/v1/orders", self._list_orders, methods=["GET"]),
                Route("/v1/orders/{id}", self._get("order", self.orders), methods=["GET"]),
                Route("/v1/payment_links", self._create_link, methods=["POST"]),
                Route("/v1/payment_links/{id}", self._get("payment link", self.links), methods=["GET"]),
                Route("/v1/payment_links/{id}/cancel", self._cancel_link, methods=["POST"]),
                Route("/v1/payments/{id}", self._get("payment", self.payments), methods=["GET"]),
                Route("/v1/payments/{id}/refund", self._create_refund, methods=["POST"]),
                Route("/v1/refunds/{id}", self._get("refund", self.refunds), methods=["GET"]),
            ]
        )

    # --- the server's side ----------------------------------------------------------------------

    async def _enter(self, request: Request) -> tuple[RazorpayAccount | None, dict, JSONResponse | None]:
        """Record the call, authenticate it, apply a planned failure or stall."""
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError:
            body = {}
        body = body if isinstance(body, dict) else {}
        auth = _basic_auth(request.headers.get("authorization", ""))
        self.calls.append(Call(request.url.path, auth, body, request.method))
        account = self.accounts.get(auth[0]) if auth else None
        if account is None or auth != (account.key_id, account.key_secret):
            return None, body, _error(401, "BAD_REQUEST_ERROR", "Authentication failed")
        if self._failures:
            return account, body, _error(self._failures.pop(0), "SERVER_ERROR", "The server encountered an error")
        if self._stalls:
            await asyncio.sleep(self._stalls.pop(0))
        return account, body, None

    def _mine(self, account: RazorpayAccount, entity_id: str, store: dict[str, dict]) -> dict | None:
        return store.get(entity_id) if self.owners.get(entity_id) == account.key_id else None

    def _keep(self, account: RazorpayAccount, store: dict[str, dict], entity: dict) -> JSONResponse:
        store[entity["id"]] = entity
        self.owners[entity["id"]] = account.key_id
        return JSONResponse(entity)

    def _get(self, what: str, store: dict[str, dict]):
        async def get(request: Request) -> JSONResponse:
            account, _, refusal = await self._enter(request)
            if refusal is not None or account is None:
                return refusal or _error(401, "BAD_REQUEST_ERROR", "Authentication failed")
            entity = self._mine(account, request.path_params["id"], store)
            if entity is None:
                return _error(400, "BAD_REQUEST_ERROR", f"The id provided does not exist ({what})")
            return JSONResponse(entity)

        return get

    async def _create_order(self, request: Request) -> JSONResponse:
        account, body, refusal = await self._enter(request)
        if refusal is not None or account is None:
            return refusal or _error(401, "BAD_REQUEST_ERROR", "Authentication failed")
        amount, currency = body.get("amount"), body.get("currency")
        if not _paise(amount) or currency != "INR":
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
        return self._keep(account, self.orders, order)

    async def _list_orders(self, request: Request) -> JSONResponse:
        account, _, refusal = await self._enter(request)
        if refusal is not None or account is None:
            return refusal or _error(401, "BAD_REQUEST_ERROR", "Authentication failed")
        try:
            count = max(1, min(100, int(request.query_params.get("count", "10"))))
        except ValueError:
            return _error(400, "BAD_REQUEST_ERROR", "The count must be an integer.")
        items = [o for o in self.orders.values() if self.owners.get(o["id"]) == account.key_id][-count:]
        return JSONResponse({"entity": "collection", "count": len(items), "items": items})

    async def _create_link(self, request: Request) -> JSONResponse:
        account, body, refusal = await self._enter(request)
        if refusal is not None or account is None:
            return refusal or _error(401, "BAD_REQUEST_ERROR", "Authentication failed")
        amount, reference_id, expire_by = body.get("amount"), body.get("reference_id"), body.get("expire_by")
        if not _paise(amount) or body.get("currency", "INR") != "INR":
            return _error(400, "BAD_REQUEST_ERROR", "The amount must be at least INR 1.00")
        if reference_id is not None and (not isinstance(reference_id, str) or len(reference_id) > 40):
            return _error(400, "BAD_REQUEST_ERROR", "The reference id may not be greater than 40 characters.")
        if reference_id and any(
            link.get("reference_id") == reference_id
            for link in self.links.values()
            if self.owners.get(link["id"]) == account.key_id
        ):
            return _error(400, "BAD_REQUEST_ERROR", f"Payment Link with reference {reference_id} already exists")
        if expire_by is not None and (not isinstance(expire_by, int) or expire_by < time.time() + 15 * 60):
            return _error(400, "BAD_REQUEST_ERROR", "expire_by should be at least 15 minutes after current time")
        link_id = "plink_" + secrets.token_hex(7)
        link = {
            "id": link_id,
            "entity": "payment_link",
            "amount": amount,
            "amount_paid": 0,
            "currency": "INR",
            "accept_partial": bool(body.get("accept_partial")),
            "first_min_partial_amount": 0,
            "description": body.get("description") or "",
            "reference_id": reference_id or "",
            "customer": body.get("customer") or {},
            "notify": body.get("notify") or {"sms": False, "email": False},
            "reminder_enable": bool(body.get("reminder_enable")),
            "notes": body.get("notes") or [],
            "callback_url": body.get("callback_url") or "",
            "callback_method": body.get("callback_method") or "",
            "expire_by": expire_by or 0,
            "expired_at": 0,
            "cancelled_at": 0,
            "order_id": "",
            "payments": None,
            "short_url": f"https://rzp.io/i/{secrets.token_urlsafe(6)}",
            "status": "created",
            "upi_link": False,
            "user_id": "",
            "created_at": int(time.time()),
            "updated_at": int(time.time()),
        }
        return self._keep(account, self.links, link)

    async def _cancel_link(self, request: Request) -> JSONResponse:
        account, _, refusal = await self._enter(request)
        if refusal is not None or account is None:
            return refusal or _error(401, "BAD_REQUEST_ERROR", "Authentication failed")
        link = self._mine(account, request.path_params["id"], self.links)
        if link is None:
            return _error(400, "BAD_REQUEST_ERROR", "The id provided does not exist")
        if link["status"] != "created":
            return _error(400, "BAD_REQUEST_ERROR", f"Payment link cannot be cancelled in {link['status']} state")
        link |= {"status": "cancelled", "cancelled_at": int(time.time()), "updated_at": int(time.time())}
        return JSONResponse(link)

    async def _create_refund(self, request: Request) -> JSONResponse:
        account, body, refusal = await self._enter(request)
        if refusal is not None or account is None:
            return refusal or _error(401, "BAD_REQUEST_ERROR", "Authentication failed")
        payment = self._mine(account, request.path_params["id"], self.payments)
        if payment is None:
            return _error(400, "BAD_REQUEST_ERROR", "The id provided does not exist")
        if payment["status"] not in ("captured", "refunded"):
            return _error(400, "BAD_REQUEST_ERROR", "The payment has not been captured")
        left = payment["amount"] - payment["amount_refunded"]
        amount = body.get("amount", left)
        if not _paise(amount) or amount > left:
            return _error(
                400, "BAD_REQUEST_ERROR", "The refund amount provided is greater than amount captured or amount left"
            )
        payment["amount_refunded"] += amount
        payment["refund_status"] = "full" if payment["amount_refunded"] == payment["amount"] else "partial"
        if payment["refund_status"] == "full":
            payment["status"] = "refunded"
        refund = {
            "id": "rfnd_" + secrets.token_hex(7),
            "entity": "refund",
            "amount": amount,
            "currency": "INR",
            "payment_id": payment["id"],
            "notes": body.get("notes") or [],
            "receipt": body.get("receipt"),
            "acquirer_data": {"arn": None},
            "created_at": int(time.time()),
            "batch_id": None,
            "status": "pending",
            "speed_processed": "normal",
            "speed_requested": body.get("speed") or "normal",
        }
        return self._keep(account, self.refunds, refund)

    # --- the buyer's side -----------------------------------------------------------------------

    def _owner(self, entity_id: str) -> RazorpayAccount:
        return self.accounts[self.owners.get(entity_id, self.key_id)]

    def _payment(self, account: RazorpayAccount, order_id: str, amount: int) -> dict:
        payment = {
            "id": "pay_" + secrets.token_hex(7),
            "entity": "payment",
            "amount": amount,
            "currency": "INR",
            "status": "captured",
            "order_id": order_id,
            "method": "upi",
            "captured": True,
            "amount_refunded": 0,
            "refund_status": None,
            "error_code": None,
            "error_description": None,
            "created_at": int(time.time()),
        }
        self.payments[payment["id"]] = payment
        self.owners[payment["id"]] = account.key_id
        return payment

    def pay(self, order_id: str) -> dict[str, str]:
        """What Checkout returns once the buyer has paid the order (of whichever account made it)."""
        account = self._owner(order_id)
        order = self.orders.get(order_id)
        if order is not None:
            payment_id = self._payment(account, order_id, order["amount"])["id"]
            order |= {"status": "paid", "amount_paid": order["amount"], "amount_due": 0}
        else:  # an order this fake did not make (a sandbox one): sign all the same
            payment_id = "pay_" + secrets.token_hex(7)
        signature = _hmac(account.key_secret, f"{order_id}|{payment_id}".encode())
        return {"razorpay_order_id": order_id, "razorpay_payment_id": payment_id, "razorpay_signature": signature}

    def pay_link(self, link_id: str, *, amount: int | None = None) -> dict[str, str]:
        """The buyer pays the link (`amount`: its amount unless said); answers the query its
        callback carries, signed with the account's key secret."""
        link = self.links[link_id]
        account = self._owner(link_id)
        order_id = link["order_id"] or "order_" + secrets.token_hex(7)
        payment = self._payment(account, order_id, link["amount"] if amount is None else amount)
        payment["notes"] = link["notes"]
        link |= {
            "status": "paid",
            "amount_paid": payment["amount"],
            "order_id": order_id,
            "updated_at": int(time.time()),
        }
        link["payments"] = [{"payment_id": payment["id"], "amount": payment["amount"], "status": "captured"}]
        status = "paid"
        message = f"{link_id}|{link['reference_id']}|{status}|{payment['id']}".encode()
        return {
            "razorpay_payment_id": payment["id"],
            "razorpay_payment_link_id": link_id,
            "razorpay_payment_link_reference_id": link["reference_id"],
            "razorpay_payment_link_status": status,
            "razorpay_signature": _hmac(account.key_secret, message),
        }

    def settle_refund(self, refund_id: str, status: str) -> dict:
        """Razorpay finishes a refund: processed, or failed (the money back on the payment)."""
        refund = self.refunds[refund_id]
        refund["status"] = status
        if status == "failed":
            payment = self.payments[refund["payment_id"]]
            payment["amount_refunded"] -= refund["amount"]
            payment["status"] = "captured"
        return refund

    # --- webhook events ---------------------------------------------------------------------------

    def event(
        self, kind: str, order_id: str, payment_id: str, *, amount: int = 99_900, event_id: str | None = None
    ) -> tuple[bytes, dict[str, str]]:
        """A webhook delivery (raw body, headers) of `kind` for the fake's own account (upgrades)."""
        return self.payment_event(
            self.accounts[self.key_id], kind, order_id, payment_id, amount=amount, event_id=event_id
        )

    def payment_event(
        self,
        account: RazorpayAccount,
        kind: str,
        order_id: str | None,
        payment_id: str,
        *,
        amount: int = 99_900,
        notes: dict | None = None,
        event_id: str | None = None,
        sign_with: str | None = None,
    ) -> tuple[bytes, dict[str, str]]:
        """payment.captured | payment.failed | order.paid for a payment of `order_id`."""
        payment = _payment_entity(payment_id, order_id, amount, "failed" if kind == "payment.failed" else "captured")
        if notes is not None:
            payment["notes"] = notes
        payload: dict = {"payment": {"entity": payment}}
        if kind == "order.paid":
            payload["order"] = {"entity": {"id": order_id, "entity": "order", "amount": amount, "status": "paid"}}
        return _signed(account, kind, payload, event_id, sign_with)

    def link_paid_event(
        self,
        account: RazorpayAccount,
        link_id: str,
        *,
        payment_id: str | None = None,
        amount: int | None = None,
        event_id: str | None = None,
        sign_with: str | None = None,
    ) -> tuple[bytes, dict[str, str]]:
        """payment_link.paid for a link the fake made and `pay_link` paid (or say payment_id/amount)."""
        link = dict(self.links.get(link_id) or {"id": link_id, "entity": "payment_link", "reference_id": ""})
        paid = (link.get("payments") or [{}])[0]
        payment_id = payment_id or paid.get("payment_id") or "pay_" + secrets.token_hex(7)
        amount = amount if amount is not None else paid.get("amount") or link.get("amount") or 99_900
        order_id = link.get("order_id") or "order_" + secrets.token_hex(7)
        link |= {"status": "paid", "amount_paid": amount, "order_id": order_id}
        payload = {
            "payment_link": {"entity": link},
            "order": {"entity": {"id": order_id, "entity": "order", "amount": amount, "status": "paid"}},
            "payment": {"entity": _payment_entity(payment_id, order_id, amount, "captured")},
        }
        return _signed(account, "payment_link.paid", payload, event_id, sign_with)

    def refund_event(
        self,
        account: RazorpayAccount,
        kind: str,
        refund_id: str,
        *,
        payment_id: str | None = None,
        amount: int | None = None,
        event_id: str | None = None,
        sign_with: str | None = None,
    ) -> tuple[bytes, dict[str, str]]:
        """refund.created | refund.processed | refund.failed of a refund the fake made (or say
        payment_id/amount for one it did not)."""
        status = {"refund.processed": "processed", "refund.failed": "failed"}.get(kind, "pending")
        refund = dict(self.refunds.get(refund_id) or {"id": refund_id, "entity": "refund", "currency": "INR"})
        refund["payment_id"] = payment_id or refund.get("payment_id")
        refund["amount"] = amount if amount is not None else refund.get("amount")
        refund["status"] = status
        payment = dict(self.payments.get(refund["payment_id"]) or {}) or _payment_entity(
            refund["payment_id"], None, refund["amount"], "refunded"
        )
        payload = {"refund": {"entity": refund}, "payment": {"entity": payment}}
        return _signed(account, kind, payload, event_id, sign_with)


def _payment_entity(payment_id: str, order_id: str | None, amount: int, status: str) -> dict[str, Any]:
    return {
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


def _signed(
    account: RazorpayAccount, kind: str, payload: dict, event_id: str | None, sign_with: str | None
) -> tuple[bytes, dict[str, str]]:
    event = {
        "entity": "event",
        "account_id": account.account_id,
        "event": kind,
        "contains": list(payload),
        "payload": payload,
        "created_at": int(time.time()),
    }
    body = json.dumps(event).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Razorpay-Signature": _hmac(sign_with or account.webhook_secret, body),
        "X-Razorpay-Event-Id": event_id or f"evt_fake{next(_events):010d}",
    }
    return body, headers


def _paise(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 100


def _hmac(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature(secret: str, body: bytes) -> str:
    """X-Razorpay-Signature of `body` under `secret` (for bodies a test builds itself)."""
    return _hmac(secret, body)


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


GATEWAY = "/api/v1/payment-gateways/razorpay"


async def configure_gateway(client: httpx.AsyncClient, owner, account: RazorpayAccount) -> dict:
    """Save `account` as the owner's tenant's own Razorpay (through the API); the saved gateway."""
    body = {"key_id": account.key_id, "key_secret": account.key_secret, "webhook_secret": account.webhook_secret}
    response = await client.put(GATEWAY, json=body, headers=owner.headers)
    assert response.status_code in (200, 201), response.text
    return response.json()


def webhook_path(gateway: dict) -> str:
    """The path (under the test client's base URL) to post the tenant's webhook events to."""
    return f"/api/v1/webhooks/razorpay/{gateway['webhook_id']}"
