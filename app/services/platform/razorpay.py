"""Razorpay: the Orders API client, the signatures, and the sandbox that stands in for both.

`gateway(settings)` gives the one in force: `LiveGateway` (RAZORPAY_MODE=live) calls the Orders
API over httpx with basic auth, a bounded timeout and a bounded number of retries; `SandboxGateway`
(RAZORPAY_MODE=sandbox, the default) makes orders in-process and signs with fixed, public sandbox
secrets, so a developer can walk the upgrade flow with no keys (and so it is refused in prod).

Retries: only when the request cannot have created an order (the connection was not made) or
Razorpay answered 5xx; never on a 4xx (it would answer the same) nor on a read timeout (the order
may exist: the client retries the whole upgrade instead, under its Idempotency-Key). The receipt
is our payment id, so an order made twice by a retry is recognisable in the Razorpay dashboard.
"""

import asyncio
import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from app.core.config import Settings
from app.core.errors import PaymentGatewayError, PaymentGatewayUnavailable

log = logging.getLogger(__name__)

SANDBOX_KEY_ID = "rzp_sandbox_local"
SANDBOX_KEY_SECRET = "rms-sandbox-key-secret"  # public on purpose: sandbox mode only, refused in prod
SANDBOX_WEBHOOK_SECRET = "rms-sandbox-webhook-secret"
RETRY_STATUSES = frozenset({500, 502, 503, 504})
RETRY_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
BACKOFF_SECONDS = 0.2


@dataclass(frozen=True)
class Order:
    id: str
    amount: int
    currency: str
    receipt: str


def sign(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def checkout_signature(secret: str, order_id: str, payment_id: str) -> str:
    """What Razorpay Checkout returns as `razorpay_signature`."""
    return sign(secret, f"{order_id}|{payment_id}".encode())


def signature_matches(expected: str, given: str | None) -> bool:
    return given is not None and hmac.compare_digest(expected.encode(), given.encode())


class Gateway(Protocol):
    sandbox: bool
    key_id: str
    key_secret: str
    webhook_secret: str

    async def create_order(self, *, amount: int, currency: str, receipt: str, notes: dict[str, str]) -> Order: ...


class LiveGateway:
    sandbox = False

    def __init__(self, settings: Settings) -> None:
        self.key_id = settings.razorpay_key_id or ""
        self.key_secret = settings.razorpay_key_secret or ""
        self.webhook_secret = settings.razorpay_webhook_secret or ""
        self.base_url = settings.razorpay_base_url.rstrip("/")
        self.timeout = settings.razorpay_timeout_seconds
        self.max_retries = settings.razorpay_max_retries

    async def create_order(self, *, amount: int, currency: str, receipt: str, notes: dict[str, str]) -> Order:
        body = {"amount": amount, "currency": currency, "receipt": receipt, "notes": notes}
        async with httpx.AsyncClient(
            base_url=self.base_url, auth=(self.key_id, self.key_secret), timeout=self.timeout
        ) as client:
            response = await self._post(client, "/v1/orders", body)
        return _order(response, amount, currency)

    async def _post(self, client: httpx.AsyncClient, path: str, body: dict[str, Any]) -> httpx.Response:
        for attempt in range(self.max_retries + 1):
            last = attempt == self.max_retries
            try:
                response = await client.post(path, json=body)
            except RETRY_ERRORS as exc:
                log.warning("razorpay %s: cannot connect (attempt %d): %s", path, attempt + 1, exc)
                if last:
                    raise PaymentGatewayUnavailable("Razorpay cannot be reached; retry shortly.") from exc
            except httpx.HTTPError as exc:  # read timeout, broken response: the order may exist
                log.warning("razorpay %s: no usable answer: %r", path, exc)
                raise PaymentGatewayUnavailable("Razorpay did not answer in time; retry shortly.") from exc
            else:
                if response.status_code not in RETRY_STATUSES:
                    return response
                log.warning("razorpay %s: %d (attempt %d)", path, response.status_code, attempt + 1)
                if last:
                    raise PaymentGatewayUnavailable(f"Razorpay answered {response.status_code}; retry shortly.")
            await asyncio.sleep(BACKOFF_SECONDS * 2**attempt)
        raise AssertionError("unreachable")


def _order(response: httpx.Response, amount: int, currency: str) -> Order:
    if response.status_code != 200:
        log.error("razorpay refused an order: %d %s", response.status_code, response.text[:500])
        raise PaymentGatewayError(f"Razorpay refused the order ({response.status_code}).")
    try:
        data = response.json()
        order = Order(str(data["id"]), int(data["amount"]), str(data["currency"]), str(data.get("receipt") or ""))
    except (ValueError, KeyError, TypeError) as exc:
        raise PaymentGatewayError("Razorpay answered with something that is not an order.") from exc
    if not order.id.startswith("order_") or len(order.id) > 64 or (order.amount, order.currency) != (amount, currency):
        raise PaymentGatewayError("Razorpay answered with an order that does not match the request.")
    return order


class SandboxGateway:
    """Orders made in-process; payments "made" by `checkout` (what Checkout would return)."""

    sandbox = True
    key_id = SANDBOX_KEY_ID
    key_secret = SANDBOX_KEY_SECRET
    webhook_secret = SANDBOX_WEBHOOK_SECRET

    async def create_order(self, *, amount: int, currency: str, receipt: str, notes: dict[str, str]) -> Order:
        return Order(f"order_sandbox_{secrets.token_hex(8)}", amount, currency, receipt)

    def checkout(self, order_id: str) -> dict[str, str]:
        payment_id = f"pay_sandbox_{secrets.token_hex(8)}"
        return {
            "razorpay_order_id": order_id,
            "razorpay_payment_id": payment_id,
            "razorpay_signature": checkout_signature(self.key_secret, order_id, payment_id),
        }


def gateway(settings: Settings) -> LiveGateway | SandboxGateway:
    return LiveGateway(settings) if settings.razorpay_mode == "live" else SandboxGateway()
