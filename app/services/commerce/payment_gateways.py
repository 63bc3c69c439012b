"""The tenant's own Razorpay account (issue 12 §1): saved by the owner, its secrets encrypted at
rest (app.core.secret_box), checked on save by one harmless call, and the client every order,
payment link and refund goes through (`client_for`).

Secrets: the key secret and webhook secret are encrypted before the row is written and decrypted
only to build the client; no answer, audit row, log line or exception carries them (the audit
keeps the key id, the key secret's last 4 characters and the webhook id).

Sandbox (RAZORPAY_MODE=sandbox, as for upgrades): keys can be saved (unchecked: no network) and
the webhook verifies with them, but orders, links and refunds use the in-process sandbox.

The webhook URL: each tenant's gateway has a random `webhook_id` (24 url-safe characters, 144
bits), recorded in the global directory `gateway_webhooks` with its tenant (the only way a
webhook, which comes with no token, finds its tenant). Saving the keys again keeps it, so the
tenant's Razorpay dashboard keeps working; removing the gateway and saving again makes a new one
(the directory never reuses an id: an old URL leads nowhere).
"""

import logging
import secrets
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.context import Context
from app.core.errors import Conflict, NotFound, PaymentGatewayError, RuleViolation
from app.core.secret_box import SecretBox, SecretUnreadable, secret_box
from app.models.commerce.gateway import PaymentGateway
from app.repositories.commerce.payment_gateways import PaymentGatewayRepository, claim_webhook
from app.services.commerce.gateway_client import LiveTenantGateway, SandboxTenantGateway, TenantGateway
from app.services.platform import audit

log = logging.getLogger(__name__)

PROVIDER = "razorpay"
AUDITED = ["provider", "key_id", "key_secret_last4", "webhook_id", "verified_at"]
WEBHOOK_PATH = "/api/v1/webhooks/razorpay/"
WEBHOOK_EVENTS = (
    "payment_link.paid",
    "payment.captured",
    "payment.failed",
    "order.paid",
    "refund.created",
    "refund.processed",
    "refund.failed",
)


@dataclass(frozen=True)
class Keys:
    key_id: str
    key_secret: str
    webhook_secret: str

    def __repr__(self) -> str:  # never the secrets
        return f"Keys(key_id={self.key_id!r})"


def box(settings: Settings) -> SecretBox:
    return secret_box(tuple(settings.payment_secret_keys))


def live_client(settings: Settings, keys: Keys) -> LiveTenantGateway:
    return LiveTenantGateway(
        key_id=keys.key_id,
        key_secret=keys.key_secret,
        webhook_secret=keys.webhook_secret,
        base_url=settings.razorpay_base_url,
        timeout=settings.razorpay_timeout_seconds,
        max_retries=settings.razorpay_max_retries,
    )


def client_of(settings: Settings, gateway: PaymentGateway) -> LiveTenantGateway:
    """The live client of a saved gateway (its secrets decrypted with PAYMENT_SECRET_KEYS)."""
    sealed = box(settings)
    try:
        keys = Keys(
            gateway.key_id,
            sealed.decrypt(gateway.key_secret_encrypted),
            sealed.decrypt(gateway.webhook_secret_encrypted),
        )
    except SecretUnreadable:
        log.error(
            "payment gateway of tenant %s: its secrets cannot be decrypted with PAYMENT_SECRET_KEYS", gateway.tenant_id
        )
        raise PaymentGatewayError(
            "The payment gateway's saved keys cannot be read (server key changed); the owner should save them again."
        ) from None
    return live_client(settings, keys)


async def client_for(session: AsyncSession, ctx: Context) -> TenantGateway:
    """The gateway the tenant's orders, payment links and refunds go through. RAZORPAY_MODE=live:
    its own saved Razorpay account (at RAZORPAY_BASE_URL), none saved: 409 `gateway-not-configured`,
    saved but never checked (in sandbox mode): 409 `gateway-not-verified` (the owner saves them again).
    RAZORPAY_MODE=sandbox: the in-process sandbox, saved keys or not (no network, no money moves:
    as for upgrades; refused in prod by the settings)."""
    if ctx.settings.razorpay_mode == "sandbox":
        return SandboxTenantGateway()
    # FOR KEY SHARE: a removal or another account's keys wait until this request's payment is written.
    gateway = await PaymentGatewayRepository(session).for_provider(PROVIDER, key_share=True)
    if gateway is not None and gateway.verified_at is None:
        raise Conflict(
            "The saved Razorpay keys were never checked (saved while the server ran in sandbox mode): the "
            "owner saves them again with PUT /payment-gateways/razorpay, which checks them with Razorpay.",
            code="gateway-not-verified",
        )
    if gateway is not None:
        return client_of(ctx.settings, gateway)
    raise Conflict(
        "Online payments need the business's own Razorpay account: the owner saves its keys with "
        "PUT /payment-gateways/razorpay.",
        code="gateway-not-configured",
    )


async def get(session: AsyncSession) -> PaymentGateway:
    gateway = await PaymentGatewayRepository(session).for_provider(PROVIDER)
    if gateway is None:
        raise NotFound("No Razorpay account is saved for this business.", code="payment-gateway-not-found")
    return gateway


