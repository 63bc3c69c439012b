"""A tenant's whole life, end to end through HTTP and the scheduled jobs, on one moved clock:
signup and trial, reminders on days 7/12/13, the free plan from day 14 with its limits, a paid
upgrade (sandbox Razorpay) carrying unused tokens over, the renewal reminder, and the fall back to
the free plan when the paid month ends unrenewed."""

from datetime import datetime, timedelta

import pytest

from app.core.runtime import Runtime
from app.services.platform.subscriptions import add_month
from tests.api.v1.payment_flow import order, payments, verify
from tests.api.v1.report_data import set_clock
from tests.api.v1.subscription_rows import subscription
from tests.api.v1.usage_rows import consume, usage
from tests.factories import login, make_tenant
from tests.jobs.scheduling import REMINDER, run, subjects, trial_day

__all__ = ["set_clock"]


@pytest.fixture
def rt(app) -> Runtime:
    return app.state.runtime


def fixed(rt: Runtime, at: datetime) -> Runtime:
    """The jobs' runtime at `at` (HTTP requests follow `set_clock`)."""
    return Runtime(settings=rt.settings, db=rt.db, clock=lambda: at)


async def test_signup_trial_reminders_free_tier_upgrade_renewal_reminder_and_downgrade(
    client, app, rt, set_clock, mailbox
):
    owner = await make_tenant(client)
    trial = await subscription(client, owner)
    assert (trial["status"], trial["trial_days_remaining"]) == ("trialing", 14)
    assert (await usage(client, owner))["token_quota"] is None  # the trial is unlimited

    for day in (1, 6, 7, 8, 12, 13):
        await run(rt, trial_day(trial, day), owner.tenant_id)
    assert subjects(mailbox, owner.email, REMINDER) == [
        "7 days left in your RMS Billing trial",
        "2 days left in your RMS Billing trial",
        "1 day left in your RMS Billing trial",
    ]

    day_14 = trial_day(trial, 14)
    assert (await run(rt, day_14, owner.tenant_id)).transitions == 1
    assert subjects(mailbox, owner.email, "trial has ended") == ["Your RMS Billing trial has ended"]
    set_clock(day_14.isoformat())
    owner = await login(client, owner.email)  # the week-old session has expired by then
    free = await subscription(client, owner)
    assert (free["plan"]["code"], free["status"]) == ("free", "free")
    assert free["limits"]["invoices_this_month"]["limit"] == 10
    assert (await consume(client, owner, 300)).status_code == 200
    tokens = await usage(client, owner)
    assert (tokens["token_quota"], tokens["token_used"], tokens["remaining"]) == (1000, 300, 700)

    checkout = (await order(client, owner, "standard"))["sandbox_checkout"]
    assert (await verify(client, owner, checkout)).status_code == 200
    paid = await subscription(client, owner)
    paid_until = add_month(day_14)
    assert (paid["plan"]["code"], paid["status"]) == ("standard", "active")
    assert datetime.fromisoformat(paid["current_period_end"]) == paid_until
    tokens = await usage(client, owner)
    assert (tokens["token_quota"], tokens["token_used"], tokens["remaining"]) == (10_700, 0, 10_700)
    assert [p["status"] for p in await payments(client, owner)] == ["captured"]

    reminder_at = paid_until - timedelta(days=rt.settings.renewal_reminder_days) + timedelta(minutes=1)
    assert (await run(rt, reminder_at, owner.tenant_id)).renewal_reminders == 1
    assert (await run(rt, reminder_at + timedelta(hours=1), owner.tenant_id)).renewal_reminders == 0
    assert len(subjects(mailbox, owner.email, "Standard plan ends on")) == 1

    after = paid_until + timedelta(minutes=1)
    assert (await run(rt, after, owner.tenant_id)).transitions == 1
    set_clock(after.isoformat())
    owner = await login(client, owner.email)
    lapsed = await subscription(client, owner)
    assert (lapsed["plan"]["code"], lapsed["status"]) == ("free", "free")
    tokens = await usage(client, owner)
    assert (tokens["token_quota"], tokens["token_used"]) == (1000, 0)
    assert (await run(rt, after, owner.tenant_id)).did_anything is False
