"""app/services/commerce/gateway_client.py against the fake Razorpay (a real HTTP server): the
tenant's own account's orders, payment links and refunds, the key check, signatures, retries."""

import time
from datetime import UTC, datetime, timedelta

import pytest

from app.core.errors import PaymentGatewayError, PaymentGatewayUnavailable
from app.services.commerce.gateway_client import LiveTenantGateway, SandboxTenantGateway
from tests.fake_razorpay import FakeRazorpay, RazorpayAccount, fake_razorpay

__all__ = ["fake_razorpay"]  # fixtures


def client(fake: FakeRazorpay, account: RazorpayAccount, **changes) -> LiveTenantGateway:
    options = {"timeout": 5.0, "max_retries": 2} | changes
    return LiveTenantGateway(
        key_id=account.key_id,
        key_secret=account.key_secret,
        webhook_secret=account.webhook_secret,
        base_url=fake.url,
        **options,
    )


@pytest.fixture
def fake(fake_razorpay) -> FakeRazorpay:
    fake_razorpay.reset()
    return fake_razorpay


def in_an_hour() -> datetime:
    return datetime.now(UTC) + timedelta(hours=1)


async def link(gateway, reference_id: str, amount_paise: int = 118_000):
    return await gateway.create_payment_link(
        amount_paise=amount_paise,
        reference_id=reference_id,
        description=f"Invoice {reference_id}",
        customer={"name": "Asha Traders", "contact": "+919812345678", "email": "asha@example.in"},
        expire_by=in_an_hour(),
        notes={"online_payment_id": "op-1"},
        callback_url="https://billing.example.in/p/callback",
    )


class TestKeyCheck:
    async def test_the_account_keys_pass_and_anything_else_does_not(self, fake):
        account, other = fake.account(), fake.account()
        assert await client(fake, account).check_keys() is True
        wrong = RazorpayAccount(account.key_id, other.key_secret, account.webhook_secret, "acc")
        assert await client(fake, wrong).check_keys() is False
        [*_, last] = fake.calls
        assert (last.method, last.path) == ("GET", "/v1/orders")  # harmless: a read

    async def test_a_gateway_that_keeps_failing_is_unavailable_not_bad_keys(self, fake):
        fake.fail_next(3, 503)
        with pytest.raises(PaymentGatewayUnavailable):
            await client(fake, fake.account()).check_keys()


class TestOrders:
    async def test_made_on_the_tenant_account(self, fake):
        account = fake.account()
        order = await client(fake, account).create_order(amount_paise=50_000, receipt="r-1", notes={"a": "b"})
        assert (order.amount_paise, order.currency, order.receipt) == (50_000, "INR", "r-1")
        assert fake.owners[order.id] == account.key_id
        assert [call.auth for call in fake.calls_of(account)] == [(account.key_id, account.key_secret)]

    async def test_5xx_is_retried_a_4xx_is_not(self, fake):
        account = fake.account()
        fake.fail_next(2)
        await client(fake, account).create_order(amount_paise=50_000, receipt="r", notes={})
        assert len(fake.calls_of(account)) == 3
        fake.reset()
        with pytest.raises(PaymentGatewayError):
            await client(fake, account).create_order(amount_paise=50, receipt="r", notes={})
        assert len(fake.calls_of(account)) == 1

    async def test_a_read_timeout_is_not_retried(self, fake):
        account = fake.account()
        fake.stall_next(1, 1.0)
        with pytest.raises(PaymentGatewayUnavailable):
            await client(fake, account, timeout=0.3).create_order(amount_paise=50_000, receipt="r", notes={})
        assert len(fake.calls_of(account)) == 1


