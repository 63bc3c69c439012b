"""The SaaS's side for the web app (issue 13 §5): the public price list, cancelling and resuming a
paid plan (honoured at the period end), the tenant's tax details, and the SaaS's own GST tax invoice
for each captured plan payment, issued by the configured platform tenant with this product's
invoicing, exactly once, downloadable by the subscriber as a PDF."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from decimal import Decimal

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from app.core.database import drain_background_tasks
from app.domain.gst import SupplyType, document_totals, line_tax
from app.domain.saas_pricing import price_with_tax, taxable_value
from app.main import create_app
from app.models.platform.saas_invoice import SaasInvoice
from app.services.platform import saas_invoices
from app.services.platform.scheduler import run_due
from tests.api.v1.customer_rows import gstin
from tests.api.v1.invoicing import make_company
from tests.api.v1.payment_flow import order, pay, payments, problem_code, upgrade, verify
from tests.api.v1.subscription_rows import subscription
from tests.conftest import fresh_ip
from tests.factories import API, Account, make_tenant

SUBSCRIBER_GSTIN = gstin("27", pan="AAPFU0939F")


def client_for(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(fresh_ip(), 40000)), base_url="http://t")


def at(app, moment: datetime) -> None:
    app.state.runtime.clock = lambda: moment


# --- GET /plans ---------------------------------------------------------------------------------


class TestPlans:
    async def test_the_price_list_is_public_and_comes_from_the_plans_table(self, client):
        response = await client.get(f"{API}/plans")
        assert response.status_code == 200, response.text
        plans = {p["code"]: p for p in response.json()["items"]}
        standard = plans["standard"]
        assert {k: standard[k] for k in ("name", "price", "price_paise", "currency", "billing_period")} == {
            "name": "Standard",
            "price": "999.00",
            "price_paise": 99_900,
            "currency": "INR",
            "billing_period": "month",
        }
        # migration 0038: the seeded prices are what checkout charged, GST included
        assert (standard["price_includes_tax"], standard["gst_rate"], standard["price_with_tax"]) == (
            True,
            "18.00",
            "999.00",
        )
        assert standard["sac_code"] == "997331" and standard["purchasable"] is True
        assert standard["monthly_token_quota"] == 10_000
        assert set(standard["limits"]) == {"customers", "invoices_per_month", "active_users", "products"}
        assert plans["free"]["purchasable"] is False and plans["free"]["price"] == "0.00"
        prices = [p["price_paise"] for p in response.json()["items"]]
        assert prices == sorted(prices)

    async def test_tax_exclusive_price_adds_gst(self):
        from app.domain.saas_pricing import price_with_tax

        assert price_with_tax(Decimal("999.00"), Decimal("18"), includes_tax=False) == Decimal("1179.00")
        assert price_with_tax(Decimal("999.00"), Decimal("18"), includes_tax=True) == Decimal("999.00")


@settings(max_examples=20, deadline=None)
@given(
    paise=st.integers(min_value=100, max_value=10_000_000),
    rate=st.sampled_from([Decimal("5"), Decimal("12"), Decimal("18"), Decimal("28")]),
    intra=st.booleans(),
)
def test_an_inclusive_price_is_back_calculated_to_the_paisa(paise, rate, intra):
    """The invoice's total (taxable + each component rounded as invoices round) is the price charged."""
    price = Decimal(paise) / 100
    supply = SupplyType.intra_state if intra else SupplyType.inter_state
    taxable = taxable_value(price, rate, includes_tax=True, supply=supply, place_of_supply="29")
    total = line_tax(taxable, rate, supply, "29").total
    assert abs(total - price) <= Decimal("0.01")
    base = (price * 100 / (100 + rate)).quantize(Decimal("0.01"))
    reachable = {line_tax(base + Decimal(k) / 100, rate, supply, "29").total for k in range(-2, 3)}
    assert (total == price) == (price in reachable)  # exact whenever a paisa value gives it


@settings(max_examples=20, deadline=None)
@given(
    rupees=st.integers(min_value=1, max_value=100_000),
    rate=st.sampled_from([Decimal("5"), Decimal("12"), Decimal("18"), Decimal("28")]),
    intra=st.booleans(),
)
def test_an_exclusive_price_is_charged_what_its_invoice_totals(rupees, rate, intra):
    """Price + GST: the Razorpay charge is the SaaS invoice's total (taxable value = the price, each
    component rounded on the line, the grand total rounded to the rupee as the platform company's
    default round-off does), so the receipt settles the invoice to the paisa (₹999 + 18%: 1179.00,
    not 1178.82 which left ₹0.18 due on the invoice)."""
    price = Decimal(rupees)
    supply = SupplyType.intra_state if intra else SupplyType.inter_state
    invoice = document_totals([line_tax(price, rate, supply, "29")], round_to_rupee=True)
    assert price_with_tax(price, rate, includes_tax=False) == invoice.total


