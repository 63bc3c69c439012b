"""Usage quotas (tokens): GET /usage and /tokens/usage, POST /usage/consume (402 over the quota,
Idempotency-Key, a race that never goes below zero), POST /tokens/set-plan (carry-over, same tier,
downgrade, payment required, roles), and the monthly reset the job calls (`usage.reset_if_due`)."""

import asyncio
import re
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import delete, text
from sqlalchemy.ext.asyncio import create_async_engine

from app.models.platform.idempotency import IdempotencyKey
from app.services.platform import subscriptions
from app.services.platform import usage as usage_service
from tests.api.v1.members import add_member
from tests.api.v1.payment_flow import order, pay, verify
from tests.api.v1.report_data import set_clock
from tests.api.v1.subscription_rows import history, put_on_plan, subscription
from tests.api.v1.test_subscriptions import after_trial, problem
from tests.api.v1.usage_rows import consume, ledger, periods, set_plan, usage
from tests.factories import API, Account, make_tenant

__all__ = ["set_clock"]
DAYS_30 = timedelta(days=30)
PAID = ["standard", "premium"]


def at(value: str) -> datetime:
    return datetime.fromisoformat(value)


def ok(response: httpx.Response, status: int = 200) -> dict:
    assert response.status_code == status, response.text
    return response.json()


def tokens(body: dict) -> tuple:
    """(plan, quota, used, remaining) of the web app's fields, checked against the tokens meter."""
    meter = next(m for m in body["meters"] if m["meter"] == "tokens")
    assert (meter["quota"], meter["used"], meter["remaining"]) == (
        body["token_quota"],
        body["token_used"],
        body["remaining"],
    )
    return body["plan"], body["token_quota"], body["token_used"], body["remaining"]


async def on_free(client: httpx.AsyncClient, app) -> Account:
    owner = await make_tenant(client)
    await put_on_plan(app, owner.tenant_id, "free", "free")
    return owner


async def consumed(client: httpx.AsyncClient, account: Account, quantity: int) -> dict:
    return ok(await consume(client, account, quantity))


async def reset_if_due(app, tenant_id: str) -> bool:
    async with app.state.runtime.db.transaction(uuid.UUID(tenant_id)) as session:
        return await usage_service.reset_if_due(session, app.state.runtime.context())


class TestRead:
    async def test_a_new_tenant_has_unlimited_tokens_during_the_trial(self, client, app, mailbox):
        owner = await make_tenant(client)
        body = await usage(client, owner)
        assert tokens(body) == ("trial", None, 0, None)
        trial = await subscription(client, owner)
        assert at(body["plan_end_at"]) == at(trial["trial_end"])  # the trial ends before the token period
        (meter,) = body["meters"]
        assert at(meter["period_end"]) - at(meter["period_start"]) == DAYS_30
        assert at(meter["period_start"]) == at(trial["trial_start"])
        viewer = await add_member(client, mailbox, owner, "viewer")
        assert await usage(client, viewer) == body
        same = await client.get(f"{API}/tokens/usage", headers=owner.headers)
        assert same.status_code == 200 and same.json() == body
        assert [(e.kind, e.quantity) for e in await ledger(app, owner.tenant_id)] == [("opened", None)]

    async def test_when_the_trial_ends_the_free_quota_starts_a_period_of_its_own(self, client, app, set_clock):
        owner = await make_tenant(client)
        assert ok(await consume(client, owner, 5000))["quota"] is None  # unlimited during the trial
        trial = await subscription(client, owner)
        set_clock(after_trial(trial, 1))
        body = await usage(client, owner)
        assert tokens(body) == ("free", 1000, 0, 1000)
        (meter,) = body["meters"]
        assert at(meter["period_start"]) == at(trial["trial_end"])
        assert at(meter["period_end"]) == at(trial["trial_end"]) + DAYS_30 == at(body["plan_end_at"])
        assert len(await periods(app, owner.tenant_id)) == 1  # a read writes nothing
        assert ok(await consume(client, owner, 300))["remaining"] == 700
        stored = await periods(app, owner.tenant_id)
        assert [(p.plan_code, p.quota, p.used, p.is_current) for p in stored] == [
            ("trial", None, 5000, False),
            ("free", 1000, 300, True),
        ]

    async def test_a_tenant_without_periods_gets_one_lazily(self, client, app, settings):
        owner = await on_free(client, app)
        engine = create_async_engine(settings.database_admin_url)
        try:
            async with engine.begin() as conn:  # as the owner role: a tenant from before migration 0006
                await conn.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": owner.tenant_id})
                for table in ("usage_ledger", "usage_periods"):
                    await conn.execute(text(f"DELETE FROM {table} WHERE tenant_id = :t"), {"t": owner.tenant_id})
        finally:
            await engine.dispose()
        assert tokens(await usage(client, owner)) == ("free", 1000, 0, 1000)
        assert await periods(app, owner.tenant_id) == []
        assert ok(await consume(client, owner, 10))["used"] == 10
        (period,) = await periods(app, owner.tenant_id)
        start = (await history(app, owner.tenant_id))[-1][2]
        assert (period.plan_code, period.period_start, period.period_end) == ("free", start, start + DAYS_30)


