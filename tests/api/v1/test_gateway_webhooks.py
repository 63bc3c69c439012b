"""POST /webhooks/razorpay/{webhook_id}: a business's own Razorpay events. The tenant comes from the
webhook id, the signature from THAT tenant's webhook secret (another tenant's secret is refused),
the online payment is found and locked, the event id claimed in the transaction of its effect,
and the effect handed to its owner (online_payments.on_captured / on_failed,
refunds.on_refund_event).

Those effects belong to other parts of issue 12; here they are replaced, in their modules'
namespace, by recorders that note each call (the row they got, the arguments) and answer an
outcome, so what is tested is this route's part: verification, tenant resolution, the lookup and
lock, dedupe, and which effect is called with what."""

import asyncio
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from app.core.errors import Conflict
from app.models.base import new_id
from app.models.commerce.gateway import GatewayEvent
from app.models.commerce.online_payment import OnlinePayment, Refund
from app.services.commerce import online_payments, refunds
from app.services.commerce.gateway_client import LiveTenantGateway
from tests.api.v1.invoicing import Party
from tests.api.v1.payment_flow import problem_code
from tests.factories import Account, make_tenant
from tests.fake_razorpay import (
    FakeRazorpay,
    RazorpayAccount,
    configure_gateway,
    fake_razorpay,
    razorpay_app,
    razorpay_client,
    signature,
    webhook_path,
)

__all__ = ["fake_razorpay", "razorpay_app", "razorpay_client"]  # fixtures


@dataclass
class Recorded:
    calls: list[tuple[str, uuid.UUID, dict]] = field(default_factory=list)
    fail_with: Exception | None = None
    lock_seen: list[bool] = field(default_factory=list)


@pytest.fixture
def effects(monkeypatch, razorpay_app) -> Recorded:
    """The effects' entry points, recorded (each also checks that its row is locked)."""
    recorded = Recorded()
    db = razorpay_app.state.runtime.db

    async def locked(payment: OnlinePayment) -> bool:
        async with db.transaction(payment.tenant_id) as other:
            stmt = select(OnlinePayment.id).where(OnlinePayment.id == payment.id).with_for_update(nowait=True)
            try:
                await other.execute(stmt)
            except DBAPIError:
                return True
            return False

    async def on_captured(session, ctx, payment, *, razorpay_payment_id, amount_paise, source):
        recorded.lock_seen.append(await locked(payment))
        recorded.calls.append(("captured", payment.id, {"payment": razorpay_payment_id, "amount": amount_paise}))
        recorded.calls[-1][2]["source"] = source
        if recorded.fail_with is not None:
            raise recorded.fail_with
        return "receipt-made"

    async def on_failed(session, ctx, payment, *, razorpay_payment_id, reason):
        recorded.lock_seen.append(await locked(payment))
        recorded.calls.append(("failed", payment.id, {"payment": razorpay_payment_id, "reason": reason}))
        return "marked-failed"

    async def on_refund_event(session, ctx, payment, refund, *, razorpay_refund_id, status, amount_paise, reason):
        recorded.lock_seen.append(await locked(payment))
        details = {"refund": refund.id if refund else None, "razorpay_refund_id": razorpay_refund_id}
        recorded.calls.append(("refund", payment.id, details | {"status": status, "amount": amount_paise}))
        return f"refund-{status}"

    monkeypatch.setattr(online_payments, "on_captured", on_captured)
    monkeypatch.setattr(online_payments, "on_failed", on_failed)
    monkeypatch.setattr(refunds, "on_refund_event", on_refund_event)
    return recorded


@dataclass
class Shop:
    """A tenant with its own Razorpay account saved, an issued invoice, and a payment link for it."""

    owner: Account
    account: RazorpayAccount
    gateway: dict
    payment: OnlinePayment
    link_id: str

    @property
    def url(self) -> str:
        return webhook_path(self.gateway)


async def shop(client: httpx.AsyncClient, app, fake: FakeRazorpay) -> Shop:
    owner = await make_tenant(client)
    account = fake.account()
    gateway = await configure_gateway(client, owner, account)
    party = await Party.make(client, owner)
    invoice = await party.invoice(client)
    tenant = uuid.UUID(owner.tenant_id)
    payment_id = new_id()
    live = LiveTenantGateway(
        key_id=account.key_id,
        key_secret=account.key_secret,
        webhook_secret=account.webhook_secret,
        base_url=fake.url,
        timeout=5.0,
        max_retries=0,
    )
    link = await live.create_payment_link(
        amount_paise=118_000,
        reference_id=invoice["number"],
        description="Invoice",
        customer={"name": "Asha"},
        expire_by=datetime.now(UTC) + timedelta(days=7),
        notes={"online_payment_id": str(payment_id)},
        callback_url=None,
    )
    async with app.state.runtime.db.transaction(tenant) as session:
        payment = OnlinePayment(
            id=payment_id,
            tenant_id=tenant,
            purpose="invoice",
            invoice_id=uuid.UUID(invoice["id"]),
            company_id=uuid.UUID(party.company["id"]),
            customer_id=uuid.UUID(party.customer["id"]),
            gateway_kind="payment_link",
            gateway_ref=link.id,
            short_url=link.short_url,
            amount=Decimal("1180.00"),
        )
        session.add(payment)
    return Shop(owner, account, gateway, payment, link.id)