@pytest.mark.parametrize("amount_paise", [117900, 153300])
def test_an_exclusive_invoice_is_for_what_was_charged_even_after_a_price_change(amount_paise):
    """₹999 + GST charged ₹1,179: taxable value 999. An order made at the former price (₹1,299 +
    GST = ₹1,533) and captured after the plan became ₹999: the invoice is still for the ₹1,533
    paid (back-calculated), not for ₹1,179 with ₹354 left over (or, the other way, left unpaid)."""
    from app.models.billing.business import Company
    from app.models.platform.plan import Plan

    plan = Plan(code="standard", name="Standard", price_paise=99900, price_includes_tax=False, gst_rate=Decimal("18"))
    plan.sac_code = "997331"
    purchase = saas_invoices.Purchase(
        subscriber_tenant_id=uuid.uuid4(),
        payment_id=uuid.uuid4(),
        business_name="Patil Hardware",
        gstin=None,
        billing_state_code="27",
        billing_address=None,
        email=None,
        plan_code="standard",
        razorpay_payment_id="pay_x",
        amount_paise=amount_paise,
        period_start=None,
        period_end=None,
    )
    line = saas_invoices._line(plan, Company(state_code="29"), purchase)
    amounts = line_tax(line.unit_price, Decimal("18"), SupplyType.inter_state, "27")
    total = document_totals([amounts], round_to_rupee=True).total
    assert total == Decimal(amount_paise) / 100
    if amount_paise == 117900:
        assert line.unit_price == Decimal("999.00")


def test_the_intra_state_paisa_that_no_taxable_value_reaches():
    """₹999 at 18% as CGST+SGST: 846.61 gives 998.99, 846.62 gives 999.02; the nearer, below."""
    taxable = taxable_value(
        Decimal("999.00"), Decimal("18"), includes_tax=True, supply=SupplyType.intra_state, place_of_supply="29"
    )
    assert taxable == Decimal("846.61")


# --- cancel and resume --------------------------------------------------------------------------


@pytest.fixture(scope="module")
async def hard_lock_app(settings):
    app = create_app(settings.model_copy(update={"post_trial_mode": "hard_lock", "grace_days": 3}))
    async with app.router.lifespan_context(app):
        yield app


async def cancel(client: httpx.AsyncClient, account: Account, action: str = "cancel") -> httpx.Response:
    return await client.post(f"{API}/tenants/subscription/{action}", headers=account.headers)


