"""Recurring invoices (issue 12 §4): schedules set up through the API, their periods issued by
run_due(at) exactly once each, dated their own dates (late ones too), month ends clamped (31 Jan ->
28 Feb, 29 in a leap year), quarterly and yearly, pause (skipped periods) and resume, end by count,
by date and by hand, two workers racing, failures recorded on the schedule and not retried
silently, and the invoice mailed when asked. Dates derive from the `today` fixture (the app clock);
run_due takes its instant."""

import asyncio
import calendar
import uuid
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from app.domain.fiscal import INDIA
from app.domain.recurrence import Frequency, Recurrence
from app.models.billing.customer import Customer
from app.models.billing.recurring import RecurringInvoice, RecurringInvoiceRun
from app.repositories.platform.jobs import DueWorkRepository
from app.services.billing import recurring_issue
from tests.api.v1.business import audit_rows
from tests.api.v1.invoicing import line, make_company, make_customer
from tests.conftest import unique_email
from tests.factories import API, make_tenant
from tests.jobs.scheduling import run

URL = f"{API}/recurring-invoices"


@pytest.fixture
def rt(app):
    return app.state.runtime


@pytest.fixture
async def party(client):
    owner = await make_tenant(client)
    company = await make_company(client, owner)
    customer = await make_customer(client, owner, email=unique_email("accounts"))
    return owner, company, customer


def ist(day: date, hour: int = 0, minute: int = 5) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=INDIA)


@contextmanager
def clock_at(rt, day: date):
    """The app's clock at 10:00 in India on `day` for the requests inside."""
    saved, instant = rt.clock, ist(day, 10, 0).astimezone(UTC)
    rt.clock = lambda: instant
    try:
        yield
    finally:
        rt.clock = saved


def last_leap_year_before(year: int) -> int:
    return max(y for y in range(2020, year) if calendar.isleap(y))


async def create(client, party, **fields) -> dict:
    owner, company, customer = party
    body = {
        "company_id": company["id"],
        "customer_id": customer["id"],
        "frequency": "monthly",
        "lines": [line("5000.00", description="Monthly retainer")],
        **fields,
    }
    response = await client.post(URL, json=body, headers=owner.headers)
    assert response.status_code == 201, response.text
    return response.json()


async def go(rt, at: datetime, owner) -> tuple[int, int]:
    summary = await run(rt, at, owner.tenant_id)
    assert not summary.failed, summary
    return summary.recurring_invoices, summary.recurring_failures


async def history(client, owner, schedule: dict) -> list[dict]:
    response = await client.get(f"{URL}/{schedule['id']}/invoices", params={"limit": 100}, headers=owner.headers)
    assert response.status_code == 200, response.text
    return list(reversed(response.json()["items"]))  # oldest first


async def read(client, owner, schedule: dict) -> dict:
    response = await client.get(f"{URL}/{schedule['id']}", headers=owner.headers)
    assert response.status_code == 200, response.text
    return response.json()


async def invoices_of(client, owner, customer: dict) -> list[dict]:
    params = {"customer_id": customer["id"], "limit": 100, "sort": "invoice_date"}
    response = await client.get(f"{API}/invoices", params=params, headers=owner.headers)
    assert response.status_code == 200, response.text
    return response.json()["items"]


