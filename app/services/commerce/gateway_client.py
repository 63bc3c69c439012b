"""A tenant's own Razorpay account: the client the orders, payment links and refunds go through.

`LiveTenantGateway` speaks Razorpay's REST API (Orders, Payment Links, Refunds) at RAZORPAY_BASE_URL
with the tenant's key id and key secret (basic auth), a bounded timeout per attempt and a bounded
number of retries (RAZORPAY_TIMEOUT_SECONDS, RAZORPAY_MAX_RETRIES, as the SaaS's own client in
app.services.platform.razorpay). `SandboxTenantGateway` makes everything in-process and signs
with the fixed, public sandbox secrets, so `make run` walks every flow with no keys.
`app.services.commerce.payment_gateways.client_for(session, ctx)` gives the one in force.

Retries. A call is retried only when it cannot have had an effect, or when repeating it is
harmless:
- creations (an order, a payment link): when no connection was made, or on a 5xx (a spare
  gateway order is harmless; a payment link whose first attempt was made but answered 5xx makes
  the retry's reference_id "already exist": that link, found by its reference, amount and notes,
  is adopted instead of refused); never on a 4xx
  (it would answer the same) nor on a read timeout (it may exist: the caller's request fails 503
  and nothing of it is written, the client retries under its Idempotency-Key);
- a refund moves money: it carries Razorpay's idempotency header (X-Refund-Idempotency = its
  `receipt`, which the caller keeps the same for every retry of one refund request), so Razorpay
  makes it once however often it is sent: then it is retried on a 5xx, a 409 (the same key still
  being processed) and a read timeout too, and a caller retrying after a 503 gets the same refund,
  not a second one. A receipt that cannot be such a key (under 10 characters, or other than
  letters, digits, `-` and `_`) sends none and is retried only when no connection was made;
- a 429 (Razorpay's rate limit: refused before anything is made): retried by every call, and
  once the retries are spent it is 503 (retry later), not a refusal;
- reads (the key check) and a link's cancellation (cancelling twice changes nothing): also on
  a read timeout.
Failures raise PaymentGatewayUnavailable (503, retry later) or PaymentGatewayError (502: Razorpay
answered, but refused or answered something unusable). Every call's client uses the process's one
TLS context (`tls_context()`), never the keys of another: they are the call's own basic auth. The
key secret and webhook secret are private to the client: never in a message, a log line or an
exception.
"""

import asyncio
import functools
import hashlib
import hmac
import logging
import re
import secrets
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import httpx

from app.core.errors import PaymentGatewayError, PaymentGatewayUnavailable
from app.services.platform.razorpay import SANDBOX_KEY_ID, SANDBOX_KEY_SECRET, SANDBOX_WEBHOOK_SECRET

log = logging.getLogger(__name__)

CURRENCY = "INR"
# The note every order and payment link made for an OnlinePayment carries (its id): the webhook's
# last way to find the payment of an event that names neither the link nor the order.
PAYMENT_NOTE = "online_payment_id"
RETRY_STATUSES = frozenset({500, 502, 503, 504})
TOO_MANY_REQUESTS = 429  # unavailable for now (503 to our caller), retried: nothing was made
NOT_CONNECTED = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
BACKOFF_SECONDS = 0.2
REFUND_STATUSES = frozenset({"pending", "processed", "failed"})
ID_CHARS = re.compile(r"[A-Za-z0-9_]{1,64}")
# Razorpay's refund idempotency key: "at least 10 characters, alphabets, numbers, hyphens and underscores".
REFUND_IDEMPOTENCY_HEADER = "X-Refund-Idempotency"
REFUND_IDEMPOTENCY_KEY = re.compile(r"[A-Za-z0-9_-]{10,64}")


@dataclass(frozen=True)
class GatewayOrder:
    id: str
    amount_paise: int
    currency: str
    receipt: str


@dataclass(frozen=True)
class GatewayLink:
    id: str
    short_url: str
    amount_paise: int
    reference_id: str
    status: str
    expires_at: datetime | None