class TestConsume:
    async def test_debits_and_over_the_quota_is_a_402_that_changes_nothing(self, client, app):
        owner = await on_free(client, app)
        debit = await consumed(client, owner, 300)
        assert (debit["meter"], debit["quantity"], debit["quota"], debit["used"], debit["remaining"]) == (
            "tokens",
            300,
            1000,
            300,
            700,
        )
        over = problem(await consume(client, owner, 701), "quota-exceeded")
        assert {k: over[k] for k in ("limit", "limit_value", "used", "upgrade_plans")} == {
            "limit": "tokens",
            "limit_value": 1000,
            "used": 300,
            "upgrade_plans": PAID,
        }
        assert tokens(await usage(client, owner)) == ("free", 1000, 300, 700)
        assert (await consumed(client, owner, 700))["remaining"] == 0
        assert problem(await consume(client, owner, 1), "quota-exceeded")["used"] == 1000
        entries = await ledger(app, owner.tenant_id)
        assert [(e.kind, e.quantity, e.used_after, e.balance_after) for e in entries[-2:]] == [
            ("consumed", 300, 300, 700),
            ("consumed", 700, 1000, 0),
        ]
        assert str(entries[-1].id) != debit["entry_id"] == str(entries[-2].id)

    async def test_bad_input_unknown_meter_and_roles(self, client, app, mailbox):
        owner = await make_tenant(client)
        assert (await consume(client, owner, 0)).status_code == 422
        assert (await consume(client, owner, 10**12)).status_code == 422
        for not_an_integer in ("5", True, 5.5):  # JSON Schema's integer: 5.0 is one, these are not
            assert (await consume(client, owner, not_an_integer)).status_code == 422
        assert (await consume(client, owner, 5.0)).status_code == 200
        unknown = await consume(client, owner, 1, meter="sms")
        assert unknown.status_code == 404 and unknown.json()["code"] == "meter-not-found"
        extra = {"meter": "tokens", "quantity": 1, "tenant_id": str(uuid.uuid4())}
        assert (await client.post(f"{API}/usage/consume", json=extra, headers=owner.headers)).status_code == 422
        accountant = await add_member(client, mailbox, owner, "accountant")
        assert (await consume(client, accountant, 5)).status_code == 200
        viewer = await add_member(client, mailbox, owner, "viewer")
        assert (await consume(client, viewer, 5)).status_code == 403
        assert (await usage(client, owner))["token_used"] == 10  # the owner's 5.0 and the accountant's 5

    async def test_a_locked_subscription_cannot_consume(self, client, app):
        owner = await make_tenant(client)
        await put_on_plan(app, owner.tenant_id, "trial", "locked")
        problem(await consume(client, owner, 1), "subscription-locked")
        assert (await usage(client, owner))["token_used"] == 0

    async def test_a_repeated_idempotency_key_debits_once_even_after_the_stored_response_expired(self, client, app):
        owner = await on_free(client, app)
        first = await consume(client, owner, 40, key="consume-key-0001")
        again = await consume(client, owner, 40, key="consume-key-0001")
        assert first.status_code == again.status_code == 200
        assert again.headers["Idempotent-Replayed"] == "true" and again.json() == first.json()
        async with app.state.runtime.db.transaction(uuid.UUID(owner.tenant_id)) as session:
            await session.execute(delete(IdempotencyKey))  # what the cleanup job does after the TTL
        late = await consume(client, owner, 40, key="consume-key-0001")
        assert late.status_code == 200 and late.json() == first.json()
        reused = await consume(client, owner, 41, key="consume-key-0001")
        assert reused.status_code == 422 and reused.json()["code"] == "idempotency-key-reused"
        assert (await usage(client, owner))["token_used"] == 40
        keyed = [e for e in await ledger(app, owner.tenant_id) if e.idempotency_key == "consume-key-0001"]
        assert [(e.kind, e.quantity) for e in keyed] == [("consumed", 40)]