class TestMonthEnd:
    async def test_day_31_across_february_and_late_periods_issued_once_each_with_their_dates(
        self, client, rt, party, today
    ):
        owner, _, customer = party
        year = today.year - 1  # a whole past year: every period is missed, the job issues them late
        schedule = await create(
            client,
            party,
            day_of_month=31,
            start_date=f"{year}-01-01",
            end_date=f"{year}-04-30",
            lines=[line("5000.00", description="Office rent, {month}")],
            notes="For {period}.",
        )
        assert schedule["next_date"] == f"{year}-01-31" and schedule["status"] == "active"

        assert await go(rt, ist(today), owner) == (4, 0)
        february = date(year, 2, calendar.monthrange(year, 2)[1])
        expected = [date(year, 1, 31), february, date(year, 3, 31), date(year, 4, 30)]
        issued = await invoices_of(client, owner, customer)
        assert [i["invoice_date"] for i in issued] == [d.isoformat() for d in expected]
        assert all(i["status"] == "issued" and i["total"] == "5900.00" for i in issued)
        assert len({i["number"] for i in issued}) == 4

        rows = await history(client, owner, schedule)
        assert [(r["period_number"], r["period_start"], r["period_end"], r["outcome"]) for r in rows] == [
            (1, f"{year}-01-31", (february - timedelta(days=1)).isoformat(), "issued"),
            (2, february.isoformat(), f"{year}-03-30", "issued"),
            (3, f"{year}-03-31", f"{year}-04-29", "issued"),
            (4, f"{year}-04-30", f"{year}-05-30", "issued"),
        ]
        assert [r["invoice_id"] for r in rows] == [i["id"] for i in issued]
        assert [r["invoice_number"] for r in rows] == [i["number"] for i in issued]
        february_invoice = (await client.get(f"{API}/invoices/{issued[1]['id']}", headers=owner.headers)).json()
        assert february_invoice["lines"][0]["description"] == f"Office rent, February {year}"
        last_day = february.strftime("%d %b %Y")
        assert february_invoice["notes"] == f"For {last_day} to 30 Mar {year}."

        after = await read(client, owner, schedule)
        assert after["status"] == "ended" and after["end_reason"] == "end_date_reached"
        assert after["issued_count"] == 4 and after["next_date"] is None
        # re-runs, later ones too, issue nothing more
        assert await go(rt, ist(today, 12), owner) == (0, 0)
        assert await go(rt, ist(today + timedelta(days=40)), owner) == (0, 0)
        assert len(await invoices_of(client, owner, customer)) == 4
        actions = [row["action"] for row in await audit_rows(client, owner, schedule["id"])]
        assert actions.count("recurring_invoice.period_issued") == 4
        assert "recurring_invoice.created" in actions

    async def test_leap_year_february_takes_the_29th(self, client, rt, party, today):
        owner, _, customer = party
        leap = last_leap_year_before(today.year)
        schedule = await create(client, party, day_of_month=31, start_date=f"{leap}-01-31", count=3)
        assert await go(rt, ist(today), owner) == (3, 0)
        issued = await invoices_of(client, owner, customer)
        assert [i["invoice_date"] for i in issued] == [f"{leap}-01-31", f"{leap}-02-29", f"{leap}-03-31"]
        after = await read(client, owner, schedule)
        assert after["status"] == "ended" and after["end_reason"] == "count_reached" and after["issued_count"] == 3


class TestTheDayInIndia:
    async def test_a_period_is_due_from_midnight_in_india_not_utc(self, client, rt, party, today):
        owner, _, customer = party
        tomorrow = today + timedelta(days=1)
        await create(client, party, day_of_month=tomorrow.day, start_date=tomorrow.isoformat())
        before = datetime.combine(today, time(18, 0), tzinfo=UTC)  # 23:30 in India: still today there
        assert before.astimezone(INDIA).date() == today
        assert await go(rt, before, owner) == (0, 0)
        after = datetime.combine(today, time(19, 0), tzinfo=UTC)  # 00:30 tomorrow in India
        assert after.astimezone(INDIA).date() == tomorrow
        assert await go(rt, after, owner) == (1, 0)
        [invoice] = await invoices_of(client, owner, customer)
        assert invoice["invoice_date"] == tomorrow.isoformat()


class TestFrequencies:
    async def test_quarterly_and_yearly(self, client, rt, party, today):
        owner, company, _ = party
        quarterly_customer = await make_customer(client, owner, name="Quarterly Client")
        yearly_customer = await make_customer(client, owner, name="Yearly Client")
        start = date(today.year - 2, 1, 1)
        await create(
            client,
            (owner, company, quarterly_customer),
            frequency="quarterly",
            day_of_month=30,
            start_date=start.isoformat(),
            count=4,
        )
        await create(
            client,
            (owner, company, yearly_customer),
            frequency="yearly",
            day_of_month=29,
            start_date=f"{today.year - 3}-02-01",
            end_date=(today - timedelta(days=1)).isoformat(),
        )
        issued, failed = await go(rt, ist(today), owner)
        quarterly = [i["invoice_date"] for i in await invoices_of(client, owner, quarterly_customer)]
        yearly = [i["invoice_date"] for i in await invoices_of(client, owner, yearly_customer)]
        y = today.year - 2
        assert quarterly == [f"{y}-01-30", f"{y}-04-30", f"{y}-07-30", f"{y}-10-30"]
        expected_yearly = [
            date(year, 2, min(29, calendar.monthrange(year, 2)[1])).isoformat()
            for year in range(today.year - 3, today.year + 1)
            if date(year, 2, min(29, calendar.monthrange(year, 2)[1])) < today
        ]
        assert yearly == expected_yearly
        assert (issued, failed) == (4 + len(expected_yearly), 0)


