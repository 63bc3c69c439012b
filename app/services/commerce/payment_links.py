"""Pay by link (issue 12 §2): a Razorpay Payment Link on the tenant's own account for an invoice's
balance due, what the public invoice page's "Pay now" opens, and the page the customer's browser
comes back to after paying (the callback, GET /pay/<ticket>).

One open link per invoice. Link makers for an invoice queue on a transaction-scoped advisory lock
(held across the gateway call, so two clicks cannot make two links); an open link for exactly the
balance due that lives at least REUSE_MARGIN longer is answered again (`reused`), a link for
another amount (the invoice was part paid meanwhile) is replaced: the new one is made first, then
the old ones are cancelled on the gateway and here. A cancellation the gateway does not confirm is
still recorded here: should the customer pay the old link anyway, the webhook still records the
money (online_payments.on_captured accepts a capture in any state but paid) and what exceeds the
balance stays their advance.

Nothing is written before the gateway has made the link: a gateway failure (5xx, timeout) is a 503
with this request's transaction rolled back, and the Idempotency-Key free to be retried.

The link's `reference_id` is the invoice number followed by a short tag of our payment's id
(INV/26-27/00042-9c41d2): Razorpay requires it unique per account, and two companies of a tenant
(one Razorpay account) may number invoices alike, an invoice may have several links over time.

The callback URL carries a ticket: base64url(tenant id ‖ payment id ‖ MAC), the MAC an HMAC-SHA256
(128 bits) with a key derived from JWT_SECRET, so the page finds its tenant without a lookup table
and a forged ticket is refused before anything is read; Razorpay's signature over the callback's
parameters (checked with the tenant's key secret) is what proves the payment.
"""

import base64
import binascii
import dataclasses
import hashlib
import hmac
import logging
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from urllib.parse import quote, urlencode

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.context import Context
from app.core.errors import AppError, Conflict, PaymentGatewayError, PaymentGatewayUnavailable, RuleViolation
from app.core.tenancy import bind_tenant
from app.domain.phones import international_digits
from app.domain.statuses import InvoiceStatus
from app.models.base import new_id
from app.models.billing.invoice import Invoice
from app.models.commerce.online_payment import OnlinePayment
from app.repositories.billing.customers import CustomerRepository
from app.repositories.billing.receipts import ReceiptRepository
from app.repositories.commerce.online_payments import OnlinePaymentRepository
from app.services.billing import invoicing
from app.services.commerce import online_payments, payment_gateways
from app.services.commerce.gateway_client import PAYMENT_NOTE, GatewayLink, SandboxTenantGateway, TenantGateway
from app.services.documents.invoice_page import day, rupees, seller_name
from app.services.platform import audit

log = logging.getLogger(__name__)

MINIMUM = 1  # rupees: Razorpay's smallest payment
REUSE_MARGIN = timedelta(hours=1)
TICKET_MAC_BYTES = 16


@dataclass(frozen=True)
class Made:
    """A link for an invoice: made now, or an open one answered again (`reused`)."""

    payment: OnlinePayment
    invoice: Invoice
    reused: bool
    message: str
    whatsapp_url: str
    sandbox_pay_url: str | None  # sandbox only: opening it pays the link, as the callback would


async def create(session: AsyncSession, ctx: Context, invoice_id: uuid.UUID) -> OnlinePayment:
    """The open link for the invoice's balance due (made unless one is open for it already)."""
    return (await make(session, ctx, invoice_id)).payment


async def make(session: AsyncSession, ctx: Context, invoice_id: uuid.UUID, *, ttl: timedelta | None = None) -> Made:
    repo = OnlinePaymentRepository(session)
    await repo.lock_invoice_links(invoice_id)  # before reading the balance: it is read under the lock
    invoice = await invoicing.get(session, invoice_id)
    _require_payable(invoice)
    ttl = ttl if ttl is not None else timedelta(days=ctx.settings.payment_link_ttl_days)
    if not timedelta(0) < ttl <= timedelta(days=ctx.settings.payment_link_max_ttl_days):
        raise RuleViolation(
            "expires_in_days",
            f"A payment link lives 1 to {ctx.settings.payment_link_max_ttl_days} days.",
            code="payment-link-too-long",
        )
    gateway = await payment_gateways.client_for(session, ctx)
    customer = await CustomerRepository(session).get(invoice.customer_id)
    phone = customer.phone if customer is not None else invoice.recipient.get("phone")
    open_links = await repo.open_links(invoice.id, ctx.now)
    for link in open_links:
        if (
            link.amount == invoice.balance_due
            and link.is_sandbox == gateway.sandbox
            and (link.expires_at is None or link.expires_at > ctx.now + REUSE_MARGIN)
        ):
            return _made(ctx, gateway, link, invoice, phone, reused=True)
    payment = await _new_link(session, ctx, gateway, invoice, phone=phone, email=_email(customer, invoice), ttl=ttl)
    for old in open_links:
        await _cancel(session, gateway, old, reason=f"replaced by {payment.gateway_ref}")
    return _made(ctx, gateway, payment, invoice, phone, reused=False)


