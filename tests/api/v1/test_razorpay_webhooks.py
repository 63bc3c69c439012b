"""POST /webhooks/razorpay: raw-body signatures, one effect per event id however often and however
concurrently it arrives, states only moving forward, and the race with checkout verification."""

import asyncio
import hashlib
import hmac
import json

import httpx

from tests.api.v1.payment_flow import order, paid_rows, payments, problem_code, verify
from tests.api.v1.subscription_rows import history, subscription
from tests.factories import API, Account, make_tenant
from tests.fake_razorpay import FakeRazorpay, fake_razorpay, razorpay_app, razorpay_client

__all__ = ["fake_razorpay", "razorpay_app", "razorpay_client"]  # fixtures
WEBHOOK = f"{API}/webhooks/razorpay"


async def deliver(client: httpx.AsyncClient, body: bytes, headers: dict[str, str]) -> httpx.Response:
    return await client.post(WEBHOOK, content=body, headers=headers)


async def ordered(client: httpx.AsyncClient, fake: FakeRazorpay) -> tuple[Account, dict, str]:
    """A tenant with an order, and the id of a payment made for it."""
    owner = await make_tenant(client)
    body = await order(client, owner)
    return owner, body, fake.pay(body["order_id"])["razorpay_payment_id"]


def result(response: httpx.Response) -> tuple[str, str]:
    assert response.status_code == 200, response.text
    return response.json()["result"], response.json()["detail"]


async def state(client: httpx.AsyncClient, app, owner: Account) -> tuple:
    return await payments(client, owner), await history(app, owner.tenant_id)


class TestSignature:
    async def test_unsigned_tampered_or_wrongly_signed_is_400_and_writes_nothing(
        self, razorpay_client, razorpay_app, fake_razorpay
    ):
        owner, body, payment_id = await ordered(razorpay_client, fake_razorpay)
        raw, headers = fake_razorpay.event("payment.captured", body["order_id"], payment_id)
        before = await state(razorpay_client, razorpay_app, owner)
        unsigned = {k: v for k, v in headers.items() if k != "X-Razorpay-Signature"}
        one_byte_off = raw.replace(b'"amount": 99900', b'"amount": 99901')
        assert one_byte_off != raw
        other_secret = FakeRazorpay(webhook_secret="not-our-secret").event(
            "payment.captured", body["order_id"], payment_id
        )
        for attempt_body, attempt_headers in (
            (raw, unsigned),
            (one_byte_off, headers),
            (raw + b" ", headers),
            other_secret,
            (raw, headers | {"X-Razorpay-Signature": "z" * 64}),
        ):
            response = await deliver(razorpay_client, attempt_body, attempt_headers)
            assert problem_code(response, 400) == "signature-invalid"
        assert await state(razorpay_client, razorpay_app, owner) == before
        # the same event id, correctly signed, is still new: the refused ones left no trace
        assert result(await deliver(razorpay_client, raw, headers)) == ("processed", "captured")

    async def test_no_bearer_token_is_needed_and_a_body_over_the_limit_is_413(self, razorpay_client, razorpay_app):
        big = b"{" + b" " * (razorpay_app.state.runtime.settings.max_body_bytes + 1) + b"}"
        assert (await razorpay_client.post(WEBHOOK, content=big)).status_code == 413
        assert problem_code(await razorpay_client.post(WEBHOOK, content=b"{}"), 400) == "signature-invalid"