class TestRace:
    async def test_30_concurrent_consumes_of_50_against_1000_left_exactly_20_succeed(self, app, live_server):
        async with httpx.AsyncClient(base_url=live_server, timeout=60) as live:
            owner = await on_free(live, app)

            async def take(n: int) -> httpx.Response:
                async with httpx.AsyncClient(base_url=live_server, timeout=60) as c:
                    return await consume(c, owner, 50, key=f"race-{owner.tenant_id}-{n}")

            responses = await asyncio.gather(*(take(n) for n in range(30)))
            statuses = sorted(r.status_code for r in responses)
            assert statuses == [200] * 20 + [402] * 10, [r.text for r in responses if r.status_code not in (200, 402)]
            assert sorted(r.json()["used"] for r in responses if r.status_code == 200) == list(range(50, 1001, 50))
            assert tokens(await usage(live, owner)) == ("free", 1000, 1000, 0)
        entries = [e for e in await ledger(app, owner.tenant_id) if e.kind == "consumed"]
        assert len(entries) == 20 and sum(e.quantity for e in entries) == 1000
        assert sorted(e.used_after for e in entries) == list(range(50, 1001, 50))
        assert (await periods(app, owner.tenant_id))[-1].used == 1000

    async def test_consumes_racing_a_downgrade_never_lose_used_tokens(self, app, live_server):
        async with httpx.AsyncClient(base_url=live_server, timeout=60) as live:
            owner = await on_free(live, app)
            await consumed(live, owner, 1)
            await pay(live, owner, "premium")
            await consumed(live, owner, 40_000)  # premium 50,000 + 999 carried from free
            responses = await asyncio.gather(
                set_plan(live, owner, "standard"), *(self.debit(live_server, owner, 10, n) for n in range(60))
            )
            assert ok(responses[0])["change"] == "downgraded"
            debits = responses[1:]
            assert {r.status_code for r in debits} <= {200, 402}, [r.text for r in debits]
            taken = 10 * sum(r.status_code == 200 for r in debits)
            assert tokens(await usage(live, owner)) == ("standard", 10_000, 40_000 + taken, 0)
        await self.ledger_matches(app, owner.tenant_id, ["free", "standard"])

    async def test_consumes_racing_a_capture_never_revert_the_plan(self, app, live_server):
        async with httpx.AsyncClient(base_url=live_server, timeout=60) as live:
            owner = await on_free(live, app)
            await consumed(live, owner, 300)
            checkout = (await order(live, owner, "standard"))["sandbox_checkout"]
            responses = await asyncio.gather(
                verify(live, owner, checkout), *(self.debit(live_server, owner, 10, n) for n in range(30))
            )
            assert responses[0].status_code == 200, responses[0].text
            assert all(r.status_code == 200 for r in responses[1:]), [r.text for r in responses[1:]]
            body = await usage(live, owner)
        stored = await self.ledger_matches(app, owner.tenant_id, ["free", "standard"])
        assert stored[0].used + stored[1].used == 300 + 300  # every debit in one of the two periods
        assert stored[1].quota == 10_000 + (1000 - stored[0].used)  # what was left carried over
        assert tokens(body) == ("standard", stored[1].quota, stored[1].used, stored[1].quota - stored[1].used)

    @pytest.mark.parametrize("change", ["downgrade", "capture"])
    async def test_a_stale_view_of_the_plan_cannot_switch_the_period(self, client, app, change):
        """The interleaving the races above hit by chance, step by step: a request reads the plan in
        force, another changes it and commits, then the first one settles the meter."""
        owner = await on_free(client, app)
        await consumed(client, owner, 300)
        if change == "downgrade":
            await pay(client, owner, "premium")
            await consumed(client, owner, 40_000)
        rt = app.state.runtime
        before = tokens(await usage(client, owner))
        async with rt.db.transaction(uuid.UUID(owner.tenant_id)) as session:
            stale, _ = await usage_service.in_force_now(session, rt.context())
            if change == "downgrade":
                ok(await set_plan(client, owner, "standard"))
            else:
                await pay(client, owner, "standard")
            period, opened = await usage_service.settle(session, "tokens", stale, rt.now())
            assert not opened and period.plan_code == "standard"
        after = tokens(await usage(client, owner))
        if change == "downgrade":
            assert (before[:3], after) == (("premium", 50_700, 40_000), ("standard", 10_000, 40_000, 0))
        else:
            assert (before, after) == (("free", 1000, 300, 700), ("standard", 10_700, 0, 10_700))
        assert [p.plan_code for p in (await periods(app, owner.tenant_id))[1:]] == ["free", "standard"]

    @staticmethod
    async def debit(live_server: str, owner: Account, quantity: int, n: int) -> httpx.Response:
        async with httpx.AsyncClient(base_url=live_server, timeout=60) as c:
            await asyncio.sleep(n * 0.002)  # in flight all along the plan change
            return await consume(c, owner, quantity, key=f"plan-race-{owner.tenant_id}-{n}")

    @staticmethod
    async def ledger_matches(app, tenant_id: str, plans: list[str]) -> list:
        """The periods (after the trial's) are on `plans`, and each one's `used` is what the ledger
        debited from it."""
        stored = (await periods(app, tenant_id))[1:]
        assert [p.plan_code for p in stored] == plans
        entries = await ledger(app, tenant_id)
        for period in stored:
            debits = [e.quantity for e in entries if e.period_id == period.id and e.kind == "consumed"]
            assert period.used == sum(debits), (period.plan_code, period.used, debits)
        return stored