class TestPauseResume:
    async def test_paused_periods_are_skipped_the_rest_issued_on_their_dates(self, client, rt, party, today):
        owner, _, customer = party
        day = min(today.day, 28)
        start = date(today.year, today.month, day)
        schedule = await create(client, party, day_of_month=day, start_date=start.isoformat())
        dates = Recurrence(Frequency.monthly, day, start)
        assert await go(rt, ist(today), owner) == (1, 0)

        paused = await client.post(f"{URL}/{schedule['id']}/pause", headers=owner.headers)
        assert paused.status_code == 200, paused.text
        assert paused.json()["status"] == "paused" and paused.json()["paused_on"] == today.isoformat()
        again = await client.post(f"{URL}/{schedule['id']}/pause", headers=owner.headers)
        assert again.status_code == 409 and again.json()["code"] == "recurring-invoice-paused"

        # paused: nothing is found or issued when periods 2 and 3 come
        assert await go(rt, ist(dates.period(1)), owner) == (0, 0)
        assert await go(rt, ist(dates.period(2)), owner) == (0, 0)
        async with rt.db.transaction() as session:
            due = await DueWorkRepository(session).recurring_invoice_tenants(
                ist(dates.period(2)), only=[uuid.UUID(owner.tenant_id)]
            )
        assert due == []

        resume_day = dates.period(2) + timedelta(days=1)
        with clock_at(rt, resume_day):
            resumed = await client.post(f"{URL}/{schedule['id']}/resume", headers=owner.headers)
        assert resumed.status_code == 200, resumed.text
        assert resumed.json()["status"] == "active" and resumed.json()["next_date"] == dates.period(3).isoformat()
        assert await go(rt, ist(resume_day), owner) == (0, 0)
        assert await go(rt, ist(dates.period(3)), owner) == (1, 0)

        rows = await history(client, owner, schedule)
        assert [(r["period_start"], r["outcome"]) for r in rows] == [
            (dates.period(0).isoformat(), "issued"),
            (dates.period(1).isoformat(), "skipped"),
            (dates.period(2).isoformat(), "skipped"),
            (dates.period(3).isoformat(), "issued"),
        ]
        assert rows[1]["invoice_id"] is None
        issued = await invoices_of(client, owner, customer)
        assert [i["invoice_date"] for i in issued] == [dates.period(0).isoformat(), dates.period(3).isoformat()]
        assert (await read(client, owner, schedule))["issued_count"] == 2

    async def test_end_by_hand_and_state_rules(self, client, rt, party, today):
        owner, _, customer = party
        schedule = await create(client, party, start_date=(today + timedelta(days=3)).isoformat())
        not_paused = await client.post(f"{URL}/{schedule['id']}/resume", headers=owner.headers)
        assert not_paused.status_code == 409 and not_paused.json()["code"] == "recurring-invoice-active"
        ended = await client.post(f"{URL}/{schedule['id']}/end", headers=owner.headers)
        assert ended.status_code == 200
        assert ended.json()["status"] == "ended" and ended.json()["end_reason"] == "ended"
        for action in ("pause", "resume", "end"):
            response = await client.post(f"{URL}/{schedule['id']}/{action}", headers=owner.headers)
            assert response.status_code == 409 and response.json()["code"] == "recurring-invoice-ended"
        assert await go(rt, ist(today + timedelta(days=40)), owner) == (0, 0)
        assert await invoices_of(client, owner, customer) == []