async def save(session: AsyncSession, ctx: Context, *, keys: Keys) -> tuple[PaymentGateway, bool]:
    """Create or replace the tenant's Razorpay keys, once Razorpay accepted them (one harmless
    call; refused: 400 `gateway-keys-invalid`, nothing stored). Answers the row and whether it is
    new. The secrets are encrypted under the newest PAYMENT_SECRET_KEYS key on every save.
    RAZORPAY_MODE=sandbox makes no call (no network): the keys are stored unchecked, and the
    sandbox stands in for them until the deployment runs live; they are stored with verified_at
    NULL, and a live server refuses them (client_for) until they are saved again."""
    checked = ctx.settings.razorpay_mode == "live"
    if checked and not await live_client(ctx.settings, keys).check_keys():
        raise RuleViolation(
            "key_secret",
            "Razorpay refused this key id and key secret (check them in Dashboard > Account & Settings > API keys).",
            code="gateway-keys-invalid",
        )
    sealed = box(ctx.settings)
    repo = PaymentGatewayRepository(session)
    gateway = await repo.for_provider(PROVIDER, for_update=True)
    if gateway is not None and gateway.key_id != keys.key_id:  # another Razorpay account
        await _refuse_in_flight(repo, ctx, "replaced by another account")
    before = audit.snapshot(gateway, AUDITED) if gateway is not None else None
    values = {
        "key_id": keys.key_id,
        "key_secret_encrypted": sealed.encrypt(keys.key_secret),
        "key_secret_last4": keys.key_secret[-4:],
        "webhook_secret_encrypted": sealed.encrypt(keys.webhook_secret),
        "verified_at": ctx.now if checked else None,  # unchecked keys are not said to be verified
    }
    if gateway is None:
        gateway = await repo.add(PaymentGateway(provider=PROVIDER, webhook_id=await _new_webhook_id(session), **values))
    else:
        for name, value in values.items():
            setattr(gateway, name, value)
        await session.flush()
    await audit.record(
        session,
        action="payment_gateway.saved",
        entity_type="payment_gateway",
        entity_id=gateway.id,
        before=before,
        after=audit.snapshot(gateway, AUDITED),
    )
    return gateway, before is None


async def remove(session: AsyncSession, ctx: Context) -> None:
    """Forget the tenant's keys (online payments then use the sandbox, or answer 409
    gateway-not-configured in live mode). Payments made through it stay as they are; its webhook
    URL leads nowhere from now on, so it is refused (409 gateway-in-use) while anything is still
    in flight on it."""
    repo = PaymentGatewayRepository(session)
    gateway = await repo.for_provider(PROVIDER, for_update=True)
    if gateway is None:
        raise NotFound("No Razorpay account is saved for this business.", code="payment-gateway-not-found")
    await _refuse_in_flight(repo, ctx, "removed")
    before = audit.snapshot(gateway, AUDITED)
    gateway_id = gateway.id
    await repo.remove(gateway)
    await audit.record(
        session, action="payment_gateway.removed", entity_type="payment_gateway", entity_id=gateway_id, before=before
    )


async def rotate_secrets(session: AsyncSession, ctx: Context) -> bool:
    """The bound tenant's saved secrets re-encrypted under the newest PAYMENT_SECRET_KEYS key
    (audited, without them); False if it saved none. SecretUnreadable if no listed key opens them."""
    gateway = await PaymentGatewayRepository(session).for_provider(PROVIDER, for_update=True)
    if gateway is None:
        return False
    sealed = box(ctx.settings)
    gateway.key_secret_encrypted = sealed.rotate(gateway.key_secret_encrypted)
    gateway.webhook_secret_encrypted = sealed.rotate(gateway.webhook_secret_encrypted)
    await session.flush()
    await audit.record(
        session,
        action="payment_gateway.secrets_rotated",
        entity_type="payment_gateway",
        entity_id=gateway.id,
        after=audit.snapshot(gateway, AUDITED),
    )
    return True


async def _refuse_in_flight(repo: PaymentGatewayRepository, ctx: Context, change: str) -> None:
    """409 gateway-in-use while online payments are open or refunds pending on the saved account:
    their webhooks come to its URL, signed with its secret, and their refunds must go to it. The
    gateway row is locked (FOR UPDATE) by the caller: a request making a payment holds it FOR KEY
    SHARE (client_for), so the count below sees everything made before the change."""
    payments, refunds = await repo.in_flight(ctx.now)
    if payments or refunds:
        waiting = []
        if payments:
            waiting.append(f"{payments} online payment{'s' if payments != 1 else ''} still open")
        if refunds:
            waiting.append(f"{refunds} refund{'s' if refunds != 1 else ''} pending")
        raise Conflict(
            f"The Razorpay account cannot be {change} yet: {' and '.join(waiting)} on it (their webhooks "
            "and refunds need it). Cancel the open payment links or wait until they are paid or expire, "
            "and until the refunds are processed; the same account's keys can be saved again at any time.",
            code="gateway-in-use",
        )


async def _new_webhook_id(session: AsyncSession) -> str:
    for _ in range(3):  # 144 random bits: a clash is not expected, but the directory decides
        webhook_id = secrets.token_urlsafe(18)
        if await claim_webhook(session, webhook_id):
            return webhook_id
    raise AssertionError("three random webhook ids were all taken")


def webhook_url(settings: Settings, gateway: PaymentGateway) -> str:
    return f"{settings.public_base_url}{WEBHOOK_PATH}{gateway.webhook_id}"