async def events(app, owner: Account) -> list[tuple[str, str, uuid.UUID | None, uuid.UUID | None, str]]:
    async with app.state.runtime.db.transaction(uuid.UUID(owner.tenant_id)) as session:
        rows = await session.execute(
            select(
                GatewayEvent.event_id,
                GatewayEvent.event_type,
                GatewayEvent.online_payment_id,
                GatewayEvent.refund_id,
                GatewayEvent.outcome,
            ).order_by(GatewayEvent.received_at, GatewayEvent.event_id)
        )
        return [tuple(row) for row in rows]


async def mark_paid(app, shop_: Shop, razorpay_payment_id: str) -> None:
    async with app.state.runtime.db.transaction(uuid.UUID(shop_.owner.tenant_id)) as session:
        payment = await session.get(OnlinePayment, (uuid.UUID(shop_.owner.tenant_id), shop_.payment.id))
        assert payment is not None
        payment.status, payment.paid_at = "paid", datetime.now(UTC)
        payment.razorpay_payment_id, payment.amount_paid = razorpay_payment_id, Decimal("1180.00")


def result(response: httpx.Response) -> tuple[str, str]:
    assert response.status_code == 200, response.text
    return response.json()["result"], response.json()["detail"]


class TestVerification:
    async def test_an_event_signed_with_another_tenants_secret_is_refused(
        self, razorpay_client, razorpay_app, fake_razorpay, effects
    ):
        a = await shop(razorpay_client, razorpay_app, fake_razorpay)
        b = await shop(razorpay_client, razorpay_app, fake_razorpay)
        fake_razorpay.pay_link(a.link_id)
        # A's event signed with B's webhook secret, to A's URL; and A's rightly signed event to B's URL.
        forged = fake_razorpay.link_paid_event(a.account, a.link_id, sign_with=b.account.webhook_secret)
        genuine = fake_razorpay.link_paid_event(a.account, a.link_id)
        for url, (body, headers) in ((a.url, forged), (b.url, genuine)):
            response = await razorpay_client.post(url, content=body, headers=headers)
            assert problem_code(response, 400) == "signature-invalid"
        assert effects.calls == [] and await events(razorpay_app, a.owner) == []
        assert await events(razorpay_app, b.owner) == []
        body, headers = genuine
        assert result(await razorpay_client.post(a.url, content=body, headers=headers)) == (
            "processed",
            "receipt-made",
        )
        assert [(kind, payment) for kind, payment, _ in effects.calls] == [("captured", a.payment.id)]

    async def test_unsigned_tampered_or_resigned_bodies_are_400_and_write_nothing(
        self, razorpay_client, razorpay_app, fake_razorpay, effects
    ):
        a = await shop(razorpay_client, razorpay_app, fake_razorpay)
        fake_razorpay.pay_link(a.link_id)
        body, headers = fake_razorpay.link_paid_event(a.account, a.link_id)
        unsigned = {k: v for k, v in headers.items() if k != "X-Razorpay-Signature"}
        one_byte_off = body.replace(b'"amount": 118000', b'"amount": 118001', 1)
        assert one_byte_off != body
        saas_signed = fake_razorpay.link_paid_event(a.account, a.link_id, sign_with=fake_razorpay.webhook_secret)
        key_signed = fake_razorpay.link_paid_event(a.account, a.link_id, sign_with=a.account.key_secret)
        for attempt_body, attempt_headers in (
            (body, unsigned),
            (one_byte_off, headers),
            (body + b" ", headers),
            (body, headers | {"X-Razorpay-Signature": "0" * 64}),
            (body, headers | {"X-Razorpay-Signature": headers["X-Razorpay-Signature"].upper()}),
            saas_signed,
            key_signed,
        ):
            response = await razorpay_client.post(a.url, content=attempt_body, headers=attempt_headers)
            assert problem_code(response, 400) == "signature-invalid"
        assert effects.calls == [] and await events(razorpay_app, a.owner) == []

    async def test_an_unknown_webhook_id_is_404(self, razorpay_client, fake_razorpay, effects):
        account = fake_razorpay.account()
        body, headers = fake_razorpay.payment_event(account, "payment.captured", "order_q1", "pay_q1")
        for webhook_id in ("A" * 24, "no-such-webhook-id-0001"):
            response = await razorpay_client.post(
                f"/api/v1/webhooks/razorpay/{webhook_id}", content=body, headers=headers
            )
            assert problem_code(response, 404) == "not-found"
        response = await razorpay_client.post("/api/v1/webhooks/razorpay/short", content=body, headers=headers)
        assert problem_code(response, 422) == "validation-error"

    @pytest.mark.parametrize(
        "raw",
        [b"not json", b"[]", b'{"payload": {}}', b'{"event": ""}', b'{"event": "payment.captured", "x": "a\\u0000b"}'],
    )
    async def test_a_signed_body_that_is_no_event_is_400(
        self, razorpay_client, razorpay_app, fake_razorpay, effects, raw
    ):
        a = await shop(razorpay_client, razorpay_app, fake_razorpay)
        headers = {"X-Razorpay-Signature": signature(a.account.webhook_secret, raw), "Content-Type": "application/json"}
        response = await razorpay_client.post(a.url, content=raw, headers=headers)
        assert problem_code(response, 400) == "webhook-malformed"
        assert effects.calls == [] and await events(razorpay_app, a.owner) == []


