"""Subscriptions and plan limits: the trial, GET /tenants/subscription, the free tier's limits
(402 problems), a race for the last free customer slots, and hard_lock mode."""

import asyncio
import uuid
from datetime import datetime, timedelta

import httpx
import pytest

from app.core.context import Context
from app.domain.fiscal import INDIA
from app.main import create_app
from app.services.platform import subscriptions
from tests.api.v1.invoicing import Party, make_customer
from tests.api.v1.members import add_member, invite, mailed_token
from tests.api.v1.report_data import set_clock
from tests.api.v1.subscription_rows import history, put_on_plan, subscription
from tests.conftest import PASSWORD, fresh_ip, unique_email
from tests.factories import API, Account, make_tenant

__all__ = ["set_clock"]
UNLIMITED = {"limit": None}
LINE = {"description": "Support", "quantity": "1", "unit_price": "10", "gst_rate": "18"}


def after_trial(tenant: dict, days: float) -> str:
    """An instant `days` after the tenant's trial ended, as set_clock takes it."""
    return (datetime.fromisoformat(tenant["trial_end"]) + timedelta(days=days)).isoformat()


def mid_month_after(tenant: dict) -> datetime:
    """The 10th of the first month (Asia/Kolkata) that starts after the tenant's trial ended, at noon."""
    end = datetime.fromisoformat(tenant["trial_end"]).astimezone(INDIA)
    return (end.replace(day=1) + timedelta(days=32)).replace(day=10, hour=12, minute=0, second=0, microsecond=0)


def problem(response: httpx.Response, code: str) -> dict:
    assert response.status_code == 402, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["type"].endswith(f"/{code}") and body["code"] == code and body["status"] == 402
    return body


async def customers(client: httpx.AsyncClient, account: Account, count: int) -> None:
    for n in range(count):
        await make_customer(client, account, name=f"Customer {n}")


class TestTrial:
    async def test_a_new_tenant_is_trialing_for_14_days_with_no_limits(self, client):
        owner = await make_tenant(client)
        sub = await subscription(client, owner)
        assert (sub["plan"]["code"], sub["status"], sub["trial_days_remaining"]) == ("trial", "trialing", 14)
        assert (sub["plan"]["price"], sub["plan"]["currency"]) == ("0.00", "INR") and "price_paise" not in sub["plan"]
        start, end = datetime.fromisoformat(sub["trial_start"]), datetime.fromisoformat(sub["trial_end"])
        assert end - start == timedelta(days=14) and sub["current_period_end"] == sub["trial_end"]
        assert sub["limits"] == {
            "customers": UNLIMITED | {"used": 0},
            "invoices_this_month": UNLIMITED | {"used": 0},
            "active_users": UNLIMITED | {"used": 1},
            "products": UNLIMITED | {"used": 0},
        }
        tenant = (await client.get(f"{API}/tenants/me", headers=owner.headers)).json()
        assert (tenant["trial_start_date"], tenant["trial_end_date"], tenant["is_trial_used"]) == (
            sub["trial_start"],
            sub["trial_end"],
            True,
        )

    async def test_use_is_counted_for_any_member(self, client, mailbox, today):
        # `today`: one instant for the whole test, so "this month" cannot turn over between the
        # invoices and the count (the clock run crosses midnight into 1 April)
        owner = await make_tenant(client)
        party = await Party.make(client, owner)
        await make_customer(client, owner, name="Second")
        await party.invoice(client)
        await party.invoice(client)
        await party.invoice(client, issue=False)  # a draft is not an issued invoice
        viewer = await add_member(client, mailbox, owner, "viewer")
        sub = await subscription(client, viewer)
        assert {name: use["used"] for name, use in sub["limits"].items()} == {
            "customers": 2,
            "invoices_this_month": 2,
            "active_users": 2,
            "products": 0,
        }

    async def test_days_remaining_count_down(self, client, set_clock):
        owner = await make_tenant(client)
        sub = await subscription(client, owner)
        set_clock(after_trial(sub, -3.5))
        assert (await subscription(client, owner))["trial_days_remaining"] == 4


