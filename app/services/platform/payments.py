"""Paid upgrades: an order for a plan, the checkout's signed result, and Razorpay's webhooks.

A payment is captured, and its plan activated, exactly once: the capture is a guarded
`UPDATE ... WHERE status <> 'captured' RETURNING` on a row locked `FOR UPDATE`, and activation
runs in the same transaction only for the call whose update returned the row. Checkout
verification and the webhook may race or repeat: whichever comes first activates, the rest
change nothing. Statuses only move forward (created < failed < captured).

Webhooks come with no tenant: the order id leads to it through `payment_order_tenant` (a
SECURITY DEFINER function that reveals only that, reading the global order directory
`razorpay_orders`, written with the payment in one transaction); the tenant is then bound and
everything else runs under row-level security. Each event id is recorded in the transaction of its
effect, after the payment row is locked, so a replay (even a concurrent one) finds it and does
nothing (unique per tenant: the order, hence the tenant, is the same at every delivery).
"""

import hashlib
import json
import logging
import re
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.context import Context
from app.core.errors import (
    Conflict,
    MalformedWebhook,
    NotFound,
    PaymentGatewayError,
    RuleViolation,
    SignatureInvalid,
)
from app.core.json_input import as_dict, holds_unstorable_text, matching
from app.core.tenancy import bind_tenant, required_tenant
from app.models.base import new_id
from app.models.platform.payment import Payment, PaymentStatus
from app.repositories.platform.payments import PaymentEventRepository, PaymentRepository, claim_order, order_tenant
from app.repositories.platform.subscriptions import PlanRepository
from app.schemas.platform.payments import ORDER_ID_PATTERN, PAYMENT_ID_PATTERN
from app.services.platform import audit, plans, saas_invoices, subscriptions, usage
from app.services.platform.razorpay import SandboxGateway, checkout_signature, gateway, sign, signature_matches

log = logging.getLogger(__name__)

CURRENCY = "INR"
CAPTURING_EVENTS = frozenset({"payment.captured", "order.paid"})
HANDLED_EVENTS = CAPTURING_EVENTS | {"payment.failed"}
EVENT_ID = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
ORDER_ID = re.compile(ORDER_ID_PATTERN)
PAYMENT_ID = re.compile(PAYMENT_ID_PATTERN)
AUDITED = [
    "razorpay_order_id",
    "razorpay_payment_id",
    "plan_code",
    "amount_paise",
    "status",
    "period_start",
    "period_end",
]


@dataclass(frozen=True)
class Started:
    payment: Payment
    key_id: str
    checkout: dict[str, str] | None  # sandbox only: what Checkout would return once paid


async def start_upgrade(session: AsyncSession, ctx: Context, *, plan_code: str) -> Started:
    """A Razorpay order for one billing period of `plan_code`, recorded as a `created` payment."""
    plan = await PlanRepository(session).get(plan_code)
    if plan is None:
        raise NotFound(f"There is no plan {plan_code!r}.", code="plan-not-found")
    if not (plan.is_public and plan.is_active and plan.price_paise > 0 and plan.billing_period == "month"):
        raise RuleViolation("plan", f"The {plan.code} plan cannot be bought.", code="plan-not-purchasable")
    platform = saas_invoices.platform_of(ctx.settings)
    if platform is not None and required_tenant(session) == platform.tenant_id:
        # it would pay itself, never be invoiced, and its open-ended subscription would lapse
        raise Conflict(
            "The platform tenant issues the SaaS's invoices; it does not buy plans.", code="platform-tenant-not-billed"
        )
    gw = gateway(ctx.settings)
    repo = PaymentRepository(session)
    payment_id = new_id()
    notes = {"tenant_id": str(repo.tenant_id), "plan": plan.code, "payment_id": str(payment_id)}
    order = await gw.create_order(
        amount=plans.with_tax_paise(plan), currency=CURRENCY, receipt=payment_id.hex, notes=notes
    )
    payment = await repo.add(
        Payment(
            id=payment_id,
            razorpay_order_id=order.id,
            plan_code=plan.code,
            amount_paise=order.amount,
            currency=order.currency,
            status=PaymentStatus.created,
            is_sandbox=gw.sandbox,
        )
    )
    if not await claim_order(session, order.id, payment.id):
        raise PaymentGatewayError("The payment gateway returned an order id that is already recorded.")
    await _audit(session, payment, "payment.created")
    checkout = gw.checkout(order.id) if isinstance(gw, SandboxGateway) else None
    return Started(payment, gw.key_id, checkout)


async def verify_checkout(
    session: AsyncSession, ctx: Context, *, order_id: str, payment_id: str, signature: str
) -> Payment:
    """Checkout's signed result: the signature is checked against our own order (another tenant's
    order is a 404, a bad signature a 400 with nothing written), then the payment is captured and
    its plan activated, once however often this is called."""
    repo = PaymentRepository(session)
    payment = await repo.by_order(order_id)
    if payment is None:
        raise NotFound("There is no such order.", code="order-not-found")
    gw = gateway(ctx.settings)
    expected = checkout_signature(gw.key_secret, order_id, payment_id)
    if payment.is_sandbox != gw.sandbox or not signature_matches(expected, signature):
        raise SignatureInvalid("The payment signature does not match this order.")
    locked = await repo.by_order(order_id, for_update=True)
    if locked is None:  # payments are never deleted: read just above
        raise NotFound("There is no such order.", code="order-not-found")
    await _capture(session, ctx, locked, payment_id)
    return locked