class TestCancel:
    async def test_only_a_paid_period_can_be_cancelled_and_resumed(self, client):
        owner = await make_tenant(client)
        assert problem_code(await cancel(client, owner), 409) == "subscription-not-cancellable"
        assert problem_code(await cancel(client, owner, "resume"), 409) == "subscription-not-cancelled"
        await pay(client, owner)
        first = await cancel(client, owner)
        assert first.status_code == 200, first.text
        assert (first.json()["status"], first.json()["cancel_at_period_end"]) == ("active", True)
        again = await cancel(client, owner)  # already so: unchanged
        assert again.status_code == 200 and again.json()["cancel_at_period_end"] is True
        assert (await subscription(client, owner))["cancel_at_period_end"] is True
        resumed = await cancel(client, owner, "resume")
        assert resumed.status_code == 200 and resumed.json()["cancel_at_period_end"] is False
        assert problem_code(await cancel(client, owner, "resume"), 409) == "subscription-not-cancelled"
        logs = await client.get(f"{API}/audit-logs", params={"limit": 100}, headers=owner.headers)
        actions = [e["action"] for e in logs.json()["items"]]
        assert "subscription.cancelled" in actions and "subscription.resumed" in actions

    async def test_the_period_end_honours_the_cancellation(self, hard_lock_app):
        """hard_lock: a lapsed paid period goes into grace; a cancelled one ends locked at its end,
        whether the scheduler writes it down or a request reads it first."""
        original = hard_lock_app.state.runtime.clock
        try:
            async with client_for(hard_lock_app) as client:
                kept, cancelled = await make_tenant(client), await make_tenant(client)
                ends = {}
                for owner in (kept, cancelled):
                    ends[owner.tenant_id] = datetime.fromisoformat((await pay(client, owner))["period_end"])
                assert (await cancel(client, cancelled)).status_code == 200
                end = max(ends.values())
                at(hard_lock_app, min(ends.values()) - timedelta(hours=1))
                assert (await subscription(client, cancelled))["status"] == "active"  # runs to its end
                at(hard_lock_app, end + timedelta(minutes=1))
                summary = await run_due(
                    hard_lock_app.state.runtime,
                    end + timedelta(minutes=1),
                    tenants=[uuid.UUID(kept.tenant_id), uuid.UUID(cancelled.tenant_id)],
                )
                assert summary.transitions == 2 and not summary.failed
                gone = await subscription(client, cancelled)
                assert gone["status"] == "locked"  # no grace period after a cancellation
                # locked: nothing to cancel or resume (409 as documented, not the lock's 402)
                assert problem_code(await cancel(client, cancelled), 409) == "subscription-not-cancellable"
                assert problem_code(await cancel(client, cancelled, "resume"), 409) == "subscription-not-cancelled"
                # locked, it can still give its GSTIN before the payment that unlocks it (that
                # payment's tax invoice carries it); the rest of its profile stays read-only
                tax = {"gstin": SUBSCRIBER_GSTIN, "billing_address": "12 MG Road, Pune 411001"}
                given = await client.put(f"{API}/tenants/me", json=tax, headers=cancelled.headers)
                assert given.status_code == 200 and given.json()["gstin"] == SUBSCRIBER_GSTIN, given.text
                renamed = await client.put(
                    f"{API}/tenants/me", json={"gstin": SUBSCRIBER_GSTIN, "name": "X"}, headers=cancelled.headers
                )
                assert problem_code(renamed, 402) == "subscription-locked"
                assert datetime.fromisoformat(gone["current_period_start"]) == ends[cancelled.tenant_id]
                assert (await subscription(client, kept))["status"] == "grace"
        finally:
            hard_lock_app.state.runtime.clock = original

    async def test_paying_again_starts_an_uncancelled_period(self, client):
        owner = await make_tenant(client)
        await pay(client, owner)
        assert (await cancel(client, owner)).status_code == 200
        await pay(client, owner)  # a renewal
        assert (await subscription(client, owner))["cancel_at_period_end"] is False


# --- the tenant's tax details -------------------------------------------------------------------


class TestTaxDetails:
    async def test_gstin_is_checked_and_sets_the_billing_state(self, client):
        owner = await make_tenant(client)
        bad = SUBSCRIBER_GSTIN[:-1] + ("A" if SUBSCRIBER_GSTIN[-1] != "A" else "B")  # wrong check character
        refused = await client.put(f"{API}/tenants/me", json={"gstin": bad}, headers=owner.headers)
        assert problem_code(refused, 400) == "invalid-gstin"
        mismatch = {"gstin": SUBSCRIBER_GSTIN, "billing_state_code": "29"}
        assert problem_code(await client.put(f"{API}/tenants/me", json=mismatch, headers=owner.headers), 400) == (
            "billing-state-mismatch"
        )
        assert (await client.get(f"{API}/tenants/me", headers=owner.headers)).json()["gstin"] is None  # nothing kept
        body = {"gstin": SUBSCRIBER_GSTIN.lower(), "billing_address": "12 MG Road, Pune 411001"}
        saved = await client.put(f"{API}/tenants/me", json=body, headers=owner.headers)
        assert saved.status_code == 200, saved.text
        assert (saved.json()["gstin"], saved.json()["billing_state_code"]) == (SUBSCRIBER_GSTIN, "27")
        state_only = await client.put(f"{API}/tenants/me", json={"billing_state_code": "29"}, headers=owner.headers)
        assert problem_code(state_only, 400) == "billing-state-mismatch"
        cleared = await client.put(
            f"{API}/tenants/me", json={"gstin": None, "billing_state_code": "29"}, headers=owner.headers
        )
        assert (cleared.json()["gstin"], cleared.json()["billing_state_code"]) == (None, "29")


# --- the SaaS's own invoice ---------------------------------------------------------------------


@pytest.fixture(scope="module")
async def platform(app, settings) -> AsyncIterator[tuple]:
    """The product's business registered as a tenant with a company in Karnataka, and an app (sandbox
    payments) configured with them as PLATFORM_TENANT_ID / PLATFORM_COMPANY_ID."""
    async with client_for(app) as client:
        owner = await make_tenant(client, business_name="RMS Billing Software Pvt Ltd")
        company = await make_company(client, owner, "29", legal_name="RMS Billing Software Pvt Ltd")
    update = {"platform_tenant_id": uuid.UUID(owner.tenant_id), "platform_company_id": uuid.UUID(company["id"])}
    platform_app = create_app(settings.model_copy(update=update))
    async with platform_app.router.lifespan_context(platform_app):
        yield platform_app, owner, company