class TestFreeTier:
    async def test_the_trial_ends_on_the_free_plan(self, client, set_clock):
        owner = await make_tenant(client)
        trial = await subscription(client, owner)
        set_clock(after_trial(trial, 1))
        sub = await subscription(client, owner)
        assert (sub["plan"]["code"], sub["status"], sub["trial_days_remaining"]) == ("free", "free", 0)
        assert (sub["current_period_start"], sub["current_period_end"]) == (trial["trial_end"], None)
        assert {name: use["limit"] for name, use in sub["limits"].items()} == {
            "customers": 50,
            "invoices_this_month": 10,
            "active_users": 1,
            "products": 100,
        }

    async def test_the_11th_invoice_issued_in_a_month_is_402_and_the_next_month_allows_it(self, client, set_clock):
        owner = await make_tenant(client)
        party = await Party.make(client, owner)
        trial = await subscription(client, owner)
        moment = mid_month_after(trial)
        set_clock(moment.isoformat())
        for _ in range(10):
            await party.invoice(client)
        draft = await party.invoice(client, issue=False)
        body = {"company_id": party.company["id"], "customer_id": party.customer["id"], "lines": [LINE], "issue": True}
        over = problem(await client.post(f"{API}/invoices", json=body, headers=owner.headers), "quota-exceeded")
        assert {k: over[k] for k in ("limit", "limit_value", "used", "upgrade_plans")} == {
            "limit": "invoices_this_month",
            "limit_value": 10,
            "used": 10,
            "upgrade_plans": ["standard", "premium"],
        }
        issue = f"{API}/invoices/{draft['id']}/issue"
        problem(await client.post(issue, headers=owner.headers), "quota-exceeded")
        listed = (await client.get(f"{API}/invoices", params={"limit": 100}, headers=owner.headers)).json()["items"]
        assert sorted(i["status"] for i in listed) == ["draft"] + ["issued"] * 10  # the refused one left nothing
        set_clock((moment.replace(day=1) + timedelta(days=31)).replace(day=1, hour=0).isoformat())  # next month
        assert (await client.post(issue, headers=owner.headers)).status_code == 200

    async def test_the_51st_customer_is_402(self, client, set_clock):
        owner = await make_tenant(client)
        await customers(client, owner, 50)
        set_clock(after_trial(await subscription(client, owner), 1))
        body = {"name": "One too many", "billing_address": {"state_code": "27"}}
        over = problem(await client.post(f"{API}/customers", json=body, headers=owner.headers), "quota-exceeded")
        assert (over["limit"], over["limit_value"], over["used"]) == ("customers", 50, 50)
        assert over["upgrade_plans"] == ["standard", "premium"]
        assert (await subscription(client, owner))["limits"]["customers"] == {"limit": 50, "used": 50}

    async def test_a_second_active_user_is_402_by_invitation_acceptance_or_reactivation(self, client, app, mailbox):
        owner = await make_tenant(client)
        member = await add_member(client, mailbox, owner, "accountant")
        pending = unique_email("pending")
        assert (await invite(client, owner, pending, "viewer")).status_code == 201
        token = await mailed_token(mailbox, pending, "invited")
        deactivated = await client.delete(f"{API}/users/{member.user['id']}", headers=owner.headers)
        assert deactivated.status_code == 200
        await put_on_plan(app, owner.tenant_id, "free", "free")  # moving the clock would expire the invitation

        # The owner and the pending invitation (it holds a seat until accepted or ended).
        over = problem(await invite(client, owner, unique_email("new"), "viewer"), "quota-exceeded")
        assert (over["limit"], over["limit_value"], over["used"]) == ("active_users", 1, 2)
        accept = {"token": token, "full_name": "Late Joiner", "password": PASSWORD}
        problem(await client.post(f"{API}/auth/accept-invite", json=accept), "quota-exceeded")
        reactivate = {"is_active": True}
        path = f"{API}/users/{member.user['id']}"
        problem(await client.patch(path, json=reactivate, headers=owner.headers), "quota-exceeded")
        assert (await subscription(client, owner))["limits"]["active_users"] == {"limit": 1, "used": 2}

    async def test_reaching_a_limit_writes_the_move_to_free_down_once(self, client, app, set_clock):
        owner = await make_tenant(client)
        trial = await subscription(client, owner)
        set_clock(after_trial(trial, 2))
        await make_customer(client, owner)
        await make_customer(client, owner)
        rows = await history(app, owner.tenant_id)
        end = datetime.fromisoformat(trial["trial_end"])
        assert [(plan, status, start, stop, current) for plan, status, start, stop, current in rows] == [
            ("trial", "trialing", datetime.fromisoformat(trial["trial_start"]), end, False),
            ("free", "free", end, None, True),
        ]


class TestRace:
    async def test_20_concurrent_customers_with_45_on_the_free_plan_end_with_exactly_50(self, app, live_server):
        async with httpx.AsyncClient(base_url=live_server, timeout=60) as live:
            owner = await make_tenant(live)
            await customers(live, owner, 45)
            await put_on_plan(app, owner.tenant_id, "free", "free")

            async def create(n: int) -> httpx.Response:
                async with httpx.AsyncClient(base_url=live_server, timeout=60) as c:
                    body = {"name": f"Racer {n}", "billing_address": {"state_code": "27"}}
                    return await c.post(f"{API}/customers", json=body, headers=owner.headers)

            responses = await asyncio.gather(*(create(n) for n in range(20)))
            statuses = sorted(r.status_code for r in responses)
            assert statuses == [201] * 5 + [402] * 15, [r.text for r in responses if r.status_code not in (201, 402)]
            assert {r.json()["used"] for r in responses if r.status_code == 402} == {50}
            assert (await subscription(live, owner))["limits"]["customers"] == {"limit": 50, "used": 50}


