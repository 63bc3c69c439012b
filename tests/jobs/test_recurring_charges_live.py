"""Recurring invoices charged by payment link on the tenant's own (fake) Razorpay account, over real
HTTP: the link made on that account by the charge step; the gateway failing (5xx) leaves the link
for the next run, and after MAX_CHARGE_ATTEMPTS runs the period says why, the invoice standing."""

from datetime import UTC, datetime, time, timedelta

from app.domain.fiscal import INDIA, today_in_india
from app.services.billing.recurring_issue import MAX_CHARGE_ATTEMPTS
from tests.api.v1.invoicing import line, make_company, make_customer
from tests.factories import API, make_tenant
from tests.fake_razorpay import configure_gateway, fake_razorpay, razorpay_app, razorpay_client
from tests.jobs.scheduling import run

__all__ = ["fake_razorpay", "razorpay_app", "razorpay_client"]  # fixtures
URL = f"{API}/recurring-invoices"


async def test_links_on_the_tenants_account_and_a_gateway_down_retried_then_given_up(
    razorpay_client, razorpay_app, fake_razorpay
):
    client, fake, rt = razorpay_client, fake_razorpay, razorpay_app.state.runtime
    instant = datetime.now(UTC)
    rt.clock = lambda: instant  # held still for the test (the fixture restores it)
    today = today_in_india(instant)
    owner = await make_tenant(client)
    account = fake.account()
    await configure_gateway(client, owner, account)
    company = await make_company(client, owner)
    customer = await make_customer(client, owner, phone="9876543210")
    body = {
        "company_id": company["id"],
        "customer_id": customer["id"],
        "frequency": "monthly",
        "day_of_month": today.day,
        "start_date": today.isoformat(),
        "charge_by_link": True,
        "lines": [line("1000.00")],
    }
    created = await client.post(URL, json=body, headers=owner.headers)
    assert created.status_code == 201, created.text
    schedule = created.json()

    def at(minute: int) -> datetime:
        return datetime.combine(today, time(0, 5), tzinfo=INDIA) + timedelta(minutes=minute)

    async def history() -> dict:
        response = await client.get(f"{URL}/{schedule['id']}/invoices", headers=owner.headers)
        [row] = response.json()["items"]
        return row

    fake.fail_next(3, 500)  # the first try and both retries of the first run's link
    first = await run(rt, at(0), owner.tenant_id)
    assert not first.failed and (first.recurring_invoices, first.recurring_charges) == (1, 0)
    row = await history()
    assert row["online_payment_id"] is None and row["charge_error"] is None  # left for the next run

    second = await run(rt, at(1), owner.tenant_id)
    assert second.recurring_charges == 1
    row = await history()
    links = [c for c in fake.calls_of(account) if c.path == "/v1/payment_links" and c.method == "POST"]
    assert len(links) == 4  # three refused, one made
    assert links[-1].body["amount"] == 118000
    payment = await client.get(f"{API}/online-payments/{row['online_payment_id']}", headers=owner.headers)
    assert payment.status_code == 200 and payment.json()["invoice_id"] == row["invoice_id"]

    # the next period, with the gateway down for every attempt: given up after MAX_CHARGE_ATTEMPTS runs
    next_month = (await client.get(f"{URL}/{schedule['id']}", headers=owner.headers)).json()["next_date"]
    day = datetime.fromisoformat(next_month).date()
    fake.fail_next(3 * MAX_CHARGE_ATTEMPTS, 500)
    for attempt in range(MAX_CHARGE_ATTEMPTS):
        done = await run(rt, datetime.combine(day, time(0, 5 + attempt), tzinfo=INDIA), owner.tenant_id)
        assert not done.failed and done.recurring_charges == 0
    response = await client.get(f"{URL}/{schedule['id']}/invoices", headers=owner.headers)
    latest = response.json()["items"][0]
    assert latest["period_start"] == next_month and latest["outcome"] == "issued"
    assert latest["online_payment_id"] is None and latest["charge_error"]
    invoice = await client.get(f"{API}/invoices/{latest['invoice_id']}", headers=owner.headers)
    assert invoice.json()["status"] == "issued"
    later = await run(rt, datetime.combine(day, time(1, 0), tzinfo=INDIA), owner.tenant_id)
    assert later.recurring_charges == 0
    assert (await history_rows(client, owner, schedule))[0]["charge_error"] == latest["charge_error"]


async def history_rows(client, owner, schedule: dict) -> list[dict]:
    response = await client.get(f"{URL}/{schedule['id']}/invoices", headers=owner.headers)
    assert response.status_code == 200, response.text
    return response.json()["items"]