async def saas_invoice_rows(platform_app, platform_tenant: str, payment_id: str) -> int:
    async with platform_app.state.runtime.db.transaction(uuid.UUID(platform_tenant)) as session:
        stmt = select(func.count()).select_from(SaasInvoice).where(SaasInvoice.payment_id == uuid.UUID(payment_id))
        return int((await session.execute(stmt)).scalar_one())


async def the_invoice(client, platform_owner: Account, number: str) -> dict:
    found = await client.get(f"{API}/invoices", params={"number": number, "limit": 5}, headers=platform_owner.headers)
    assert found.status_code == 200, found.text
    [item] = [i for i in found.json()["items"] if i["number"] == number]
    full = await client.get(f"{API}/invoices/{item['id']}", headers=platform_owner.headers)
    return full.json()


class TestSaasInvoice:
    async def test_a_captured_payment_gets_one_tax_invoice_to_the_tenants_gstin(self, platform):
        platform_app, platform_owner, company = platform
        async with client_for(platform_app) as client:
            owner = await make_tenant(client, business_name="Patil Hardware")
            details = {"gstin": SUBSCRIBER_GSTIN, "billing_address": "12 MG Road, Pune 411001"}
            assert (await client.put(f"{API}/tenants/me", json=details, headers=owner.headers)).status_code == 200
            paid = await pay(client, owner)
            await drain_background_tasks()  # the after-commit issue
            [payment] = await payments(client, owner)
            number = payment["saas_invoice_number"]
            assert number, payment
            invoice = await the_invoice(client, platform_owner, number)
            assert invoice["company_id"] == company["id"]
            assert invoice["recipient"]["gstin"] == SUBSCRIBER_GSTIN
            assert invoice["place_of_supply"] == "27" and invoice["supply_type"] == "inter_state"
            [line] = invoice["lines"]
            assert (line["hsn_sac"], Decimal(line["gst_rate"])) == ("997331", Decimal("18"))
            # ₹999 including GST: 846.61 + 18% IGST 152.39 = 999.00, exactly what was charged
            assert (line["taxable_value"], line["igst_amount"], invoice["total"]) == ("846.61", "152.39", "999.00")
            assert invoice["total"] == paid["amount"]
            # paid: the platform's receipt (mode razorpay, its payment id) settles it
            assert (invoice["status"], invoice["balance_due"]) == ("paid", "0.00")

            pdf = await client.get(f"{API}/tenants/payments/{payment['id']}/invoice.pdf", headers=owner.headers)
            assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF"), pdf.text[:200]
            assert pdf.headers["content-type"].startswith("application/pdf")

            # exactly once: the scheduler and a repeated issue find it done
            rt = platform_app.state.runtime
            assert not await saas_invoices.issue_for_payment(
                rt.db, rt.settings, uuid.UUID(owner.tenant_id), uuid.UUID(payment["id"]), rt.clock()
            )
            summary = await run_due(rt, rt.clock(), tenants=[uuid.UUID(owner.tenant_id)])
            assert summary.saas_invoices == 0 and not summary.failed
            assert await saas_invoice_rows(platform_app, platform_owner.tenant_id, payment["id"]) == 1

            stranger = await make_tenant(client)
            foreign = await client.get(f"{API}/tenants/payments/{payment['id']}/invoice.pdf", headers=stranger.headers)
            assert problem_code(foreign, 404) == "payment-not-found"

    async def test_an_unregistered_tenant_in_the_suppliers_state_pays_cgst_and_sgst(self, platform):
        platform_app, platform_owner, _ = platform
        async with client_for(platform_app) as client:
            owner = await make_tenant(client, business_name="Gowda Stores")
            body = {"billing_state_code": "29", "contact_email": "accounts@gowda.example.com"}
            assert (await client.put(f"{API}/tenants/me", json=body, headers=owner.headers)).status_code == 200
            await pay(client, owner, "premium")
            await drain_background_tasks()
            [payment] = await payments(client, owner)
            invoice = await the_invoice(client, platform_owner, payment["saas_invoice_number"])
            assert invoice["recipient"]["gstin"] is None and invoice["supply_type"] == "intra_state"
            assert invoice["total"] == "2499.00"
            [line] = invoice["lines"]
            assert Decimal(line["cgst_amount"]) == Decimal(line["sgst_amount"])
            taxable, tax = Decimal(line["taxable_value"]), Decimal(line["cgst_amount"]) * 2
            assert taxable + tax == Decimal("2499.00")

            # the tenant registers for GST: the next payment's invoice carries its GSTIN, same customer
            registered = gstin("29", pan="AAPFU0939F")
            body = {"gstin": registered}
            assert (await client.put(f"{API}/tenants/me", json=body, headers=owner.headers)).status_code == 200
            await pay(client, owner, "premium")
            await drain_background_tasks()
            numbers = [p["saas_invoice_number"] for p in await payments(client, owner)]
            assert len(set(numbers)) == 2 and all(numbers)
            renewed = await the_invoice(client, platform_owner, numbers[0])
            assert renewed["recipient"]["gstin"] == registered and renewed["customer_id"] == invoice["customer_id"]

    async def test_a_payment_captured_without_the_kick_is_issued_by_the_scheduler(self, platform, client):
        """Captured through an app without platform settings (a lost after-commit kick): the
        platform's scheduler run issues it, once; until then the PDF is a 409."""
        platform_app, platform_owner, _ = platform
        owner = await make_tenant(client, business_name="Lost Kick Traders")
        await pay(client, owner)
        await drain_background_tasks()
        [payment] = await payments(client, owner)
        assert payment["saas_invoice_number"] is None
        pending = await client.get(f"{API}/tenants/payments/{payment['id']}/invoice.pdf", headers=owner.headers)
        assert problem_code(pending, 409) == "saas-invoice-not-issued"
        rt = platform_app.state.runtime
        summary = await run_due(rt, rt.clock(), tenants=[uuid.UUID(owner.tenant_id)])
        assert (summary.saas_invoices, summary.failed) == (1, [])
        again = await run_due(rt, rt.clock(), tenants=[uuid.UUID(owner.tenant_id)])
        assert again.saas_invoices == 0
        [payment] = await payments(client, owner)
        assert payment["saas_invoice_number"]
        assert await saas_invoice_rows(platform_app, platform_owner.tenant_id, payment["id"]) == 1

    async def test_two_issuers_at_once_issue_one_invoice(self, platform, client):
        """The after-commit task and a scheduler run racing on one payment: one invoice, one record."""
        platform_app, platform_owner, _ = platform
        owner = await make_tenant(client, business_name="Racing Traders")
        await pay(client, owner)  # the plain app: no kick
        await drain_background_tasks()
        [payment] = await payments(client, owner)
        rt = platform_app.state.runtime
        tenant, payment_id = uuid.UUID(owner.tenant_id), uuid.UUID(payment["id"])
        results = await asyncio.gather(
            *(saas_invoices.issue_for_payment(rt.db, rt.settings, tenant, payment_id, rt.clock()) for _ in range(3))
        )
        assert sorted(results) == [False, False, True]
        assert await saas_invoice_rows(platform_app, platform_owner.tenant_id, payment["id"]) == 1
        [payment] = await payments(client, owner)
        invoice = await the_invoice(client, platform_owner, payment["saas_invoice_number"])
        assert invoice["status"] == "paid"

    async def test_the_platform_tenant_cannot_buy_a_plan_from_itself(self, platform):
        """Its own payment would never be invoiced (no invoice to itself), its PDF would be a 409
        forever, and the paid month would replace its open-ended subscription and later lapse,
        locking the tenant that issues every SaaS invoice."""
        platform_app, platform_owner, _ = platform
        async with client_for(platform_app) as client:
            refused = await upgrade(client, platform_owner)
            assert problem_code(refused, 409) == "platform-tenant-not-billed"
            assert await payments(client, platform_owner) == []

    async def test_an_uncaptured_payment_has_no_invoice(self, platform):
        platform_app, _, _ = platform
        async with client_for(platform_app) as client:
            owner = await make_tenant(client)
            created = await order(client, owner)
            response = await client.get(
                f"{API}/tenants/payments/{created['payment_id']}/invoice.pdf", headers=owner.headers
            )
            assert problem_code(response, 409) == "saas-invoice-not-issued"
            assert verify  # the checkout is never completed here

    async def test_the_platform_business_cannot_be_deleted(self, platform):
        """It issues every tenant's SaaS invoices: closing it would stop them and purge the records."""
        platform_app, platform_owner, _ = platform
        body = {"password": "unused-the-check-comes-first", "confirmation": "RMS Billing Software Pvt Ltd"}
        async with client_for(platform_app) as client:
            response = await client.post(f"{API}/tenants/me/delete", json=body, headers=platform_owner.headers)
            assert problem_code(response, 409) == "platform-tenant-not-deletable"
            tenant = await client.get(f"{API}/tenants/me", headers=platform_owner.headers)
            assert tenant.status_code == 200, tenant.text  # still open, its session still good
