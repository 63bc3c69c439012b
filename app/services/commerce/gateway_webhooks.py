"""The tenant's own Razorpay webhooks: POST /webhooks/razorpay/{webhook_id} (issue 12 §1).

A delivery comes with no token. Its path's webhook id leads to the tenant through
`gateway_webhook_tenant` (a SECURITY DEFINER function that answers only that, from the global
directory `gateway_webhooks`); the tenant is bound and everything after runs under row-level
security. The signature is then checked over the raw body with THAT tenant's webhook secret (so a
body signed with another tenant's secret is refused, 400, nothing written), and only then is the
body parsed (defensively: a signed body is Razorpay's, never trusted to be well shaped).

The event's online payment is found (by payment link, gateway order, Razorpay payment id, or our
own id in the notes) and locked `FOR UPDATE`; then its event id is claimed in `gateway_events`
in the same transaction as the effect, so a replay, even a concurrent one, waits for the first
and finds the id taken: one effect per event id. The effect itself is the payment's owner's:
`online_payments.on_captured` / `on_failed`, `refunds.on_refund_event` (states only move forward
there, so events arriving out of order change nothing they should not).

Answers: `processed` (with what the event did), `duplicate`, or `ignored` (200, nothing written:
an event type we do not handle, or for a payment this business did not make through us: Razorpay
retries anything but a 2xx, and those would never succeed). An unknown webhook id is 404.
"""

import dataclasses
import hashlib
import json
import logging
import re
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.context import Context
from app.core.errors import MalformedWebhook, NotFound, SignatureInvalid
from app.core.json_input import as_dict, holds_unstorable_text, matching
from app.core.tenancy import bind_tenant
from app.models.commerce.online_payment import OnlinePayment, Refund
from app.repositories.commerce.online_payments import OnlinePaymentRepository, RefundRepository
from app.repositories.commerce.payment_gateways import GatewayEventRepository, PaymentGatewayRepository, webhook_tenant
from app.services.commerce import online_payments, refunds
from app.services.commerce.gateway_client import PAYMENT_NOTE
from app.services.commerce.payment_gateways import PROVIDER, client_of
from app.services.platform import audit

log = logging.getLogger(__name__)

CAPTURING = frozenset({"payment.captured", "order.paid", "payment_link.paid"})
FAILING = frozenset({"payment.failed"})
REFUND_STATUS = {"refund.created": "pending", "refund.processed": "processed", "refund.failed": "failed"}
CURRENCY = "INR"
EVENT_ID = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
ORDER_ID = re.compile(r"order_[A-Za-z0-9_]{1,58}")
PAYMENT_ID = re.compile(r"pay_[A-Za-z0-9_]{1,60}")
LINK_ID = re.compile(r"plink_[A-Za-z0-9_]{1,58}")
REFUND_ID = re.compile(r"rfnd_[A-Za-z0-9_]{1,59}")


@dataclass(frozen=True)
class Event:
    id: str
    type: str
    link_id: str | None
    order_id: str | None
    payment_id: str | None
    refund_id: str | None
    amount: int | None  # paise: the payment's (the refund's, for a refund event)
    currency: str | None
    error: str | None
    our_payment_id: uuid.UUID | None  # notes.online_payment_id, as we set it on links and orders


@dataclass(frozen=True)
class Received:
    result: str  # processed | duplicate | ignored
    detail: str


async def receive(
    session: AsyncSession,
    ctx: Context,
    *,
    webhook_id: str,
    body: bytes,
    signature: str | None,
    event_id: str | None,
) -> Received:
    tenant_id = await webhook_tenant(session, webhook_id)
    if tenant_id is None:
        raise NotFound("There is no webhook at this address.")
    await bind_tenant(session, tenant_id)
    audit.set_actor(session, None)
    ctx = dataclasses.replace(ctx, tenant_id=tenant_id, actor_id=None)  # the effects run as the tenant's, by no one
    gateway = await PaymentGatewayRepository(session).for_provider(PROVIDER)
    if gateway is None or gateway.webhook_id != webhook_id:  # removed, or saved again since: a new URL
        raise NotFound("There is no webhook at this address.")
    if not client_of(ctx.settings, gateway).webhook_signature_ok(body, signature):
        raise SignatureInvalid("The webhook signature does not match the body.")
    event = parse_event(body, event_id)
    if event.type in CAPTURING or event.type in FAILING:
        return await _payment_event(session, ctx, event)
    if event.type in REFUND_STATUS:
        return await _refund_event(session, ctx, event)
    return Received("ignored", f"event {event.type!r} is not one this service handles")


async def _payment_event(session: AsyncSession, ctx: Context, event: Event) -> Received:
    payment = await _locked_payment(session, event)
    if payment is None:
        log.info("gateway webhook %s (%s): no online payment of ours", event.id, event.type)
        return Received("ignored", "unknown payment")
    capturing = event.type in CAPTURING
    if event.payment_id is None:
        outcome = "no-payment-id"
    elif capturing and (event.currency != CURRENCY or event.amount is None):
        outcome = "currency-or-amount-unusable"  # a capture must say what was paid, in rupees
    else:
        outcome = "applying"
    if not await _claim(session, ctx, event, payment, None, outcome):
        return Received("duplicate", f"event {event.id} was processed before")
    if outcome != "applying":
        # Claimed, so never applied: a capture among them is money received and not recorded; say so.
        log.error(
            "gateway webhook %s (%s) for online payment %s not applied: %s", event.id, event.type, payment.id, outcome
        )
        return Received("processed", outcome)
    assert event.payment_id is not None  # outcome "applying" says so
    if capturing:
        assert event.amount is not None
        outcome = await online_payments.on_captured(
            session, ctx, payment, razorpay_payment_id=event.payment_id, amount_paise=event.amount, source="webhook"
        )
    else:
        outcome = await online_payments.on_failed(
            session, ctx, payment, razorpay_payment_id=event.payment_id, reason=event.error
        )
    await GatewayEventRepository(session).set_outcome(event.id, outcome)
    return Received("processed", outcome)


