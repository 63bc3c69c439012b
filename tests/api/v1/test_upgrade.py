"""Paid upgrade: an order through the (fake) Razorpay Orders API, Checkout's signed result verified,
the plan active exactly once; bounded retries; locked tenants can still pay; the sandbox mode."""

import asyncio
import calendar
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from cryptography.fernet import Fernet
from pydantic import ValidationError

from app.core.config import Settings
from app.main import create_app
from app.services.platform.razorpay import SANDBOX_KEY_ID
from tests.api.v1.members import add_member
from tests.api.v1.payment_flow import add_month, order, paid_rows, payments, problem_code, upgrade, verify
from tests.api.v1.subscription_rows import history, subscription
from tests.conftest import free_port, fresh_ip
from tests.factories import API, make_tenant
from tests.fake_razorpay import (
    KEY_ID,
    KEY_SECRET,
    fake_razorpay,
    live_settings,
    razorpay_app,
    razorpay_client,
)

__all__ = ["fake_razorpay", "razorpay_app", "razorpay_client"]  # fixtures
STANDARD_PAISE = 99_900


def next_january_31(*, after: datetime) -> datetime:
    """06:00 UTC on the first 31 January after `after`: a month end that the next month clamps."""
    candidate = datetime(after.year, 1, 31, 6, tzinfo=UTC)
    return candidate if candidate > after else candidate.replace(year=after.year + 1)


def at(app, moment: datetime) -> None:
    app.state.runtime.clock = lambda: moment


class TestOrder:
    async def test_an_order_is_made_through_the_orders_api(self, razorpay_client, fake_razorpay):
        owner = await make_tenant(razorpay_client)
        body = await order(razorpay_client, owner)
        assert {k: body[k] for k in ("amount", "currency", "key_id", "plan", "sandbox", "sandbox_checkout")} == {
            "amount": "999.00",
            "currency": "INR",
            "key_id": KEY_ID,
            "plan": "standard",
            "sandbox": False,
            "sandbox_checkout": None,
        }
        [call] = fake_razorpay.calls
        assert call.auth == (KEY_ID, KEY_SECRET)
        assert body["order_id"] in fake_razorpay.orders
        assert call.body == {
            "amount": STANDARD_PAISE,
            "currency": "INR",
            "receipt": uuid.UUID(body["payment_id"]).hex,
            "notes": {"tenant_id": owner.tenant_id, "plan": "standard", "payment_id": body["payment_id"]},
        }
        [payment] = await payments(razorpay_client, owner)
        assert (payment["id"], payment["razorpay_order_id"], payment["status"], payment["amount"]) == (
            body["payment_id"],
            body["order_id"],
            "created",
            "999.00",
        )
        # Rupee strings with a currency everywhere; paise only where Razorpay Checkout takes them.
        assert (body["amount"], body["currency"], body["checkout_amount"]) == ("999.00", "INR", STANDARD_PAISE)
        assert payment["currency"] == "INR" and "amount_paise" not in payment
        assert (payment["razorpay_payment_id"], payment["period_start"], payment["sandbox"]) == (None, None, False)

    async def test_premium_costs_its_own_price(self, razorpay_client):
        owner = await make_tenant(razorpay_client)
        premium = await order(razorpay_client, owner, "premium")
        assert (premium["amount"], premium["checkout_amount"]) == ("2499.00", 249_900)

    @pytest.mark.parametrize(
        ("plan", "status", "code"),
        [
            ("trial", 400, "plan-not-purchasable"),
            ("free", 400, "plan-not-purchasable"),
            ("gold", 404, "plan-not-found"),
        ],
    )
    async def test_plans_that_cannot_be_bought(self, razorpay_client, fake_razorpay, plan, status, code):
        owner = await make_tenant(razorpay_client)
        assert problem_code(await upgrade(razorpay_client, owner, plan), status) == code
        assert fake_razorpay.calls == [] and await payments(razorpay_client, owner) == []

    async def test_only_owner_and_admin_may_upgrade(self, razorpay_client, mailbox):
        owner = await make_tenant(razorpay_client)
        for role in ("accountant", "viewer"):
            member = await add_member(razorpay_client, mailbox, owner, role)
            assert problem_code(await upgrade(razorpay_client, member), 403) == "role-forbidden"
        admin = await add_member(razorpay_client, mailbox, owner, "admin")
        assert (await upgrade(razorpay_client, admin)).status_code == 201

    async def test_the_same_idempotency_key_makes_one_order(self, razorpay_client, fake_razorpay):
        owner = await make_tenant(razorpay_client)
        key = {"Idempotency-Key": f"upgrade-{uuid.uuid4()}"}
        first = await upgrade(razorpay_client, owner, **key)
        again = await upgrade(razorpay_client, owner, **key)
        assert first.status_code == again.status_code == 201
        assert first.json() == again.json() and again.headers["Idempotent-Replayed"] == "true"
        assert len(fake_razorpay.calls) == 1 and len(await payments(razorpay_client, owner)) == 1
        other = await upgrade(razorpay_client, owner, "premium", **key)
        assert problem_code(other, 422) == "idempotency-key-reused"