class TestEffects:
    async def test_payment_captured_activates_the_plan(self, razorpay_client, razorpay_app, fake_razorpay):
        owner, body, payment_id = await ordered(razorpay_client, fake_razorpay)
        raw, headers = fake_razorpay.event("payment.captured", body["order_id"], payment_id)
        assert result(await deliver(razorpay_client, raw, headers)) == ("processed", "captured")
        [payment] = await payments(razorpay_client, owner)
        assert (payment["status"], payment["razorpay_payment_id"]) == ("captured", payment_id)
        assert payment["event_ids"] == [headers["X-Razorpay-Event-Id"]] and payment["period_end"]
        sub = await subscription(razorpay_client, owner)
        assert (sub["plan"]["code"], sub["status"], sub["current_period_end"]) == (
            "standard",
            "active",
            payment["period_end"],
        )

    async def test_20_replays_then_10_at_once_have_one_effect(self, razorpay_client, razorpay_app, fake_razorpay):
        owner, body, payment_id = await ordered(razorpay_client, fake_razorpay)
        raw, headers = fake_razorpay.event("payment.captured", body["order_id"], payment_id)
        concurrent = await asyncio.gather(*(deliver(razorpay_client, raw, headers) for _ in range(10)))
        sequential = [await deliver(razorpay_client, raw, headers) for _ in range(20)]
        results = [result(r)[0] for r in concurrent + sequential]
        assert sorted(results) == ["duplicate"] * 29 + ["processed"]
        assert len(await paid_rows(razorpay_app, owner.tenant_id)) == 1
        [payment] = await payments(razorpay_client, owner)
        assert payment["event_ids"] == [headers["X-Razorpay-Event-Id"]]

    async def test_order_paid_and_payment_captured_for_one_payment_activate_once(
        self, razorpay_client, razorpay_app, fake_razorpay
    ):
        owner, body, payment_id = await ordered(razorpay_client, fake_razorpay)
        captured = fake_razorpay.event("payment.captured", body["order_id"], payment_id)
        paid = fake_razorpay.event("order.paid", body["order_id"], payment_id)
        outcomes = await asyncio.gather(deliver(razorpay_client, *captured), deliver(razorpay_client, *paid))
        assert sorted(result(r)[1] for r in outcomes) == ["already-captured", "captured"]
        assert len(await paid_rows(razorpay_app, owner.tenant_id)) == 1
        [payment] = await payments(razorpay_client, owner)
        assert len(payment["event_ids"]) == 2

    async def test_payment_failed_after_captured_changes_nothing(self, razorpay_client, razorpay_app, fake_razorpay):
        owner, body, payment_id = await ordered(razorpay_client, fake_razorpay)
        captured = fake_razorpay.event("payment.captured", body["order_id"], payment_id)
        assert result(await deliver(razorpay_client, *captured)) == ("processed", "captured")
        before_sub = await subscription(razorpay_client, owner)
        [before] = await payments(razorpay_client, owner)
        failed = fake_razorpay.event("payment.failed", body["order_id"], payment_id)
        assert result(await deliver(razorpay_client, *failed)) == ("processed", "already-captured")
        [after] = await payments(razorpay_client, owner)
        assert {k: v for k, v in after.items() if k != "event_ids"} == {
            k: v for k, v in before.items() if k != "event_ids"
        }
        assert after["status"] == "captured" and after["failure_reason"] is None
        assert await subscription(razorpay_client, owner) == before_sub
        assert len(await paid_rows(razorpay_app, owner.tenant_id)) == 1

    async def test_a_failed_attempt_then_a_capture_activates(self, razorpay_client, razorpay_app, fake_razorpay):
        owner, body, first_attempt = await ordered(razorpay_client, fake_razorpay)
        failed = fake_razorpay.event("payment.failed", body["order_id"], first_attempt)
        assert result(await deliver(razorpay_client, *failed)) == ("processed", "failed")
        [payment] = await payments(razorpay_client, owner)
        assert (payment["status"], payment["failure_reason"]) == ("failed", "Payment failed at the bank")
        assert (await subscription(razorpay_client, owner))["status"] == "trialing"
        retry = fake_razorpay.pay(body["order_id"])
        assert (await verify(razorpay_client, owner, retry)).status_code == 200
        [payment] = await payments(razorpay_client, owner)
        assert (payment["status"], payment["razorpay_payment_id"]) == ("captured", retry["razorpay_payment_id"])
        assert (await subscription(razorpay_client, owner))["status"] == "active"

    async def test_captured_by_webhook_then_verify_is_still_one_activation(
        self, razorpay_client, razorpay_app, fake_razorpay
    ):
        owner = await make_tenant(razorpay_client)
        body = await order(razorpay_client, owner)
        checkout = fake_razorpay.pay(body["order_id"])
        event = fake_razorpay.event("payment.captured", body["order_id"], checkout["razorpay_payment_id"])
        assert result(await deliver(razorpay_client, *event))[1] == "captured"
        verified = await verify(razorpay_client, owner, checkout)
        assert verified.status_code == 200 and verified.json()["status"] == "captured"
        assert len(await paid_rows(razorpay_app, owner.tenant_id)) == 1

    async def test_verify_and_webhooks_racing_activate_once(self, razorpay_client, razorpay_app, fake_razorpay):
        owner = await make_tenant(razorpay_client)
        body = await order(razorpay_client, owner)
        checkout = fake_razorpay.pay(body["order_id"])
        events = [
            fake_razorpay.event(kind, body["order_id"], checkout["razorpay_payment_id"])
            for kind in ("payment.captured", "order.paid", "payment.captured")
        ]
        responses = await asyncio.gather(
            *(verify(razorpay_client, owner, checkout) for _ in range(5)),
            *(deliver(razorpay_client, *event) for event in events),
        )
        assert [r.status_code for r in responses] == [200] * 8, [r.text for r in responses]
        assert len(await paid_rows(razorpay_app, owner.tenant_id)) == 1
        [payment] = await payments(razorpay_client, owner)
        assert payment["status"] == "captured" and len(payment["event_ids"]) == 3