class TestRaces:
    async def test_two_workers_racing_one_period_make_one_invoice(self, client, rt, party, today):
        owner, _, customer = party
        schedule = await create(client, party, day_of_month=today.day, start_date=today.isoformat())
        racing = await asyncio.gather(*(run(rt, ist(today, 9), owner.tenant_id) for _ in range(2)))
        assert not any(s.failed for s in racing)
        assert sorted(s.recurring_invoices for s in racing) == [0, 1]
        [invoice] = await invoices_of(client, owner, customer)
        assert invoice["invoice_date"] == today.isoformat()
        assert [r["invoice_id"] for r in await history(client, owner, schedule)] == [invoice["id"]]

    async def test_racing_workers_catching_up_issue_each_missed_period_once(self, client, rt, party, today):
        owner, _, customer = party
        start = date(today.year - 1, today.month, 1)
        await create(client, party, day_of_month=15, start_date=start.isoformat(), count=6)
        racing = await asyncio.gather(*(run(rt, ist(today, 9), owner.tenant_id) for _ in range(4)))
        assert not any(s.failed for s in racing)
        assert sum(s.recurring_invoices for s in racing) == 6
        dates = [i["invoice_date"] for i in await invoices_of(client, owner, customer)]
        assert dates == [Recurrence(Frequency.monthly, 15, start).period(n).isoformat() for n in range(6)]

    async def test_the_database_refuses_a_second_claim_of_a_period(self, client, rt, party, today):
        owner, _, _ = party
        schedule = await create(client, party, day_of_month=today.day, start_date=today.isoformat())
        assert await go(rt, ist(today), owner) == (1, 0)
        tenant = uuid.UUID(owner.tenant_id)
        with pytest.raises(IntegrityError):
            async with rt.db.transaction(tenant) as session:
                session.add(
                    RecurringInvoiceRun(
                        tenant_id=tenant,
                        schedule_id=uuid.UUID(schedule["id"]),
                        period_index=0,
                        period_date=today,
                        period_end=today,
                        outcome="skipped",
                        created_at=datetime.now(UTC),
                    )
                )
                await session.flush()


class TestFailures:
    async def test_a_period_that_cannot_be_issued_fails_the_schedule_once_and_resume_catches_up(
        self, client, rt, party, mailbox, today
    ):
        owner, _, customer = party
        start = date(today.year - 1, 1, 1)
        schedule = await create(client, party, day_of_month=10, start_date=start.isoformat(), count=3)
        removed = await client.delete(f"{API}/customers/{customer['id']}", headers=owner.headers)
        assert removed.status_code == 200 and removed.json()["outcome"] == "archived"  # the schedule refers to it

        assert await go(rt, ist(today), owner) == (0, 1)
        failed = await read(client, owner, schedule)
        assert failed["status"] == "failed" and failed["next_date"] == f"{start.year}-01-10"
        assert failed["failure"]["code"] == "customer-archived"
        assert "archived" in failed["failure"]["message"]
        listed = await client.get(URL, params={"status": "failed"}, headers=owner.headers)
        assert [s["id"] for s in listed.json()["items"]] == [schedule["id"]]
        notice = await mailbox.wait_for(owner.email, "stopped")
        assert customer["name"] in notice["Subject"] and f"10 Jan {start.year}" in notice["Subject"]
        assert "archived" in notice.get_body(("plain",)).get_content()
        # not retried every run, and told once
        assert await go(rt, ist(today, 1), owner) == (0, 0)
        assert len([m for m in mailbox.to(owner.email) if "stopped" in m["Subject"]]) == 1
        assert "recurring_invoice.failed" in [r["action"] for r in await audit_rows(client, owner, schedule["id"])]

        async with rt.db.transaction(uuid.UUID(owner.tenant_id)) as session:
            await session.execute(
                update(Customer).where(Customer.id == uuid.UUID(customer["id"])).values(is_archived=False)
            )
        resumed = await client.post(f"{URL}/{schedule['id']}/resume", headers=owner.headers)
        assert resumed.status_code == 200 and resumed.json()["failure"] is None
        assert await go(rt, ist(today, 2), owner) == (3, 0)
        issued = await invoices_of(client, owner, customer)
        assert [i["invoice_date"] for i in issued] == [
            f"{start.year}-01-10",
            f"{start.year}-02-10",
            f"{start.year}-03-10",
        ]

    async def test_stored_content_that_no_longer_validates_fails_the_schedule_not_the_step(
        self, client, rt, party, today
    ):
        owner, _, _ = party
        schedule = await create(client, party, day_of_month=today.day, start_date=today.isoformat())
        async with rt.db.transaction(uuid.UUID(owner.tenant_id)) as session:
            await session.execute(
                update(RecurringInvoice)
                .where(RecurringInvoice.id == uuid.UUID(schedule["id"]))
                .values(lines=[{"description": "Broken", "quantity": "0", "unit_price": "1.00", "gst_rate": "18"}])
            )
        assert await go(rt, ist(today), owner) == (0, 1)
        failure = (await read(client, owner, schedule))["failure"]
        assert failure["code"] == "recurring-content-invalid"