class TestRetries:
    async def test_500s_are_retried_then_the_order_is_made(self, razorpay_client, fake_razorpay):
        owner = await make_tenant(razorpay_client)
        fake_razorpay.fail_next(2)
        body = await order(razorpay_client, owner)
        assert len(fake_razorpay.calls) == 3 and body["order_id"] in fake_razorpay.orders

    async def test_retries_are_bounded_then_503_and_nothing_is_stored(self, razorpay_client, fake_razorpay):
        owner = await make_tenant(razorpay_client)
        fake_razorpay.fail_next(10, status=503)
        response = await upgrade(razorpay_client, owner)
        assert problem_code(response, 503) == "payment-gateway-unavailable" and response.headers["Retry-After"]
        assert len(fake_razorpay.calls) == 3  # RAZORPAY_MAX_RETRIES=2: one try and two retries
        assert await payments(razorpay_client, owner) == []

    async def test_a_4xx_is_not_retried_and_answers_502(self, razorpay_client, fake_razorpay):
        owner = await make_tenant(razorpay_client)
        fake_razorpay.fail_next(3, status=400)
        assert problem_code(await upgrade(razorpay_client, owner), 502) == "payment-gateway-error"
        assert len(fake_razorpay.calls) == 1 and await payments(razorpay_client, owner) == []

    async def test_wrong_keys_answer_502_not_500(self, settings, fake_razorpay):
        app = create_app(live_settings(settings, fake_razorpay, razorpay_key_secret="not-the-secret"))
        async with app.router.lifespan_context(app), client_for(app) as client:
            owner = await make_tenant(client)
            assert problem_code(await upgrade(client, owner), 502) == "payment-gateway-error"

    async def test_razorpay_unreachable_is_503(self, settings, fake_razorpay):
        closed = f"http://127.0.0.1:{free_port()}"  # bound and released: nothing listens
        app = create_app(live_settings(settings, fake_razorpay, razorpay_base_url=closed, razorpay_max_retries=1))
        async with app.router.lifespan_context(app), client_for(app) as client:
            owner = await make_tenant(client)
            assert problem_code(await upgrade(client, owner), 503) == "payment-gateway-unavailable"
            assert await payments(client, owner) == []