class TestIgnored:
    async def test_an_unknown_order_is_200_ignored_so_razorpay_stops_retrying(self, razorpay_client, fake_razorpay):
        raw, headers = fake_razorpay.event("payment.captured", "order_notours000001", "pay_notours000001")
        assert result(await deliver(razorpay_client, raw, headers)) == ("ignored", "unknown order")

    async def test_other_event_types_are_ignored(self, razorpay_client, razorpay_app, fake_razorpay):
        owner, body, payment_id = await ordered(razorpay_client, fake_razorpay)
        raw, headers = fake_razorpay.event("payment.authorized", body["order_id"], payment_id)
        assert result(await deliver(razorpay_client, raw, headers))[0] == "ignored"
        [payment] = await payments(razorpay_client, owner)
        assert (payment["status"], payment["event_ids"]) == ("created", [])

    async def test_a_capture_of_another_amount_does_not_activate(self, razorpay_client, razorpay_app, fake_razorpay):
        owner, body, payment_id = await ordered(razorpay_client, fake_razorpay)
        raw, headers = fake_razorpay.event("payment.captured", body["order_id"], payment_id, amount=100)
        assert result(await deliver(razorpay_client, raw, headers)) == ("processed", "amount-mismatch")
        [payment] = await payments(razorpay_client, owner)
        assert payment["status"] == "created" and await paid_rows(razorpay_app, owner.tenant_id) == []

    async def test_a_signed_body_that_is_not_an_event_is_400(self, razorpay_client, fake_razorpay):
        for raw in (b"not json", b"[1, 2]", json.dumps({"payload": {}}).encode()):
            headers = {"X-Razorpay-Signature": _sign(fake_razorpay, raw), "X-Razorpay-Event-Id": "evt_malformed"}
            assert problem_code(await deliver(razorpay_client, raw, headers), 400) == "webhook-malformed"

    async def test_a_signed_body_nested_100000_deep_is_400(self, razorpay_client, fake_razorpay):
        """json.loads raises RecursionError, not ValueError, on such a body (200 kB, under the limit)."""
        for raw in (b'{"event":"payment.captured","payload":' + b"[" * 100_000 + b"]" * 100_000 + b"}", b"[" * 100_000):
            headers = {"X-Razorpay-Signature": _sign(fake_razorpay, raw), "X-Razorpay-Event-Id": "evt_deep"}
            assert problem_code(await deliver(razorpay_client, raw, headers), 400) == "webhook-malformed"

    async def test_a_signed_event_with_a_nul_in_a_string_is_400_and_writes_nothing(
        self, razorpay_client, razorpay_app, fake_razorpay
    ):
        """PostgreSQL cannot store a NUL or a lone surrogate in text: refused whole, wherever it is."""
        owner, body, payment_id = await ordered(razorpay_client, fake_razorpay)
        failed, _ = fake_razorpay.event("payment.failed", body["order_id"], payment_id)
        event = json.loads(failed)
        entity = {**event["payload"]["payment"]["entity"], "error_description": "bank\u0000"}
        tampered = [
            {**event, "payload": {"payment": {"entity": entity}}},
            {**event, "event": "payment.failed\u0000"},
            {**event, "extra\u0000key": 1},
            {**event, "payload": {"payment": {"entity": {**entity, "error_description": "bank \ud800"}}}},
        ]
        for i, data in enumerate(tampered):
            raw = json.dumps(data).encode()
            headers = {"X-Razorpay-Signature": _sign(fake_razorpay, raw), "X-Razorpay-Event-Id": f"evt_nul{i}"}
            assert problem_code(await deliver(razorpay_client, raw, headers), 400) == "webhook-malformed"
        [payment] = await payments(razorpay_client, owner)
        assert payment["status"] == "created" and payment["event_ids"] == []
        assert await paid_rows(razorpay_app, owner.tenant_id) == []


def _sign(fake: FakeRazorpay, raw: bytes) -> str:
    return hmac.new(fake.webhook_secret.encode(), raw, hashlib.sha256).hexdigest()