def _require_payable(invoice: Invoice) -> None:
    if invoice.status == InvoiceStatus.draft:
        raise Conflict("A draft cannot be paid; issue it first.", code="invoice-is-draft")
    if invoice.status == InvoiceStatus.void:
        raise Conflict("A void invoice cannot be paid.", code="invoice-void")
    if invoice.balance_due <= 0:
        raise Conflict(f"Nothing is due on invoice {invoice.number}.", code="invoice-settled")
    if invoice.balance_due < MINIMUM:
        raise Conflict(
            f"The balance due, {invoice.balance_due}, is below the ₹{MINIMUM} a payment link can ask for.",
            code="payment-link-amount-too-small",
        )


async def _new_link(
    session: AsyncSession,
    ctx: Context,
    gateway: TenantGateway,
    invoice: Invoice,
    *,
    phone: str | None,
    email: str | None,
    ttl: timedelta,
) -> OnlinePayment:
    payment_id = new_id()
    number = invoice.number or ""
    contact = {"name": str(invoice.recipient.get("name") or "")[:100]}
    if digits := international_digits(phone):
        contact["contact"] = f"+{digits}"
    if email:
        contact["email"] = email
    link = await gateway.create_payment_link(
        amount_paise=int(invoice.balance_due * 100),
        reference_id=reference_id(number, payment_id),
        description=f"Invoice {number} from {seller_name(invoice)}"[:2048],
        customer={key: value for key, value in contact.items() if value},
        expire_by=ctx.now + ttl,
        notes={"invoice_id": str(invoice.id), "invoice_number": number, PAYMENT_NOTE: str(payment_id)},
        callback_url=callback_url(ctx.settings, invoice.tenant_id, payment_id),
    )
    _check_link(link, invoice)
    payment = await OnlinePaymentRepository(session).add(
        OnlinePayment(
            id=payment_id,
            purpose="invoice",
            invoice_id=invoice.id,
            order_id=None,
            company_id=invoice.company_id,
            customer_id=invoice.customer_id,
            gateway_kind="payment_link",
            gateway_ref=link.id,
            short_url=link.short_url,
            amount=invoice.balance_due,
            status="created",
            is_sandbox=gateway.sandbox,
            expires_at=link.expires_at or ctx.now + ttl,
        )
    )
    await audit.record(
        session,
        action="online_payment.created",
        entity_type="online_payment",
        entity_id=payment.id,
        after=audit.snapshot(payment, online_payments.AUDITED) | {"short_url": link.short_url},
    )
    return payment


def _check_link(link: GatewayLink, invoice: Invoice) -> None:
    if not link.id.startswith("plink_") or len(link.id) > 64 or link.amount_paise != int(invoice.balance_due * 100):
        raise PaymentGatewayError("Razorpay answered with a payment link that does not match the request.")


async def withdraw(session: AsyncSession, ctx: Context, invoice_id: uuid.UUID, *, reason: str) -> int:
    """Cancel the invoice's open links (on the gateway, best effort, and here): invoicing.void calls
    it, so a voided invoice's customer is not left a link to pay. How many were open. A gateway
    that cannot be reached, or is not configured any more, does not stop the caller: the links are
    cancelled here, and a payment that still arrives is recorded and flagged refund_due."""
    repo = OnlinePaymentRepository(session)
    await repo.lock_invoice_links(invoice_id)  # a link being made meanwhile is committed first, then found
    links = await repo.open_links(invoice_id, ctx.now)
    if not links:
        return 0
    try:
        gateway: TenantGateway | None = await payment_gateways.client_for(session, ctx)
    except AppError as exc:
        log.warning("payment links of invoice %s not cancelled on the gateway: %s", invoice_id, exc.code)
        gateway = None
    for link in links:
        await _cancel(session, gateway, link, reason=reason)
    return len(links)