class TestCapture:
    async def test_payment_link_paid_hands_the_locked_payment_to_on_captured_once(
        self, razorpay_client, razorpay_app, fake_razorpay, effects
    ):
        a = await shop(razorpay_client, razorpay_app, fake_razorpay)
        paid = fake_razorpay.pay_link(a.link_id)
        body, headers = fake_razorpay.link_paid_event(a.account, a.link_id)
        assert result(await razorpay_client.post(a.url, content=body, headers=headers)) == (
            "processed",
            "receipt-made",
        )
        details = {"payment": paid["razorpay_payment_id"], "amount": 118_000, "source": "webhook"}
        assert effects.calls == [("captured", a.payment.id, details)]
        assert effects.lock_seen == [True]
        assert await events(razorpay_app, a.owner) == [
            (headers["X-Razorpay-Event-Id"], "payment_link.paid", a.payment.id, None, "receipt-made")
        ]

    async def test_replayed_20_times_10_at_once_has_one_effect(
        self, razorpay_client, razorpay_app, fake_razorpay, effects
    ):
        a = await shop(razorpay_client, razorpay_app, fake_razorpay)
        fake_razorpay.pay_link(a.link_id)
        body, headers = fake_razorpay.link_paid_event(a.account, a.link_id)

        async def deliver() -> tuple[str, str]:
            return result(await razorpay_client.post(a.url, content=body, headers=headers))

        answers = list(await asyncio.gather(*(deliver() for _ in range(10))))
        answers += [await deliver() for _ in range(10)]
        assert sorted(kind for kind, _ in answers) == ["duplicate"] * 19 + ["processed"]
        assert len(effects.calls) == 1 and len(await events(razorpay_app, a.owner)) == 1

    async def test_payment_captured_finds_the_payment_by_the_notes_when_it_names_no_link(
        self, razorpay_client, razorpay_app, fake_razorpay, effects
    ):
        a = await shop(razorpay_client, razorpay_app, fake_razorpay)
        notes = {"online_payment_id": str(a.payment.id)}
        body, headers = fake_razorpay.payment_event(
            a.account, "payment.captured", "order_linkorder01", "pay_bynotes01", amount=118_000, notes=notes
        )
        assert result(await razorpay_client.post(a.url, content=body, headers=headers))[0] == "processed"
        details = {"payment": "pay_bynotes01", "amount": 118_000, "source": "webhook"}
        assert effects.calls == [("captured", a.payment.id, details)]

    async def test_an_effect_that_fails_leaves_the_event_unclaimed_for_the_next_delivery(
        self, razorpay_client, razorpay_app, fake_razorpay, effects
    ):
        a = await shop(razorpay_client, razorpay_app, fake_razorpay)
        fake_razorpay.pay_link(a.link_id)
        body, headers = fake_razorpay.link_paid_event(a.account, a.link_id)
        effects.fail_with = Conflict("not now", code="conflict")
        assert problem_code(await razorpay_client.post(a.url, content=body, headers=headers), 409) == "conflict"
        assert await events(razorpay_app, a.owner) == []  # the claim went with the effect's transaction
        effects.fail_with = None
        assert result(await razorpay_client.post(a.url, content=body, headers=headers))[0] == "processed"
        assert len(effects.calls) == 2 and len(await events(razorpay_app, a.owner)) == 1

    async def test_events_for_payments_not_ours_or_of_other_types_are_ignored_and_write_nothing(
        self, razorpay_client, razorpay_app, fake_razorpay, effects
    ):
        a = await shop(razorpay_client, razorpay_app, fake_razorpay)
        b = await shop(razorpay_client, razorpay_app, fake_razorpay)
        for body, headers in (
            fake_razorpay.payment_event(a.account, "payment.captured", "order_notours001", "pay_notours001"),
            fake_razorpay.payment_event(a.account, "payment.failed", None, "pay_notours002"),
            # B's payment named in A's notes, signed by A: A's webhook looks only in A's rows.
            fake_razorpay.payment_event(
                a.account, "payment.captured", None, "pay_notours003", notes={"online_payment_id": str(b.payment.id)}
            ),
            fake_razorpay.refund_event(a.account, "refund.processed", "rfnd_notours01", payment_id="pay_x", amount=100),
            fake_razorpay.payment_event(a.account, "invoice.paid", "order_notours004", "pay_notours004"),
        ):
            kind, _ = result(await razorpay_client.post(a.url, content=body, headers=headers))
            assert kind == "ignored"
        assert effects.calls == [] and await events(razorpay_app, a.owner) == []

    async def test_a_capture_without_a_usable_amount_is_recorded_but_not_applied(
        self, razorpay_client, razorpay_app, fake_razorpay, effects
    ):
        a = await shop(razorpay_client, razorpay_app, fake_razorpay)
        body, headers = fake_razorpay.link_paid_event(a.account, a.link_id, payment_id="pay_usd0001")
        body = body.replace(b'"currency": "INR"', b'"currency": "USD"')
        headers = headers | {"X-Razorpay-Signature": signature(a.account.webhook_secret, body)}
        assert result(await razorpay_client.post(a.url, content=body, headers=headers)) == (
            "processed",
            "currency-or-amount-unusable",
        )
        assert effects.calls == []
        assert [row[-1] for row in await events(razorpay_app, a.owner)] == ["currency-or-amount-unusable"]