class TestAdvance:
    """`advance` is what the scheduled job will call: it writes each due step once."""

    async def test_steps_are_written_once_even_when_two_run_at_once(self, client, app):
        owner = await make_tenant(client)
        trial = await subscription(client, owner)
        end = datetime.fromisoformat(trial["trial_end"])
        rt, later = app.state.runtime, end + timedelta(days=5)
        hard_lock = rt.settings.model_copy(update={"post_trial_mode": "hard_lock", "grace_days": 3})

        async def advance() -> str:
            async with rt.db.transaction(uuid.UUID(owner.tenant_id)) as session:
                ctx = Context(settings=hard_lock, db=rt.db, now=later)
                return (await subscriptions.advance(session, ctx)).status

        assert await asyncio.gather(advance(), advance()) == ["locked", "locked"]
        assert await advance() == "locked"
        assert [
            (plan, status, start, stop) for plan, status, start, stop, _ in await history(app, owner.tenant_id)
        ] == [
            ("trial", "trialing", datetime.fromisoformat(trial["trial_start"]), end),
            ("trial", "grace", end, end + timedelta(days=3)),
            ("trial", "locked", end + timedelta(days=3), None),
        ]


@pytest.fixture(scope="module")
async def lock_app(settings):
    app = create_app(settings.model_copy(update={"post_trial_mode": "hard_lock"}))
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def locking(lock_app):
    transport = httpx.ASGITransport(app=lock_app, client=(fresh_ip(), 40000))
    original = lock_app.state.runtime.clock
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c
    lock_app.state.runtime.clock = original


def move(app, moment: str) -> None:
    fixed = datetime.fromisoformat(moment)
    app.state.runtime.clock = lambda: fixed


class TestHardLock:
    async def test_grace_then_locked_writes_402_reads_and_auth_work(self, locking, lock_app):
        owner = await make_tenant(locking)
        party = await Party.make(locking, owner)
        trial = await subscription(locking, owner)
        assert trial["post_trial_mode"] == "hard_lock"

        move(lock_app, after_trial(trial, 1))
        grace = await subscription(locking, owner)
        end = datetime.fromisoformat(trial["trial_end"])
        assert (grace["status"], grace["plan"]["code"]) == ("grace", "trial")
        assert datetime.fromisoformat(grace["current_period_end"]) == end + timedelta(days=3)
        assert grace["limits"]["customers"]["limit"] is None  # grace keeps the lapsed plan's entitlements
        await make_customer(locking, owner, name="During grace")

        move(lock_app, after_trial(trial, 3.01))
        locked = await subscription(locking, owner)
        assert (locked["status"], locked["current_period_end"]) == ("locked", None)
        body = {"name": "Locked out", "billing_address": {"state_code": "27"}}
        refused = problem(
            await locking.post(f"{API}/customers", json=body, headers=owner.headers), "subscription-locked"
        )
        assert refused["upgrade_plans"] == ["standard", "premium"]
        problem(await party_invoice(locking, party), "subscription-locked")
        problem(
            await locking.put(f"{API}/tenants/me", json={"name": "X"}, headers=owner.headers), "subscription-locked"
        )
        problem(await invite(locking, owner, unique_email("late"), "viewer"), "subscription-locked")

        customers_page = await locking.get(f"{API}/customers", headers=owner.headers)
        assert customers_page.status_code == 200 and len(customers_page.json()["items"]) == 2  # nothing deleted
        assert (await locking.get(f"{API}/invoices", headers=owner.headers)).status_code == 200
        relogin = await locking.post(f"{API}/auth/login", json={"email": owner.email, "password": PASSWORD})
        assert relogin.status_code == 200
        me = await locking.patch(f"{API}/users/me", json={"full_name": "Ravi S"}, headers=owner.headers)
        assert me.status_code == 200
        assert (await locking.post(f"{API}/auth/logout", headers=owner.headers)).status_code == 204

    async def test_a_viewer_is_still_403_not_402(self, locking, lock_app, mailbox):
        owner = await make_tenant(locking)
        viewer = await add_member(locking, mailbox, owner, "viewer")
        move(lock_app, after_trial(await subscription(locking, owner), 10))
        body = {"name": "Nope", "billing_address": {"state_code": "27"}}
        assert (await locking.post(f"{API}/customers", json=body, headers=viewer.headers)).status_code == 403


async def party_invoice(client: httpx.AsyncClient, party: Party) -> httpx.Response:
    body = {"company_id": party.company["id"], "customer_id": party.customer["id"], "lines": [LINE], "issue": True}
    return await client.post(f"{API}/invoices", json=body, headers=party.account.headers)