async def _capture(session: AsyncSession, ctx: Context, payment: Payment, razorpay_payment_id: str) -> bool:
    """Captured and plan activated, unless already captured (then nothing). Row locked by the caller."""
    now = ctx.now
    repo = PaymentRepository(session)
    if not await repo.capture(payment, razorpay_payment_id, now):
        return False
    # The token quota first, from the plan in force before the payment: a higher plan carries the
    # remaining over, a lower one keeps `used` (see usage.apply_plan).
    await usage.apply_plan(session, ctx, payment.plan_code)
    activation = await subscriptions.activate_paid(session, ctx, plan_code=payment.plan_code)
    await repo.applied(
        payment, start=activation.period_start, end=activation.period_end, subscription_id=activation.row.id
    )
    await _audit(session, payment, "payment.captured")
    saas_invoices.kick_after_commit(session, ctx, payment.id)
    return True


async def _audit(session: AsyncSession, payment: Payment, action: str) -> None:
    after = audit.snapshot(payment, AUDITED)
    await audit.record(session, action=action, entity_type="payment", entity_id=payment.id, after=after)


async def list_payments(session: AsyncSession, *, limit: int, cursor: str | None) -> tuple[list[Payment], str | None]:
    return await PaymentRepository(session).list_page(limit=limit, cursor=cursor)


# --- webhooks ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    id: str
    type: str
    order_id: str | None
    payment_id: str | None
    amount: int | None
    currency: str | None
    error: str | None


@dataclass(frozen=True)
class Received:
    result: str  # processed | duplicate | ignored
    detail: str


async def receive_webhook(
    session: AsyncSession, ctx: Context, *, body: bytes, signature: str | None, event_id: str | None
) -> Received:
    """Razorpay's webhook: raw body signed with the webhook secret (else 400, nothing written)."""
    gw = gateway(ctx.settings)
    if not signature_matches(sign(gw.webhook_secret, body), signature):
        raise SignatureInvalid("The webhook signature does not match the body.")
    event = parse_event(body, event_id)
    if event.type not in HANDLED_EVENTS:
        return Received("ignored", f"event {event.type!r} is not one this service handles")
    tenant_id = await order_tenant(session, event.order_id) if event.order_id else None
    if tenant_id is None or event.order_id is None:
        log.warning("razorpay webhook %s (%s) for an unknown order %r", event.id, event.type, event.order_id)
        return Received("ignored", "unknown order")
    await bind_tenant(session, tenant_id)
    audit.set_actor(session, None)
    payment = await PaymentRepository(session).by_order(event.order_id, for_update=True)
    if payment is None:  # the order lookup names this tenant, whose payment row is missing
        log.error("razorpay webhook %s (%s): order %r has no payment row", event.id, event.type, event.order_id)
        return Received("ignored", "unknown order")
    outcome = _outcome(event, payment)
    claimed = await PaymentEventRepository(session).claim(
        event_id=event.id, event_type=event.type, payment_id=payment.id, outcome=outcome, at=ctx.now
    )
    if not claimed:
        return Received("duplicate", f"event {event.id} was processed before")
    await PaymentRepository(session).note_event(payment, event.id)
    if outcome == "captured":
        assert event.payment_id is not None  # _outcome answers "captured" only with a payment id
        await _capture(session, ctx, payment, event.payment_id)
    elif outcome == "failed":
        await PaymentRepository(session).fail(payment, event.payment_id, event.error)
        await _audit(session, payment, "payment.failed")
    return Received("processed", outcome)


def _outcome(event: Event, payment: Payment) -> str:
    """What the event does to the payment (states only move forward)."""
    if event.type in CAPTURING_EVENTS:
        if payment.status == PaymentStatus.captured:
            return "already-captured"
        if event.payment_id is None:
            return "no-payment-id"
        if (event.amount, event.currency) != (payment.amount_paise, payment.currency):
            log.error(
                "razorpay event %s: amount %s %s, order was %s",
                event.id,
                event.amount,
                event.currency,
                payment.amount_paise,
            )
            return "amount-mismatch"
        return "captured"
    return "failed" if payment.status == PaymentStatus.created else f"already-{payment.status}"


def parse_event(body: bytes, event_id: str | None) -> Event:
    """The fields we use, defensively (a signed body is Razorpay's, but never trusted to be well
    shaped). No event id header: one derived from the body, so replays still dedupe."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as exc:  # RecursionError: nested deeper than the parser goes
        raise MalformedWebhook("The webhook body is not JSON (or nests too deep).") from exc
    if holds_unstorable_text(data):
        raise MalformedWebhook("The webhook body holds a NUL character or a lone surrogate (\\ud800-\\udfff).")
    if not isinstance(data, dict) or not isinstance(data.get("event"), str):
        raise MalformedWebhook("The webhook body has no event.")
    payload = as_dict(data.get("payload"))
    payment = as_dict(as_dict(payload.get("payment")).get("entity"))
    order = as_dict(as_dict(payload.get("order")).get("entity"))
    order_id = matching(ORDER_ID, order.get("id")) or matching(ORDER_ID, payment.get("order_id"))
    if not (event_id and EVENT_ID.fullmatch(event_id)):
        event_id = "sha256:" + hashlib.sha256(body).hexdigest()[:57]
    amount = payment.get("amount")
    error = payment.get("error_description") or payment.get("error_code")
    return Event(
        id=event_id,
        type=data["event"][:40],
        order_id=order_id,
        payment_id=matching(PAYMENT_ID, payment.get("id")),
        amount=amount if isinstance(amount, int) and not isinstance(amount, bool) else None,
        currency=payment.get("currency") if isinstance(payment.get("currency"), str) else None,
        error=error[:500] if isinstance(error, str) else None,
    )