async def _cancel(session: AsyncSession, gateway: TenantGateway | None, payment: OnlinePayment, *, reason: str) -> None:
    """Cancel an open link on the gateway (best effort: module docstring) and here."""
    if gateway is not None and gateway.sandbox == payment.is_sandbox:
        try:
            await gateway.cancel_payment_link(payment.gateway_ref)
        except (PaymentGatewayError, PaymentGatewayUnavailable) as exc:
            log.warning("payment link %s not cancelled on the gateway: %s", payment.gateway_ref, exc.detail)
    before = audit.snapshot(payment, online_payments.AUDITED)
    if await OnlinePaymentRepository(session).mark_cancelled(payment):
        await audit.record(
            session,
            action="online_payment.cancelled",
            entity_type="online_payment",
            entity_id=payment.id,
            before=before,
            after=audit.snapshot(payment, online_payments.AUDITED) | {"reason": reason},
        )


def _email(customer: object, invoice: Invoice) -> str | None:
    email = getattr(customer, "email", None) or invoice.recipient.get("email")
    return str(email) if email else None


def _made(
    ctx: Context, gateway: TenantGateway, payment: OnlinePayment, invoice: Invoice, phone: str | None, *, reused: bool
) -> Made:
    text = message(invoice, payment)
    number = international_digits(phone) or ""
    return Made(
        payment,
        invoice,
        reused,
        text,
        f"https://wa.me/{number}?text={quote(text, safe='')}",
        sandbox_pay_url(ctx.settings, gateway, payment, invoice.number or ""),
    )


def message(invoice: Invoice, payment: OnlinePayment) -> str:
    """E.g. "Invoice INV/26-27/00001 from Sharma Traders: please pay ₹1,180.00 online by 12 Dec 2026
    at https://rzp.io/i/abc"."""
    text = f"Invoice {invoice.number} from {seller_name(invoice)}: please pay {rupees(payment.amount)} online"
    if payment.expires_at is not None:
        text += f" by {day(payment.expires_at.date())}"
    return f"{text} at {payment.short_url}"


def sandbox_pay_url(
    settings: Settings, gateway: TenantGateway, payment: OnlinePayment, invoice_number: str
) -> str | None:
    """Sandbox only: the callback URL with what Razorpay would add once the link is paid."""
    if not (isinstance(gateway, SandboxTenantGateway) and payment.is_sandbox) or payment.status not in (
        "created",
        "failed",
    ):
        return None
    link = GatewayLink(
        id=payment.gateway_ref,
        short_url=payment.short_url or "",
        amount_paise=int(payment.amount * 100),
        reference_id=reference_id(invoice_number, payment.id),
        status="created",
        expires_at=payment.expires_at,
    )
    params = gateway.sandbox_pay_link(link)
    return f"{callback_url(settings, payment.tenant_id, payment.id)}?{urlencode(params)}"


def reference_id(invoice_number: str, payment_id: uuid.UUID) -> str:
    """The link's reference on the gateway (module docstring): at most 16 + 7 characters of 40."""
    return f"{invoice_number}-{payment_id.hex[-6:]}"


# --- the callback ticket ------------------------------------------------------------------------


@lru_cache
def _ticket_key(secret: str) -> bytes:
    return hmac.new(secret.encode(), b"rms-billing payment link callback v1", hashlib.sha256).digest()


def _ticket_mac(settings: Settings, raw: bytes) -> bytes:
    return hmac.new(_ticket_key(settings.jwt_secret), raw, hashlib.sha256).digest()[:TICKET_MAC_BYTES]


def ticket(settings: Settings, tenant_id: uuid.UUID, payment_id: uuid.UUID) -> str:
    raw = tenant_id.bytes + payment_id.bytes
    return base64.urlsafe_b64encode(raw + _ticket_mac(settings, raw)).rstrip(b"=").decode()


def open_ticket(settings: Settings, value: str) -> tuple[uuid.UUID, uuid.UUID] | None:
    """(tenant id, payment id) of a ticket this server made; None for anything else."""
    if len(value) > 64:
        return None
    try:
        data = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        return None
    raw, mac = data[:32], data[32:]
    if len(raw) != 32 or not hmac.compare_digest(mac, _ticket_mac(settings, raw)):
        return None
    return uuid.UUID(bytes=raw[:16]), uuid.UUID(bytes=raw[16:])


def callback_url(settings: Settings, tenant_id: uuid.UUID, payment_id: uuid.UUID) -> str:
    return f"{settings.public_base_url}/pay/{ticket(settings, tenant_id, payment_id)}"