class TestSetPlan:
    async def test_upgrade_without_a_payment_is_402_and_changes_nothing(self, client, app):
        owner = await on_free(client, app)
        await consumed(client, owner, 300)
        for plan in PAID:
            refused = problem(await set_plan(client, owner, plan), "payment-required")
            assert (refused["plan"], refused["upgrade_url"]) == (plan, "/api/v1/tenants/upgrade")
        assert tokens(await usage(client, owner)) == ("free", 1000, 300, 700)
        assert [row[:2] for row in await history(app, owner.tenant_id)][-1] == ("free", "free")

    async def test_upgrade_after_a_payment_carries_the_remaining_over(self, client, app):
        owner = await on_free(client, app)
        await consumed(client, owner, 300)
        await put_on_plan(app, owner.tenant_id, "standard", "active")  # what a verified payment leaves
        body = ok(await set_plan(client, owner, "standard"))
        assert body["change"] == "upgraded"
        assert tokens(body) == ("standard", 10_700, 0, 10_700)
        (meter,) = body["meters"]
        paid_at = (await history(app, owner.tenant_id))[-1][2]
        assert (at(meter["period_start"]), at(meter["period_end"])) == (paid_at, paid_at + DAYS_30)
        assert meter["carried_over"] == 700
        again = ok(await set_plan(client, owner, "standard"))
        assert again["change"] == "unchanged" and tokens(again) == tokens(body)
        entries = await ledger(app, owner.tenant_id)
        assert [(e.kind, e.quantity, e.used_after, e.balance_after) for e in entries[-2:]] == [
            ("plan_changed", 10_000, 0, 10_000),
            ("carried_over", 700, 0, 10_700),
        ]
        stored = await periods(app, owner.tenant_id)
        assert [(p.plan_code, p.quota, p.used, p.is_current) for p in stored[-2:]] == [
            ("free", 1000, 300, False),
            ("standard", 10_700, 0, True),
        ]

    @pytest.mark.parametrize("apply_first", [True, False])
    async def test_apply_plan_for_the_razorpay_activation_is_idempotent(self, client, app, apply_first):
        owner = await on_free(client, app)
        await consumed(client, owner, 100)
        rt = app.state.runtime

        async def apply(*, activate: bool) -> tuple:
            async with rt.db.transaction(uuid.UUID(owner.tenant_id)) as session:
                ctx = rt.context()
                if activate and not apply_first:
                    await subscriptions.activate_paid(session, ctx, plan_code="premium")
                report = await usage_service.apply_plan(session, ctx, "premium")
                if activate and apply_first:
                    await subscriptions.activate_paid(session, ctx, plan_code="premium")
                meter = report.meter("tokens")
                return report.plan_code, meter.quota, meter.used, meter.carried_over

        assert await apply(activate=True) == ("premium", 50_900, 0, 900)
        await consumed(client, owner, 50)
        assert await apply(activate=False) == ("premium", 50_900, 50, 900)
        assert tokens(await usage(client, owner)) == ("premium", 50_900, 50, 50_850)

    @pytest.mark.parametrize("apply_first", [True, False])
    async def test_an_upgrade_after_the_period_ended_carries_what_get_showed(self, client, app, set_clock, apply_first):
        owner = await make_tenant(client)
        trial = await subscription(client, owner)
        set_clock(after_trial(trial, 1))
        await consumed(client, owner, 600)
        set_clock((at(trial["trial_end"]) + DAYS_30 + timedelta(days=2)).isoformat())  # no job ran since
        assert tokens(await usage(client, owner)) == ("free", 1000, 0, 1000)
        rt = app.state.runtime
        async with rt.db.transaction(uuid.UUID(owner.tenant_id)) as session:
            ctx = rt.context()
            if apply_first:
                await usage_service.apply_plan(session, ctx, "standard")
            await subscriptions.activate_paid(session, ctx, plan_code="standard")
            if not apply_first:
                await usage_service.apply_plan(session, ctx, "standard")
        body = await usage(client, owner)
        assert tokens(body) == ("standard", 11_000, 0, 11_000)
        assert at(body["meters"][0]["period_start"]) == rt.now()

    async def test_an_upgrade_at_the_instant_the_period_began_replaces_it(self, client, app, set_clock):
        set_clock(datetime.now(UTC).isoformat())  # registration and payment at one instant
        owner = await make_tenant(client)
        await consumed(client, owner, 10)
        rt = app.state.runtime
        async with rt.db.transaction(uuid.UUID(owner.tenant_id)) as session:
            ctx = rt.context()
            await subscriptions.activate_paid(session, ctx, plan_code="standard")
            await usage_service.apply_plan(session, ctx, "standard")
        assert tokens(await usage(client, owner)) == ("standard", 10_000, 0, 10_000)  # nothing carried from unlimited
        (period,) = await periods(app, owner.tenant_id)
        assert (period.plan_code, period.period_start, period.period_end) == ("standard", rt.now(), rt.now() + DAYS_30)
        entries = await ledger(app, owner.tenant_id)
        assert [(e.kind, e.quantity) for e in entries] == [("opened", None), ("consumed", 10), ("plan_changed", 10_000)]

    async def test_same_tier_without_reset_changes_nothing_and_reset_needs_a_payment_this_cycle(self, client, app):
        owner = await on_free(client, app)
        await consumed(client, owner, 300)
        same = ok(await set_plan(client, owner, "free"))
        assert same["change"] == "unchanged" and tokens(same) == ("free", 1000, 300, 700)
        problem(await set_plan(client, owner, "free", reset_used=True), "payment-required")

        await pay(client, owner, "standard")
        assert tokens(ok(await set_plan(client, owner, "standard"))) == ("standard", 10_700, 0, 10_700)
        await consumed(client, owner, 500)
        problem(await set_plan(client, owner, "standard", reset_used=True), "payment-required")  # paid, but used
        renewal = await pay(client, owner, "standard")  # a renewal during this period
        reset = ok(await set_plan(client, owner, "standard", reset_used=True))
        assert reset["change"] == "reset" and tokens(reset) == ("standard", 10_700, 0, 10_700)
        await consumed(client, owner, 100)
        once = ok(await set_plan(client, owner, "standard", reset_used=True))  # that payment reset once
        assert once["change"] == "unchanged" and tokens(once) == ("standard", 10_700, 100, 10_600)
        resets = [
            (e.kind, e.quantity, e.idempotency_key)
            for e in await ledger(app, owner.tenant_id)
            if e.kind == "used_reset"
        ]
        assert resets == [("used_reset", 500, f"reset#{renewal['id']}#tokens")]

    async def test_a_downgrade_is_no_payment_to_reset_used_with(self, client, app):
        owner = await on_free(client, app)
        await consumed(client, owner, 1000)
        await pay(client, owner, "premium")
        await consumed(client, owner, 45_000)
        assert tokens(ok(await set_plan(client, owner, "standard"))) == ("standard", 10_000, 45_000, 0)
        refused = problem(await set_plan(client, owner, "standard", reset_used=True), "payment-required")
        assert refused["plan"] == "standard"
        assert tokens(await usage(client, owner)) == ("standard", 10_000, 45_000, 0)
        assert [e.kind for e in await ledger(app, owner.tenant_id) if e.kind == "used_reset"] == []

    async def test_paying_for_a_cheaper_plan_keeps_used_like_a_downgrade(self, client, app):
        owner = await on_free(client, app)
        await consumed(client, owner, 300)
        await pay(client, owner, "premium")
        premium = await consumed(client, owner, 3000)
        assert (premium["plan"], premium["quota"]) == ("premium", 50_700)
        await pay(client, owner, "standard")
        body = await usage(client, owner)
        assert tokens(body) == ("standard", 10_000, 3000, 7000)
        assert body["meters"][0]["period_start"] == premium["period_start"]  # the same cycle
        plan, status, _, _, current = (await history(app, owner.tenant_id))[-1]
        assert (plan, status, current) == ("standard", "active", True)
        assert [p.plan_code for p in (await periods(app, owner.tenant_id))[1:]] == ["free", "standard"]

    async def test_downgrade_takes_effect_now_with_the_plans_quota(self, client, app):
        owner = await on_free(client, app)
        await consumed(client, owner, 200)
        await put_on_plan(app, owner.tenant_id, "premium", "active")
        upgraded = ok(await set_plan(client, owner, "premium"))
        assert tokens(upgraded) == ("premium", 50_800, 0, 50_800)
        await consumed(client, owner, 3000)

        down = ok(await set_plan(client, owner, "standard"))
        assert down["change"] == "downgraded" and tokens(down) == ("standard", 10_000, 3000, 7000)
        assert down["meters"][0]["period_start"] == upgraded["meters"][0]["period_start"]  # same cycle
        assert down["meters"][0]["carried_over"] == 0
        plan, status, _, _, current = (await history(app, owner.tenant_id))[-1]
        assert (plan, status, current) == ("standard", "active", True)

        await consumed(client, owner, 7000)
        free = ok(await set_plan(client, owner, "free", reset_used=True))  # reset_used: ignored on a downgrade
        assert free["change"] == "downgraded" and tokens(free) == ("free", 1000, 10_000, 0)
        over = problem(await consume(client, owner, 1), "quota-exceeded")
        assert (over["limit_value"], over["used"], over["upgrade_plans"]) == (1000, 10_000, PAID)
        assert [row[:2] for row in await history(app, owner.tenant_id)][-1] == ("free", "free")
        assert ok(await set_plan(client, owner, "free"))["change"] == "unchanged"

    async def test_a_cheaper_paid_plan_needs_a_paid_period(self, client, app):
        owner = await make_tenant(client)
        await put_on_plan(app, owner.tenant_id, "premium", "grace")
        problem(await set_plan(client, owner, "standard"), "payment-required")

    async def test_unknown_or_unselectable_plans_and_roles(self, client, mailbox):
        owner = await make_tenant(client)
        assert (await set_plan(client, owner, "gold")).status_code == 404
        trial = await set_plan(client, owner, "trial")
        assert trial.status_code == 400 and trial.json()["code"] == "plan-not-selectable"
        for not_a_boolean in ("yes please", 0, "true"):  # the spec says boolean: nothing is coerced
            assert (await set_plan(client, owner, "free", reset_used=not_a_boolean)).status_code == 422
        for role in ("accountant", "viewer"):
            member = await add_member(client, mailbox, owner, role)
            assert (await set_plan(client, member, "free")).status_code == 403
        admin = await add_member(client, mailbox, owner, "admin")
        assert ok(await set_plan(client, admin, "free"))["change"] == "downgraded"  # the trial ends early
        assert (await subscription(client, owner))["status"] == "free"