async def _refund_event(session: AsyncSession, ctx: Context, event: Event) -> Received:
    if event.payment_id is None or event.refund_id is None or event.amount is None:
        return Received("ignored", "a refund event without its refund, payment or amount")
    payment = await OnlinePaymentRepository(session).by_razorpay_payment_id(event.payment_id, for_update=True)
    if payment is None:
        log.info("gateway webhook %s (%s): no online payment of ours", event.id, event.type)
        return Received("ignored", "unknown payment")
    refund = await RefundRepository(session).by_razorpay_refund_id(event.refund_id, for_update=True)
    if refund is not None and refund.online_payment_id != payment.id:
        log.error("gateway webhook %s: refund %s is not of payment %s", event.id, event.refund_id, event.payment_id)
        return Received("ignored", "the refund is of another payment")
    if not await _claim(session, ctx, event, payment, refund, "applying"):
        return Received("duplicate", f"event {event.id} was processed before")
    outcome = await refunds.on_refund_event(
        session,
        ctx,
        payment,
        refund,
        razorpay_refund_id=event.refund_id,
        status=REFUND_STATUS[event.type],
        amount_paise=event.amount,
        reason=event.error,
    )
    await GatewayEventRepository(session).set_outcome(event.id, outcome)
    return Received("processed", outcome)


async def _claim(
    session: AsyncSession, ctx: Context, event: Event, payment: OnlinePayment, refund: Refund | None, outcome: str
) -> bool:
    return await GatewayEventRepository(session).claim(
        event_id=event.id,
        event_type=event.type,
        online_payment_id=payment.id,
        refund_id=refund.id if refund is not None else None,
        outcome=outcome,
        at=ctx.now,
    )


async def _locked_payment(session: AsyncSession, event: Event) -> OnlinePayment | None:
    """The event's online payment, locked: by its payment link, its gateway order, the Razorpay
    payment already recorded on it, or our id in the notes (the first that finds one; each
    lookup locks only what it finds)."""
    repo = OnlinePaymentRepository(session)
    for ref in (event.link_id, event.order_id):
        if ref is not None and (found := await repo.by_gateway_ref(ref, for_update=True)) is not None:
            return found
    if event.payment_id is not None:
        found = await repo.by_razorpay_payment_id(event.payment_id, for_update=True)
        if found is not None:
            return found
    if event.our_payment_id is not None:
        return await repo.get(event.our_payment_id, for_update=True)
    return None


def parse_event(body: bytes, event_id: str | None) -> Event:
    """The fields we use, each checked for its shape (anything else is as if absent). No usable
    event id header: one derived from the body, so that replays still dedupe."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as exc:  # RecursionError: nested deeper than the parser goes
        raise MalformedWebhook("The webhook body is not JSON (or nests too deep).") from exc
    if not isinstance(data, dict) or not isinstance(data.get("event"), str) or not data["event"]:
        raise MalformedWebhook("The webhook body has no event.")
    if holds_unstorable_text(data):
        raise MalformedWebhook("The webhook body holds a NUL character or a lone surrogate (\\ud800-\\udfff).")
    payload = as_dict(data.get("payload"))
    payment = _entity(payload, "payment")
    order = _entity(payload, "order")
    link = _entity(payload, "payment_link")
    refund = _entity(payload, "refund")
    if not (event_id and EVENT_ID.fullmatch(event_id)):
        event_id = "sha256:" + hashlib.sha256(body).hexdigest()[:57]
    kind = data["event"][:40]
    is_refund = kind.startswith("refund.")
    amount = _paise(refund.get("amount")) if is_refund else _paise(payment.get("amount"))
    if amount is None and not is_refund:
        amount = _paise(link.get("amount_paid"))
    error = (refund if is_refund else payment).get("error_description") or payment.get("error_code")
    currency = (refund if is_refund else payment).get("currency")
    return Event(
        id=event_id,
        type=kind,
        link_id=matching(LINK_ID, link.get("id")),
        order_id=matching(ORDER_ID, order.get("id")) or matching(ORDER_ID, payment.get("order_id")),
        payment_id=matching(PAYMENT_ID, refund.get("payment_id") if is_refund else payment.get("id")),
        refund_id=matching(REFUND_ID, refund.get("id")),
        amount=amount,
        currency=currency if isinstance(currency, str) else None,
        error=error[:500] if isinstance(error, str) else None,
        our_payment_id=_uuid(as_dict(payment.get("notes")).get(PAYMENT_NOTE)),
    )


def _entity(payload: dict[str, Any], name: str) -> dict[str, Any]:
    return as_dict(as_dict(payload.get(name)).get("entity"))


def _paise(value: Any) -> int | None:
    ok = isinstance(value, int) and not isinstance(value, bool) and 0 < value < 10**15
    return value if ok else None


def _uuid(value: Any) -> uuid.UUID | None:
    if not isinstance(value, str) or len(value) > 36:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        return None