@dataclass(frozen=True)
class GatewayRefund:
    id: str
    payment_id: str
    amount_paise: int
    status: str  # pending | processed | failed


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The process's one TLS context for Razorpay calls: httpx's own default (certifi's CA bundle,
    or SSL_CERT_FILE / SSL_CERT_DIR), built once. Building it (reading the CA bundle) cost every
    call tens of milliseconds when each call's client made its own. It holds no credential (a
    call's basic auth is its own client's), so every tenant's calls share it."""
    return httpx.create_ssl_context()


def sign(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def _matches(expected: str, given: str | None) -> bool:
    return given is not None and hmac.compare_digest(expected.encode(), given.encode())


def checkout_message(order_id: str, payment_id: str) -> bytes:
    """What Checkout signs with the key secret (`razorpay_signature`)."""
    return f"{order_id}|{payment_id}".encode()


def link_message(link_id: str, reference_id: str, status: str, payment_id: str) -> bytes:
    """What a Payment Link's callback signs with the key secret (`razorpay_signature`)."""
    return f"{link_id}|{reference_id}|{status}|{payment_id}".encode()


class TenantGateway(Protocol):
    sandbox: bool
    key_id: str

    async def create_order(self, *, amount_paise: int, receipt: str, notes: dict[str, str]) -> GatewayOrder: ...

    async def create_payment_link(
        self,
        *,
        amount_paise: int,
        reference_id: str,
        description: str,
        customer: dict[str, str],
        expire_by: datetime,
        notes: dict[str, str],
        callback_url: str | None,
    ) -> GatewayLink: ...

    async def cancel_payment_link(self, link_id: str) -> None: ...

    async def refund(
        self, *, payment_id: str, amount_paise: int, receipt: str, notes: dict[str, str]
    ) -> GatewayRefund: ...

    def checkout_signature_ok(self, order_id: str, payment_id: str, signature: str) -> bool: ...

    def link_signature_ok(
        self, link_id: str, reference_id: str, status: str, payment_id: str, signature: str
    ) -> bool: ...

    def webhook_signature_ok(self, body: bytes, signature: str | None) -> bool: ...


class _Signatures:
    """Signature checks with the account's secrets (constant-time comparisons)."""

    _key_secret: str
    _webhook_secret: str

    def checkout_signature_ok(self, order_id: str, payment_id: str, signature: str) -> bool:
        return _matches(sign(self._key_secret, checkout_message(order_id, payment_id)), signature)

    def link_signature_ok(self, link_id: str, reference_id: str, status: str, payment_id: str, signature: str) -> bool:
        expected = sign(self._key_secret, link_message(link_id, reference_id, status, payment_id))
        return _matches(expected, signature)

    def webhook_signature_ok(self, body: bytes, signature: str | None) -> bool:
        return _matches(sign(self._webhook_secret, body), signature)


class LiveTenantGateway(_Signatures):
    sandbox = False

    def __init__(
        self,
        *,
        key_id: str,
        key_secret: str,
        webhook_secret: str,
        base_url: str,
        timeout: float,
        max_retries: int,
    ) -> None:
        self.key_id = key_id
        self._key_secret = key_secret
        self._webhook_secret = webhook_secret
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.max_retries = max_retries

    def __repr__(self) -> str:  # never the secrets
        return f"LiveTenantGateway(key_id={self.key_id!r}, base_url={self.base_url!r})"

    # --- calls ------------------------------------------------------------------------------

    async def check_keys(self) -> bool:
        """One harmless call (list at most one order): True if Razorpay accepts the keys, False if
        it answers 401; anything else is the gateway's failure (502/503), not the keys'."""
        response = await self._call("GET", "/v1/orders", params={"count": 1}, retry_5xx=True, retry_read_timeout=True)
        if response.status_code in (401, 403):
            return False
        if response.status_code != 200:
            raise _refused("the key check", response)
        return True

    async def create_order(self, *, amount_paise: int, receipt: str, notes: dict[str, str]) -> GatewayOrder:
        body = {"amount": amount_paise, "currency": CURRENCY, "receipt": receipt, "notes": notes}
        response = await self._call("POST", "/v1/orders", json=body, retry_5xx=True)
        data = _entity(response, "the order")
        try:
            order = GatewayOrder(
                str(data["id"]), _int(data["amount"]), str(data["currency"]), str(data.get("receipt") or "")
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise PaymentGatewayError("Razorpay answered with something that is not an order.") from exc
        if not _id(order.id, "order_") or (order.amount_paise, order.currency) != (amount_paise, CURRENCY):
            raise PaymentGatewayError("Razorpay answered with an order that does not match the request.")
        return order

    async def create_payment_link(
        self,
        *,
        amount_paise: int,
        reference_id: str,
        description: str,
        customer: dict[str, str],
        expire_by: datetime,
        notes: dict[str, str],
        callback_url: str | None,
    ) -> GatewayLink:
        body: dict[str, Any] = {
            "amount": amount_paise,
            "currency": CURRENCY,
            "accept_partial": False,
            "reference_id": reference_id,
            "description": description,
            "customer": customer,
            "expire_by": int(expire_by.timestamp()),
            "notify": {"sms": False, "email": False},  # the tenant shares the link itself
            "reminder_enable": False,
            "notes": notes,
        }
        if callback_url:
            body |= {"callback_url": callback_url, "callback_method": "get"}
        response = await self._call("POST", "/v1/payment_links", json=body, retry_5xx=True)
        if response.status_code == 400 and "already exists" in _error_description(response):
            # The reference is taken: by this very link when an earlier attempt was made but answered
            # a 5xx (a proxy's 502/504 after Razorpay did the work). That one is adopted, not refused.
            made = await self._link_made_before(reference_id, amount_paise, notes)
            if made is not None:
                return made
        link = _link(_entity(response, "the payment link"))
        if (link.amount_paise, link.reference_id) != (amount_paise, reference_id):
            raise PaymentGatewayError("Razorpay answered with a payment link that does not match the request.")
        return link

    async def _link_made_before(
        self, reference_id: str, amount_paise: int, notes: dict[str, str]
    ) -> GatewayLink | None:
        """The still open link with this reference, amount and notes (ours: the notes carry our
        payment's id), or None."""
        found = await self._call(
            "GET", "/v1/payment_links", params={"reference_id": reference_id}, retry_5xx=True, retry_read_timeout=True
        )
        listed = _entity(found, "the payment links").get("payment_links")
        for data in listed if isinstance(listed, list) else []:
            if not isinstance(data, dict) or (data.get("notes") or {}) != notes:
                continue
            link = _link(data)
            if (link.reference_id, link.amount_paise, link.status) == (reference_id, amount_paise, "created"):
                log.info("razorpay payment link %s made by an attempt answered 5xx: adopted", link.id)
                return link
        return None

    async def cancel_payment_link(self, link_id: str) -> None:
        """Cancelled on Razorpay; a link already cancelled, expired or paid there is left as it is
        (Razorpay answers 400, the link is read to tell so: the caller's own state, and the
        webhooks, say what it became). Any other refusal: 502."""
        if not _id(link_id, "plink_"):
            raise PaymentGatewayError("Not a payment link id.")
        response = await self._call(
            "POST", f"/v1/payment_links/{link_id}/cancel", json={}, retry_5xx=True, retry_read_timeout=True
        )
        if response.status_code == 400:  # not cancellable: fine if it already ended there
            found = await self._call("GET", f"/v1/payment_links/{link_id}", retry_5xx=True, retry_read_timeout=True)
            status = _entity(found, "the payment link").get("status")
            if status not in ("cancelled", "expired", "paid"):
                raise _refused("the link's cancellation", response)
            log.info("razorpay payment link %s not cancelled: it is %s", link_id, status)
            return
        _entity(response, "the link's cancellation")

    async def refund(self, *, payment_id: str, amount_paise: int, receipt: str, notes: dict[str, str]) -> GatewayRefund:
        if not _id(payment_id, "pay_"):
            raise PaymentGatewayError("Not a payment id.")
        body = {"amount": amount_paise, "speed": "normal", "receipt": receipt, "notes": notes}
        path = f"/v1/payments/{payment_id}/refund"
        if REFUND_IDEMPOTENCY_KEY.fullmatch(receipt):  # made once by Razorpay however often it is sent
            headers = {REFUND_IDEMPOTENCY_HEADER: receipt}
            response = await self._call(
                "POST", path, json=body, headers=headers, retry_5xx=True, retry_read_timeout=True, retry_409=True
            )
        else:
            response = await self._call("POST", path, json=body)
        refund = _refund(_entity(response, "the refund"))
        if (refund.payment_id, refund.amount_paise) != (payment_id, amount_paise):
            raise PaymentGatewayError("Razorpay answered with a refund that does not match the request.")
        return refund

    # --- transport ----------------------------------------------------------------------------

    async def _call(
        self,
        method: str,
        path: str,
        *,
        json: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        retry_5xx: bool = False,
        retry_read_timeout: bool = False,
        retry_409: bool = False,
    ) -> httpx.Response:
        async with httpx.AsyncClient(
            base_url=self.base_url, auth=(self.key_id, self._key_secret), timeout=self.timeout, verify=tls_context()
        ) as client:
            for attempt in range(self.max_retries + 1):
                last = attempt == self.max_retries
                try:
                    response = await client.request(method, path, json=json, params=params, headers=headers)
                except NOT_CONNECTED as exc:
                    log.warning("razorpay %s %s: cannot connect (attempt %d): %s", method, path, attempt + 1, exc)
                    if last:
                        raise PaymentGatewayUnavailable("Razorpay cannot be reached; retry shortly.") from None
                except httpx.HTTPError as exc:  # read timeout, broken answer: it may have had its effect
                    log.warning("razorpay %s %s: no usable answer (attempt %d): %r", method, path, attempt + 1, exc)
                    if last or not retry_read_timeout:
                        raise PaymentGatewayUnavailable("Razorpay did not answer in time; retry shortly.") from None
                else:
                    status = response.status_code
                    # 429: refused before doing anything (rate limit), so any call may be sent again;
                    # 409 with an idempotency key: the same key still in progress at Razorpay.
                    unmade = status == TOO_MANY_REQUESTS or (retry_409 and status == 409)
                    if status not in RETRY_STATUSES and not unmade:
                        return response
                    log.warning("razorpay %s %s: %d (attempt %d)", method, path, status, attempt + 1)
                    if last or not (retry_5xx or unmade):
                        raise PaymentGatewayUnavailable(f"Razorpay answered {response.status_code}; retry shortly.")
                await asyncio.sleep(BACKOFF_SECONDS * 2**attempt)
        raise AssertionError("unreachable")


def _refused(what: str, response: httpx.Response) -> PaymentGatewayError:
    log.error("razorpay refused %s: %d %s", what, response.status_code, _error_description(response))
    if response.status_code in (401, 403):
        return PaymentGatewayError("Razorpay refused the account's keys; the owner should save them again.")
    return PaymentGatewayError(f"Razorpay refused {what} ({response.status_code}): {_error_description(response)}")


def _error_description(response: httpx.Response) -> str:
    """Razorpay's own words for a refusal (its `error.description`), bounded."""
    try:
        error = response.json().get("error") or {}
        description = error.get("description")
    except (ValueError, AttributeError):
        description = None
    return str(description)[:200] if description else "no description"


def _entity(response: httpx.Response, what: str) -> dict[str, Any]:
    if response.status_code != 200:
        raise _refused(what, response)
    try:
        data = response.json()
    except ValueError as exc:
        raise PaymentGatewayError(f"Razorpay answered {what} with something that is not JSON.") from exc
    if not isinstance(data, dict):
        raise PaymentGatewayError(f"Razorpay answered {what} with something unexpected.")
    return data


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("not an integer")
    return value


def _id(value: Any, prefix: str) -> bool:
    return isinstance(value, str) and value.startswith(prefix) and ID_CHARS.fullmatch(value) is not None


def _link(data: dict[str, Any]) -> GatewayLink:
    try:
        expire_by = data.get("expire_by")
        link = GatewayLink(
            id=str(data["id"]),
            short_url=str(data["short_url"]),
            amount_paise=_int(data["amount"]),
            reference_id=str(data.get("reference_id") or ""),
            status=str(data["status"]),
            expires_at=datetime.fromtimestamp(_int(expire_by), UTC) if expire_by else None,
        )
    except (KeyError, TypeError, ValueError, OverflowError, OSError) as exc:
        raise PaymentGatewayError("Razorpay answered with something that is not a payment link.") from exc
    if not _id(link.id, "plink_") or not link.short_url.startswith("https://") or len(link.short_url) > 500:
        raise PaymentGatewayError("Razorpay answered with something that is not a payment link.")
    return link


def _refund(data: dict[str, Any]) -> GatewayRefund:
    try:
        refund = GatewayRefund(
            id=str(data["id"]),
            payment_id=str(data["payment_id"]),
            amount_paise=_int(data["amount"]),
            status=str(data["status"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise PaymentGatewayError("Razorpay answered with something that is not a refund.") from exc
    if not _id(refund.id, "rfnd_") or refund.status not in REFUND_STATUSES:
        raise PaymentGatewayError("Razorpay answered with something that is not a refund.")
    return refund


class SandboxTenantGateway(_Signatures):
    """Everything in-process, signed with the public sandbox secrets (refused in prod by the
    settings: anyone could sign a sandbox payment). Orders, links and refunds are not kept: the
    caller's rows are the record; `sandbox_pay_order` / `sandbox_pay_link` give what Checkout or a
    link's callback would once the buyer paid, so `make run` and the tests walk the flow."""

    sandbox = True
    key_id = SANDBOX_KEY_ID
    _key_secret = SANDBOX_KEY_SECRET
    _webhook_secret = SANDBOX_WEBHOOK_SECRET
    short_url_base = "https://rzp.io/sandbox/"

    async def create_order(self, *, amount_paise: int, receipt: str, notes: dict[str, str]) -> GatewayOrder:
        _positive(amount_paise)
        return GatewayOrder(f"order_sandbox{secrets.token_hex(7)}", amount_paise, CURRENCY, receipt)

    async def create_payment_link(
        self,
        *,
        amount_paise: int,
        reference_id: str,
        description: str,
        customer: dict[str, str],
        expire_by: datetime,
        notes: dict[str, str],
        callback_url: str | None,
    ) -> GatewayLink:
        _positive(amount_paise)
        link_id = f"plink_sandbox{secrets.token_hex(7)}"
        return GatewayLink(
            id=link_id,
            short_url=self.short_url_base + link_id.removeprefix("plink_"),
            amount_paise=amount_paise,
            reference_id=reference_id,
            status="created",
            expires_at=expire_by.replace(microsecond=0),
        )

    async def cancel_payment_link(self, link_id: str) -> None:
        return None

    async def refund(self, *, payment_id: str, amount_paise: int, receipt: str, notes: dict[str, str]) -> GatewayRefund:
        _positive(amount_paise)
        return GatewayRefund(f"rfnd_sandbox{secrets.token_hex(7)}", payment_id, amount_paise, "processed")

    def sandbox_pay_order(self, order_id: str) -> dict[str, str]:
        """What Checkout returns once the buyer has paid `order_id`."""
        payment_id = f"pay_sandbox{secrets.token_hex(7)}"
        signature = sign(self._key_secret, checkout_message(order_id, payment_id))
        return {"razorpay_order_id": order_id, "razorpay_payment_id": payment_id, "razorpay_signature": signature}

    def sandbox_pay_link(self, link: GatewayLink) -> dict[str, str]:
        """The query of a paid link's callback (what Razorpay appends to callback_url)."""
        payment_id = f"pay_sandbox{secrets.token_hex(7)}"
        status = "paid"
        signature = sign(self._key_secret, link_message(link.id, link.reference_id, status, payment_id))
        return {
            "razorpay_payment_id": payment_id,
            "razorpay_payment_link_id": link.id,
            "razorpay_payment_link_reference_id": link.reference_id,
            "razorpay_payment_link_status": status,
            "razorpay_signature": signature,
        }


def _positive(amount_paise: int) -> None:
    if amount_paise < 100:  # Razorpay's own minimum: INR 1.00
        raise PaymentGatewayError("Razorpay refuses amounts under INR 1.00.")