class TestSend:
    async def test_each_invoice_is_mailed_when_asked(self, client, rt, party, mailbox, today):
        owner, _, customer = party
        schedule = await create(client, party, day_of_month=today.day, start_date=today.isoformat(), send=True)
        assert await go(rt, ist(today), owner) == (1, 0)
        [invoice] = await invoices_of(client, owner, customer)
        message = await mailbox.wait_for(customer["email"], invoice["number"])
        assert invoice["number"] in message["Subject"]
        [row] = await history(client, owner, schedule)
        assert row["sent"] is True and row["send_error"] is None

    async def test_no_email_leaves_the_invoice_issued_and_says_why(self, client, rt, party, today):
        owner, company, _ = party
        silent = await make_customer(client, owner, name="No Mail Traders")
        schedule = await create(
            client, (owner, company, silent), day_of_month=today.day, start_date=today.isoformat(), send=True
        )
        assert await go(rt, ist(today), owner) == (1, 0)
        [row] = await history(client, owner, schedule)
        assert row["outcome"] == "issued" and row["sent"] is False and "email" in row["send_error"]


class TestUpdate:
    async def test_new_content_applies_from_the_next_period_and_the_count_is_checked(self, client, rt, party, today):
        owner, _, customer = party
        day = min(today.day, 28)
        start = date(today.year, today.month, day)
        schedule = await create(client, party, day_of_month=day, start_date=start.isoformat(), count=3)
        url = f"{URL}/{schedule['id']}"
        assert await go(rt, ist(today), owner) == (1, 0)
        dates = Recurrence(Frequency.monthly, day, start)

        refused = await client.patch(url, json={"lines": [line(gst_rate="7")]}, headers=owner.headers)
        assert refused.status_code == 400 and refused.json()["code"] == "gst-rate-not-in-force"
        assert Decimal((await read(client, owner, schedule))["lines"][0]["unit_price"]) == Decimal("5000")
        changed = await client.patch(
            url,
            json={"lines": [line("6000.00", description="Retainer, revised")], "due_days": 10},
            headers=owner.headers,
        )
        assert changed.status_code == 200, changed.text
        assert Decimal(changed.json()["lines"][0]["unit_price"]) == Decimal("6000") and changed.json()["due_days"] == 10
        assert await go(rt, ist(dates.period(1)), owner) == (1, 0)
        first, second = await invoices_of(client, owner, customer)
        assert (first["total"], second["total"]) == ("5900.00", "7080.00")
        assert second["due_date"] == (dates.period(1) + timedelta(days=10)).isoformat()

        below = await client.patch(url, json={"count": 1}, headers=owner.headers)
        assert below.status_code == 400 and below.json()["code"] == "recurring-count-below-issued"
        reached = await client.patch(url, json={"count": 2}, headers=owner.headers)
        assert reached.json()["status"] == "ended" and reached.json()["end_reason"] == "count_reached"
        after = await client.patch(url, json={"notes": "Thank you"}, headers=owner.headers)
        assert after.status_code == 409 and after.json()["code"] == "recurring-invoice-ended"
        actions = [row["action"] for row in await audit_rows(client, owner, schedule["id"])]
        assert actions.count("recurring_invoice.updated") == 2

    async def test_an_end_date_already_passed_ends_it_and_null_removes_an_end(self, client, rt, party, today):
        owner, _, _ = party
        schedule = await create(client, party, day_of_month=today.day, start_date=today.isoformat(), count=5)
        url = f"{URL}/{schedule['id']}"
        assert await go(rt, ist(today), owner) == (1, 0)
        unbounded = await client.patch(url, json={"count": None}, headers=owner.headers)
        assert unbounded.status_code == 200 and unbounded.json()["count"] is None
        assert unbounded.json()["status"] == "active"
        ended = await client.patch(url, json={"end_date": today.isoformat()}, headers=owner.headers)
        assert ended.json()["status"] == "ended" and ended.json()["end_reason"] == "end_date_reached"