class TestFailureAndRefunds:
    async def test_payment_failed_goes_to_on_failed_with_the_reason(
        self, razorpay_client, razorpay_app, fake_razorpay, effects
    ):
        a = await shop(razorpay_client, razorpay_app, fake_razorpay)
        notes = {"online_payment_id": str(a.payment.id)}
        body, headers = fake_razorpay.payment_event(
            a.account, "payment.failed", "order_failed0001", "pay_failed0001", amount=118_000, notes=notes
        )
        assert result(await razorpay_client.post(a.url, content=body, headers=headers)) == (
            "processed",
            "marked-failed",
        )
        assert effects.calls == [
            ("failed", a.payment.id, {"payment": "pay_failed0001", "reason": "Payment failed at the bank"})
        ]

    async def test_refund_events_reach_on_refund_event_with_our_refund_or_none(
        self, razorpay_client, razorpay_app, fake_razorpay, effects
    ):
        a = await shop(razorpay_client, razorpay_app, fake_razorpay)
        paid = fake_razorpay.pay_link(a.link_id)
        await mark_paid(razorpay_app, a, paid["razorpay_payment_id"])
        tenant = uuid.UUID(a.owner.tenant_id)
        live = LiveTenantGateway(
            key_id=a.account.key_id,
            key_secret=a.account.key_secret,
            webhook_secret=a.account.webhook_secret,
            base_url=fake_razorpay.url,
            timeout=5.0,
            max_retries=0,
        )
        made = await live.refund(payment_id=paid["razorpay_payment_id"], amount_paise=18_000, receipt="r", notes={})
        refund_id = new_id()
        async with razorpay_app.state.runtime.db.transaction(tenant) as session:
            session.add(
                Refund(
                    id=refund_id,
                    tenant_id=tenant,
                    online_payment_id=a.payment.id,
                    amount=Decimal("180.00"),
                    razorpay_refund_id=made.id,
                )
            )
        fake_razorpay.settle_refund(made.id, "processed")
        body, headers = fake_razorpay.refund_event(a.account, "refund.processed", made.id)
        assert result(await razorpay_client.post(a.url, content=body, headers=headers)) == (
            "processed",
            "refund-processed",
        )
        # A refund made in Razorpay's dashboard: no refund row of ours.
        body, headers = fake_razorpay.refund_event(
            a.account, "refund.failed", "rfnd_dashboard01", payment_id=paid["razorpay_payment_id"], amount=5_000
        )
        assert result(await razorpay_client.post(a.url, content=body, headers=headers))[0] == "processed"
        assert effects.calls == [
            (
                "refund",
                a.payment.id,
                {"refund": refund_id, "razorpay_refund_id": made.id, "status": "processed", "amount": 18_000},
            ),
            (
                "refund",
                a.payment.id,
                {"refund": None, "razorpay_refund_id": "rfnd_dashboard01", "status": "failed", "amount": 5_000},
            ),
        ]
        assert effects.lock_seen == [True, True]
        assert [(row[1], row[3], row[4]) for row in await events(razorpay_app, a.owner)] == [
            ("refund.processed", refund_id, "refund-processed"),
            ("refund.failed", None, "refund-failed"),
        ]