# --- the public invoice page's "Pay now" ------------------------------------------------------------


async def pay_now_url(session: AsyncSession, ctx: Context, invoice: Invoice) -> str | None:
    """Where the public page's "Pay now" goes: the invoice's open link for exactly its balance due
    (a link for more, made before a part payment, is not offered: it would overpay), None without
    one. A sandbox link goes straight to its callback, paid (no keys: `make run` walks the flow)."""
    if invoice.status not in (InvoiceStatus.issued, InvoiceStatus.partially_paid) or invoice.balance_due <= 0:
        return None
    for link in await OnlinePaymentRepository(session).open_links(invoice.id, ctx.now):
        if link.amount != invoice.balance_due:
            continue
        if not link.is_sandbox:
            return link.short_url
        if ctx.settings.razorpay_mode != "sandbox":  # made before the deployment went live: not payable
            continue
        gateway = await payment_gateways.client_for(session, ctx)
        return sandbox_pay_url(ctx.settings, gateway, link, invoice.number or "")
    return None


# --- the page the customer comes back to (GET /pay/<ticket>) --------------------------------------

CALLBACK_PARAMS = {
    "razorpay_payment_id": re.compile(r"pay_[A-Za-z0-9_]{1,60}"),
    "razorpay_payment_link_id": re.compile(r"plink_[A-Za-z0-9_]{1,58}"),
    "razorpay_payment_link_reference_id": re.compile(r"[\x21-\x7e]{1,40}"),
    "razorpay_payment_link_status": re.compile(r"[a-z_]{1,20}"),
    "razorpay_signature": re.compile(r"[0-9a-f]{64}"),
}


@dataclass(frozen=True)
class Returned:
    """What the customer is told after paying: `confirmed` once the payment is recorded (now, or
    before by a webhook); otherwise the gateway's status for the link, or unconfirmed (parameters
    missing or not signed by Razorpay: the webhook will still record a real payment)."""

    confirmed: bool
    status: str
    invoice_number: str
    seller: str
    amount: str
    receipt_number: str | None


async def returned(
    session: AsyncSession, ctx: Context, ticket_value: str, params: Mapping[str, str]
) -> Returned | None:
    """The callback of a payment link this server made (None for any other ticket, or a payment
    gone): tenant bound from the ticket, then verified and recorded as POST /online-payments/{id}/verify."""
    opened = open_ticket(ctx.settings, ticket_value)
    if opened is None:
        return None
    tenant_id, payment_id = opened
    await bind_tenant(session, tenant_id)
    audit.set_actor(session, None)
    bound = dataclasses.replace(ctx, tenant_id=tenant_id, memo={})
    payment = await OnlinePaymentRepository(session).get(payment_id)
    if payment is None or payment.invoice_id is None:
        return None
    invoice_id = payment.invoice_id
    values = {name: params.get(name, "") for name in CALLBACK_PARAMS}
    status = "unconfirmed"
    if all(pattern.fullmatch(values[name]) for name, pattern in CALLBACK_PARAMS.items()):
        link_ref = payment.gateway_ref
        try:
            # a savepoint: this page commits whatever happens, so a refusal after the capture began
            # (the receipt's series exhausted, ...) must take back its writes, or the payment would
            # stay paid with no receipt and every later webhook would find it "already paid"
            async with session.begin_nested():
                payment, status = await online_payments.verify_link(
                    session,
                    bound,
                    payment_id,
                    razorpay_payment_id=values["razorpay_payment_id"],
                    link_id=values["razorpay_payment_link_id"],
                    reference_id=values["razorpay_payment_link_reference_id"],
                    link_status=values["razorpay_payment_link_status"],
                    signature=values["razorpay_signature"],
                )
        except AppError as exc:  # a forged or stale callback, a gateway removed since: nothing written
            log.warning("payment link %s: callback not verified: %s", link_ref, exc.code)
            payment = await online_payments.get(session, payment_id)  # as it is after the rollback
    invoice = await invoicing.get(session, invoice_id)
    receipt = await ReceiptRepository(session).get(payment.receipt_id) if payment.receipt_id else None
    return Returned(
        confirmed=payment.status == "paid",
        status=status,
        invoice_number=invoice.number or "",
        seller=seller_name(invoice),
        amount=rupees(payment.amount_paid if payment.amount_paid is not None else payment.amount),
        receipt_number=receipt.number if receipt is not None else None,
    )