class TestCharge:
    async def test_a_payment_link_for_each_invoice_made_once_in_a_step_of_its_own(self, client, rt, party, today):
        owner, _, _ = party
        schedule = await create(
            client, party, day_of_month=today.day, start_date=today.isoformat(), charge_by_link=True
        )
        summary = await run(rt, ist(today), owner.tenant_id)
        assert not summary.failed, summary
        assert (summary.recurring_invoices, summary.recurring_charges) == (1, 1)
        [row] = await history(client, owner, schedule)
        assert row["online_payment_id"] is not None and row["charge_error"] is None
        payment = await client.get(f"{API}/online-payments/{row['online_payment_id']}", headers=owner.headers)
        assert payment.status_code == 200, payment.text
        assert payment.json()["invoice_id"] == row["invoice_id"]
        assert payment.json()["amount"] == "5900.00"
        again = await run(rt, ist(today, 1), owner.tenant_id)
        assert (again.recurring_invoices, again.recurring_charges) == (0, 0)

    async def test_an_invoice_voided_before_its_link_is_made_records_why(self, client, rt, party, today):
        owner, _, _ = party
        schedule = await create(
            client, party, day_of_month=today.day, start_date=today.isoformat(), charge_by_link=True
        )
        async with rt.db.transaction(uuid.UUID(owner.tenant_id)) as session:
            ctx = rt.context(tenant_id=uuid.UUID(owner.tenant_id), at=ist(today))
            assert (await recurring_issue.issue_due(session, ctx))["recurring_invoices"] == 1
        [row] = await history(client, owner, schedule)
        assert row["online_payment_id"] is None
        voided = await client.post(
            f"{API}/invoices/{row['invoice_id']}/void", json={"reason": "Billed in error"}, headers=owner.headers
        )
        assert voided.status_code == 200, voided.text
        summary = await run(rt, ist(today, 1), owner.tenant_id)
        assert not summary.failed and summary.recurring_charges == 0
        [row] = await history(client, owner, schedule)
        assert row["online_payment_id"] is None and "void" in row["charge_error"]
        assert (await run(rt, ist(today, 2), owner.tenant_id)).recurring_charges == 0

    async def test_with_send_the_mail_goes_once_the_link_is_made(self, client, rt, party, mailbox, today):
        owner, _, customer = party
        schedule = await create(
            client, party, day_of_month=today.day, start_date=today.isoformat(), charge_by_link=True, send=True
        )
        async with rt.db.transaction(uuid.UUID(owner.tenant_id)) as session:
            ctx = rt.context(tenant_id=uuid.UUID(owner.tenant_id), at=ist(today))
            assert (await recurring_issue.issue_due(session, ctx))["recurring_invoices"] == 1
        [row] = await history(client, owner, schedule)
        assert row["sent"] is False and row["send_error"] is None and row["online_payment_id"] is None
        summary = await run(rt, ist(today, 1), owner.tenant_id)
        assert summary.recurring_charges == 1
        [row] = await history(client, owner, schedule)
        assert row["sent"] is True and row["online_payment_id"] is not None
        [invoice] = await invoices_of(client, owner, customer)
        await mailbox.wait_for(customer["email"], invoice["number"])
        assert len([m for m in mailbox.to(customer["email"]) if invoice["number"] in m["Subject"]]) == 1


class TestCreate:
    async def test_the_content_is_checked_like_an_invoice(self, client, party, today):
        owner, company, customer = party
        base = {"company_id": company["id"], "customer_id": customer["id"], "frequency": "monthly"}

        async def refused(status: int, code: str, **fields) -> None:
            body = base | {"lines": [line()]} | fields
            response = await client.post(URL, json=body, headers=owner.headers)
            assert response.status_code == status, response.text
            assert response.json()["code"] == code

        await refused(400, "gst-rate-not-in-force", lines=[line(gst_rate="7")])
        await refused(404, "customer-not-found", customer_id=str(uuid.uuid4()))
        await refused(404, "company-not-found", company_id=str(uuid.uuid4()))
        await refused(
            400,
            "recurring-end-before-start",
            start_date=today.isoformat(),
            end_date=(today - timedelta(days=1)).isoformat(),
        )
        later_day = today.day + 1 if today.day < 28 else 1  # the first period would come after the end date
        await refused(
            400,
            "recurring-no-periods",
            start_date=today.isoformat(),
            day_of_month=later_day,
            end_date=today.isoformat(),
        )
        listed = await client.get(URL, headers=owner.headers)
        assert listed.json()["items"] == []

    async def test_defaults_and_read(self, client, party, today):
        _, _, customer = party
        schedule = await create(client, party)
        assert schedule["start_date"] == today.isoformat() and schedule["day_of_month"] == today.day
        assert schedule["next_date"] == today.isoformat()
        assert schedule["customer_name"] == customer["name"]
        assert schedule["lines"][0]["description"] == "Monthly retainer"
        assert schedule["send"] is False and schedule["failure"] is None