def client_for(app) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(fresh_ip(), 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://test", timeout=60)


class TestVerify:
    async def test_order_then_verify_makes_the_plan_active_for_a_month(
        self, razorpay_client, razorpay_app, fake_razorpay
    ):
        owner = await make_tenant(razorpay_client)
        now = datetime.now(UTC).replace(microsecond=0) + timedelta(days=7)  # inside the 14-day trial
        at(razorpay_app, now)
        body = await order(razorpay_client, owner)
        checkout = fake_razorpay.pay(body["order_id"])
        response = await verify(razorpay_client, owner, checkout)
        assert response.status_code == 200, response.text
        paid = response.json()
        assert (paid["status"], paid["razorpay_payment_id"], paid["plan"]) == (
            "captured",
            checkout["razorpay_payment_id"],
            "standard",
        )
        end = add_month(now)
        assert (datetime.fromisoformat(paid["period_start"]), datetime.fromisoformat(paid["period_end"])) == (now, end)
        sub = await subscription(razorpay_client, owner)
        assert (sub["plan"]["code"], sub["status"], sub["trial_days_remaining"]) == ("standard", "active", 0)
        assert datetime.fromisoformat(sub["current_period_end"]) == end
        assert sub["limits"]["customers"]["limit"] is None
        assert [p["status"] for p in await payments(razorpay_client, owner)] == ["captured"]
        logs = await razorpay_client.get(f"{API}/audit-logs", params={"limit": 100}, headers=owner.headers)
        actions = [row["action"] for row in logs.json()["items"]]
        assert actions.count("subscription.activated") == 1 and actions.count("payment.captured") == 1

    async def test_a_tampered_signature_is_400_and_changes_nothing(self, razorpay_client, razorpay_app, fake_razorpay):
        owner = await make_tenant(razorpay_client)
        body = await order(razorpay_client, owner)
        checkout = fake_razorpay.pay(body["order_id"])
        before = (await payments(razorpay_client, owner), await history(razorpay_app, owner.tenant_id))
        flipped = checkout["razorpay_signature"][:-1] + ("0" if checkout["razorpay_signature"][-1] != "0" else "1")
        other_payment = fake_razorpay.pay(body["order_id"])["razorpay_payment_id"]
        signed_with_another_key = fake_razorpay.pay(body["order_id"]) | {"razorpay_signature": "ab" * 32}
        for tampered in (
            checkout | {"razorpay_signature": flipped},
            checkout | {"razorpay_payment_id": other_payment},
            signed_with_another_key,
        ):
            assert problem_code(await verify(razorpay_client, owner, tampered), 400) == "signature-invalid"
        after = (await payments(razorpay_client, owner), await history(razorpay_app, owner.tenant_id))
        assert after == before
        assert (await subscription(razorpay_client, owner))["status"] == "trialing"

    async def test_verify_10_times_then_10_at_once_activates_once(self, razorpay_client, razorpay_app, fake_razorpay):
        owner = await make_tenant(razorpay_client)
        body = await order(razorpay_client, owner)
        checkout = fake_razorpay.pay(body["order_id"])
        concurrent = await asyncio.gather(*(verify(razorpay_client, owner, checkout) for _ in range(10)))
        sequential = [await verify(razorpay_client, owner, checkout) for _ in range(10)]
        assert [r.status_code for r in concurrent + sequential] == [200] * 20, [r.text for r in concurrent]
        assert len({r.json()["period_end"] for r in concurrent + sequential}) == 1
        [row] = await paid_rows(razorpay_app, owner.tenant_id)
        assert (row[0], row[3]) == ("standard", datetime.fromisoformat(sequential[0].json()["period_end"]))
        assert len(await history(razorpay_app, owner.tenant_id)) == 2  # the trial, then the paid month

    async def test_another_tenants_order_is_404_and_untouched(self, razorpay_client, fake_razorpay):
        owner, intruder = await make_tenant(razorpay_client), await make_tenant(razorpay_client)
        body = await order(razorpay_client, owner)
        checkout = fake_razorpay.pay(body["order_id"])  # validly signed: only the tenant is wrong
        assert problem_code(await verify(razorpay_client, intruder, checkout), 404) == "order-not-found"
        assert [p["status"] for p in await payments(razorpay_client, owner)] == ["created"]
        assert (await subscription(razorpay_client, intruder))["status"] == "trialing"
        assert await payments(razorpay_client, intruder) == []

    async def test_an_unknown_order_is_404(self, razorpay_client, fake_razorpay):
        owner = await make_tenant(razorpay_client)
        assert problem_code(await verify(razorpay_client, owner, fake_razorpay.pay("order_nosuch00")), 404)


class TestRenewalAndLapse:
    async def test_paying_again_on_the_same_plan_extends_from_the_period_end(
        self, razorpay_client, razorpay_app, fake_razorpay
    ):
        owner = await make_tenant(razorpay_client)
        start = next_january_31(after=datetime.now(UTC) + timedelta(days=15))  # the trial has lapsed by then
        at(razorpay_app, start)
        first = await order(razorpay_client, owner)
        assert (await verify(razorpay_client, owner, fake_razorpay.pay(first["order_id"]))).status_code == 200
        at(razorpay_app, start + timedelta(days=20))
        second = await order(razorpay_client, owner)
        renewed = (await verify(razorpay_client, owner, fake_razorpay.pay(second["order_id"]))).json()
        last_of_february = calendar.monthrange(start.year, 2)[1]
        first_end = start.replace(month=2, day=last_of_february)  # Jan 31 + a month, clamped
        assert datetime.fromisoformat(renewed["period_start"]) == first_end
        assert datetime.fromisoformat(renewed["period_end"]) == add_month(first_end)
        sub = await subscription(razorpay_client, owner)
        assert datetime.fromisoformat(sub["current_period_end"]) == add_month(first_end)
        assert [(r[0], r[1]) for r in await history(razorpay_app, owner.tenant_id)] == [
            ("trial", "trialing"),
            ("free", "free"),  # the trial had lapsed by then (free_tier)
            ("standard", "active"),
            ("standard", "active"),
        ]

    async def test_an_unrenewed_paid_period_ends_on_the_free_plan(self, razorpay_client, razorpay_app, fake_razorpay):
        owner = await make_tenant(razorpay_client)
        body = await order(razorpay_client, owner)
        paid = (await verify(razorpay_client, owner, fake_razorpay.pay(body["order_id"]))).json()
        at(razorpay_app, datetime.fromisoformat(paid["period_end"]) + timedelta(minutes=1))
        sub = await subscription(razorpay_client, owner)
        assert (sub["plan"]["code"], sub["status"], sub["current_period_start"]) == ("free", "free", paid["period_end"])


@pytest.fixture(scope="module")
async def locking_app(settings):
    app = create_app(settings.model_copy(update={"post_trial_mode": "hard_lock"}))  # sandbox mode
    async with app.router.lifespan_context(app):
        yield app


class TestLockedAndSandbox:
    async def test_a_locked_tenant_can_still_upgrade_and_is_unlocked(self, locking_app):
        async with client_for(locking_app) as client:
            owner = await make_tenant(client)
            trial = await subscription(client, owner)
            original = locking_app.state.runtime.clock
            at(locking_app, datetime.fromisoformat(trial["trial_end"]) + timedelta(days=4))
            try:
                assert (await subscription(client, owner))["status"] == "locked"
                customer = {"name": "Locked out", "billing_address": {"state_code": "27"}}
                locked = await client.post(f"{API}/customers", json=customer, headers=owner.headers)
                assert problem_code(locked, 402) == "subscription-locked"
                body = await order(client, owner)
                assert (await verify(client, owner, body["sandbox_checkout"])).status_code == 200
                sub = await subscription(client, owner)
                assert (sub["status"], sub["plan"]["code"]) == ("active", "standard")
                assert (await client.post(f"{API}/customers", json=customer, headers=owner.headers)).status_code == 201
            finally:
                locking_app.state.runtime.clock = original

    async def test_sandbox_mode_walks_the_whole_flow_and_says_so(self, client, app):
        owner = await make_tenant(client)
        body = await order(client, owner, "premium")
        assert (body["sandbox"], body["key_id"], body["amount"]) == (True, SANDBOX_KEY_ID, "2499.00")
        checkout = body["sandbox_checkout"]
        assert checkout["razorpay_order_id"] == body["order_id"] and body["order_id"].startswith("order_sandbox_")
        paid = await verify(client, owner, checkout)
        assert paid.status_code == 200 and paid.json()["sandbox"] is True
        sub = await subscription(client, owner)
        assert (sub["plan"]["code"], sub["status"]) == ("premium", "active")
        [payment] = await payments(client, owner)
        assert (payment["status"], payment["sandbox"]) == ("captured", True)
        forged = checkout | {"razorpay_signature": "0" * 64}
        assert problem_code(await verify(client, owner, forged), 400) == "signature-invalid"


class TestSettings:
    def test_live_mode_without_keys_is_a_configuration_error(self):
        with pytest.raises(ValidationError, match="RAZORPAY_KEY_SECRET, RAZORPAY_WEBHOOK_SECRET"):
            Settings(_env_file=None, razorpay_mode="live", razorpay_key_id="rzp_live_x")

    def test_sandbox_mode_is_refused_in_prod(self):
        with pytest.raises(ValidationError, match="RAZORPAY_MODE=sandbox is refused"):
            Settings(_env_file=None, env="prod")
        live = Settings(
            _env_file=None,
            env="prod",
            razorpay_mode="live",
            razorpay_key_id="k",
            razorpay_key_secret="s",
            razorpay_webhook_secret="w",
            jwt_secret="s" * 32,
            payment_secret_keys=Fernet.generate_key().decode(),
        )
        assert live.razorpay_mode == "live"


class TestTokens:
    async def test_the_token_quota_follows_the_paid_plan_with_carry_over(
        self, razorpay_client, razorpay_app, fake_razorpay
    ):
        owner = await make_tenant(razorpay_client)
        trial = await subscription(razorpay_client, owner)
        at(razorpay_app, datetime.fromisoformat(trial["trial_end"]) + timedelta(days=1))  # on the free plan
        consume = {"meter": "tokens", "quantity": 200}
        used = await razorpay_client.post(f"{API}/usage/consume", json=consume, headers=owner.headers)
        assert used.status_code in (200, 201), used.text
        body = await order(razorpay_client, owner)
        assert (await verify(razorpay_client, owner, fake_razorpay.pay(body["order_id"]))).status_code == 200
        tokens = (await razorpay_client.get(f"{API}/tokens/usage", headers=owner.headers)).json()
        assert (tokens["plan"], tokens["token_quota"], tokens["token_used"]) == ("standard", 10_000 + 800, 0)