class TestPaymentLinks:
    async def test_create_pay_and_check_the_callback_signature(self, fake):
        account = fake.account()
        gateway = client(fake, account)
        made = await link(gateway, "INV-0001")
        assert (made.amount_paise, made.reference_id, made.status) == (118_000, "INV-0001", "created")
        assert made.short_url.startswith("https://") and made.expires_at is not None
        assert abs(made.expires_at.timestamp() - in_an_hour().timestamp()) < 60
        body = fake.calls_of(account)[-1].body
        assert body["customer"]["contact"] == "+919812345678" and body["callback_method"] == "get"
        paid = fake.pay_link(made.id)
        args = [paid[k] for k in ("razorpay_payment_link_id", "razorpay_payment_link_reference_id")]
        args += [paid["razorpay_payment_link_status"], paid["razorpay_payment_id"]]
        assert gateway.link_signature_ok(*args, paid["razorpay_signature"])
        assert not gateway.link_signature_ok(*args[:2], "cancelled", args[3], paid["razorpay_signature"])
        assert not client(fake, fake.account()).link_signature_ok(*args, paid["razorpay_signature"])

    async def test_cancel_and_cancel_again(self, fake):
        gateway = client(fake, fake.account())
        made = await link(gateway, "INV-0002")
        await gateway.cancel_payment_link(made.id)
        assert fake.links[made.id]["status"] == "cancelled"
        await gateway.cancel_payment_link(made.id)  # Razorpay's 400: already so, nothing to do

    async def test_another_account_cannot_see_the_link(self, fake):
        made = await link(client(fake, fake.account()), "INV-0003")
        with pytest.raises(PaymentGatewayError):
            await client(fake, fake.account()).cancel_payment_link(made.id)
        assert fake.links[made.id]["status"] == "created"


class TestRefunds:
    async def test_refund_part_then_the_rest_then_nothing_more(self, fake):
        account = fake.account()
        gateway = client(fake, account)
        order = await gateway.create_order(amount_paise=100_000, receipt="r", notes={})
        paid = fake.pay(order.id)
        assert gateway.checkout_signature_ok(order.id, paid["razorpay_payment_id"], paid["razorpay_signature"])
        payment_id = paid["razorpay_payment_id"]
        first = await gateway.refund(payment_id=payment_id, amount_paise=40_000, receipt="rf-1", notes={})
        assert (first.payment_id, first.amount_paise, first.status) == (payment_id, 40_000, "pending")
        await gateway.refund(payment_id=payment_id, amount_paise=60_000, receipt="rf-2", notes={})
        with pytest.raises(PaymentGatewayError):
            await gateway.refund(payment_id=payment_id, amount_paise=100, receipt="rf-3", notes={})

    async def test_a_5xx_on_a_refund_is_not_retried(self, fake):
        account = fake.account()
        gateway = client(fake, account)
        order = await gateway.create_order(amount_paise=100_000, receipt="r", notes={})
        payment_id = fake.pay(order.id)["razorpay_payment_id"]
        fake.reset()
        fake.fail_next(1, 502)
        with pytest.raises(PaymentGatewayUnavailable):
            await gateway.refund(payment_id=payment_id, amount_paise=1_000, receipt="rf", notes={})
        assert len(fake.calls_of(account)) == 1


class TestSignaturesAndSecrets:
    async def test_webhook_signature_is_the_account_webhook_secret_over_the_raw_body(self, fake):
        account, other = fake.account(), fake.account()
        body, headers = fake.payment_event(account, "payment.captured", "order_x", "pay_x")
        assert client(fake, account).webhook_signature_ok(body, headers["X-Razorpay-Signature"])
        assert not client(fake, other).webhook_signature_ok(body, headers["X-Razorpay-Signature"])
        assert not client(fake, account).webhook_signature_ok(body + b" ", headers["X-Razorpay-Signature"])
        assert not client(fake, account).webhook_signature_ok(body, None)

    async def test_the_client_never_shows_its_secrets(self, fake):
        account = fake.account()
        shown = repr(client(fake, account)) + str(vars(type(client(fake, account))))
        assert account.key_secret not in shown and account.webhook_secret not in shown


class TestSandbox:
    async def test_walks_every_flow_without_keys(self):
        gateway = SandboxTenantGateway()
        order = await gateway.create_order(amount_paise=10_000, receipt="r", notes={})
        paid = gateway.sandbox_pay_order(order.id)
        assert gateway.checkout_signature_ok(order.id, paid["razorpay_payment_id"], paid["razorpay_signature"])
        made = await link(gateway, "INV-9")
        callback = gateway.sandbox_pay_link(made)
        assert gateway.link_signature_ok(
            made.id, "INV-9", "paid", callback["razorpay_payment_id"], callback["razorpay_signature"]
        )
        refund = await gateway.refund(payment_id=paid["razorpay_payment_id"], amount_paise=5_000, receipt="x", notes={})
        assert refund.status == "processed" and gateway.sandbox and time.time() > 0