class TestMonthlyReset:
    async def test_reset_once_per_cycle_even_when_two_jobs_race(self, client, app, set_clock):
        owner = await make_tenant(client)
        trial = await subscription(client, owner)
        set_clock(after_trial(trial, 2))
        await consumed(client, owner, 400)
        start = at(trial["trial_end"])
        end = start + DAYS_30

        set_clock((end - timedelta(seconds=1)).isoformat())
        assert await reset_if_due(app, owner.tenant_id) is False
        set_clock((end + timedelta(minutes=1)).isoformat())
        body = await usage(client, owner)  # computed before any job ran
        assert tokens(body) == ("free", 1000, 0, 1000) and at(body["meters"][0]["period_start"]) == end
        results = await asyncio.gather(reset_if_due(app, owner.tenant_id), reset_if_due(app, owner.tenant_id))
        assert sorted(results) == [False, True]
        assert await reset_if_due(app, owner.tenant_id) is False
        stored = await periods(app, owner.tenant_id)
        assert [(p.plan_code, p.period_start, p.quota, p.used, p.is_current) for p in stored[1:]] == [
            ("free", start, 1000, 400, False),
            ("free", end, 1000, 0, True),
        ]
        resets = [e for e in await ledger(app, owner.tenant_id) if e.kind == "reset"]
        assert [(e.period_id, e.quantity, e.balance_after) for e in resets] == [(stored[-1].id, 1000, 1000)]
        assert await usage(client, owner) == body

    async def test_a_late_job_never_blocks_consumption(self, client, app, set_clock):
        owner = await make_tenant(client)
        trial = await subscription(client, owner)
        set_clock(after_trial(trial, 1))
        await consumed(client, owner, 1000)
        problem(await consume(client, owner, 1), "quota-exceeded")
        start = at(trial["trial_end"])
        set_clock((start + 3 * DAYS_30 + timedelta(days=5)).isoformat())  # three cycles later, no job ran
        debit = await consumed(client, owner, 1000)
        assert (debit["used"], at(debit["period_start"])) == (1000, start + 3 * DAYS_30)
        assert await reset_if_due(app, owner.tenant_id) is False


async def test_both_plan_bodies_accept_the_same_plan_codes(client):
    """One PlanCode (app.schemas.common) for set-plan and upgrade: every seeded plan code is valid."""
    spec = (await client.get("/openapi.json")).json()["components"]["schemas"]
    patterns = {spec[name]["properties"]["plan"]["pattern"] for name in ("SetPlanRequest", "UpgradeRequest")}
    (pattern,) = patterns
    assert all(re.fullmatch(pattern, code) for code in ("trial", "free", "standard", "premium"))
    assert not re.fullmatch(pattern, "premium-" + "x" * 12)


@pytest.mark.parametrize("path", ["/usage", "/tokens/usage"])
async def test_reads_need_a_token(client, path):
    assert (await client.get(f"{API}{path}")).status_code == 401
