"""Payment reminders to customers (issue 10 §4): each reminder of an unpaid invoice exactly once, one
mail per customer listing its invoices, never after the invoice is paid, voided or fully credited,
at or after the tenant's send hour in India. Time is driven through run_due(at), relative to the
`today` fixture (the invoices are dated from it), with the real SMTP server."""

import asyncio
import io
import re
import uuid
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from email.utils import parseaddr
from urllib.parse import urlsplit

import httpx
import pytest
from pypdf import PdfReader
from sqlalchemy import select

from app.core.database import drain_background_tasks
from app.domain.fiscal import INDIA
from app.models.platform.job import JobOccasion
from app.repositories.billing.invoices import InvoiceRepository
from app.repositories.platform.jobs import DueWorkRepository
from app.repositories.platform.subscriptions import SubscriptionRepository
from app.schemas.documents.document_mail import InvoiceSendRequest
from app.services.billing import reminders
from app.services.documents import document_mail
from app.services.platform import mail
from app.services.platform.scheduler import Summary
from tests.api.v1.invoicing import Party, line, make_company, make_customer, make_invoice
from tests.api.v1.report_data import full_credit_note, receipt, void_invoice
from tests.api.v1.subscription_rows import put_on_plan
from tests.conftest import free_port, unique_email
from tests.factories import API, Account, make_tenant
from tests.jobs.scheduling import run

SETTINGS = f"{API}/reminder-settings"


@pytest.fixture
def rt(app):
    return app.state.runtime


def ist(day: date, hour: int = 10, minute: int = 0) -> datetime:
    """`hour:minute` in India on `day` (UTC+05:30)."""
    return datetime.combine(day, time(hour, minute), tzinfo=INDIA)


async def reminders_on(client: httpx.AsyncClient, account: Account, **fields) -> dict:
    response = await client.put(SETTINGS, json={"enabled": True, **fields}, headers=account.headers)
    assert response.status_code == 200, response.text
    return response.json()


async def party_with_email(client: httpx.AsyncClient, **company_fields) -> Party:
    owner = await make_tenant(client)
    company = await make_company(client, owner, **company_fields)
    address = {"line1": "4 Residency Road", "city": "Bengaluru", "state_code": "29", "pincode": "560025"}
    customer = await make_customer(
        client, owner, name="Gupta Electricals", email=unique_email("accounts"), billing_address=address
    )
    return Party(owner, company, customer)


async def invoice_due(
    client: httpx.AsyncClient, party: Party, today: date, due_in: int, amount: str = "1000.00"
) -> dict:
    """An issued invoice of `amount` (no tax) due `due_in` days from today (dated early enough)."""
    invoice_date = today + timedelta(days=min(due_in, 0) - 5)
    return await make_invoice(
        client,
        party.account,
        party.company,
        party.customer,
        line(unit_price=amount, gst_rate="0"),
        invoice_date=invoice_date.isoformat(),
        due_date=(today + timedelta(days=due_in)).isoformat(),
    )


async def go(rt, at: datetime, party: Party) -> Summary:
    summary = await run(rt, at, party.account.tenant_id)
    assert not summary.failed, summary
    return summary


def reminder_mails(mailbox, party: Party) -> list:
    return [m for m in mailbox.to(party.customer["email"]) if "eminder" in m["Subject"]]


def subject_of(message) -> str:
    """The subject as a reader sees it (Python's header folding can double a space before an encoded word)."""
    return " ".join(message["Subject"].split())


def text_of(message) -> str:
    return message.get_body(("plain",)).get_content().replace("\r\n", "\n")


def html_of(message) -> str:
    return message.get_body(("html",)).get_content()


async def occasions(rt, party: Party) -> dict[str, bool]:
    """Claimed payment reminders: key -> sent?"""
    async with rt.db.transaction(uuid.UUID(party.account.tenant_id)) as session:
        rows = await session.execute(select(JobOccasion).where(JobOccasion.kind == "payment_reminder"))
        return {row.occasion_key: row.detail["sent"] for row in rows.scalars()}


async def scan_finds(rt, at: datetime, party: Party) -> bool:
    async with rt.db.transaction() as session:
        found = await DueWorkRepository(session).payment_reminder_tenants(
            at, window_days=reminders.REMINDER_WINDOW_DAYS, quiet_from=21, only=[uuid.UUID(party.account.tenant_id)]
        )
    return bool(found)


class TestEachReminderOnce:
    async def test_every_day_of_the_schedule_is_sent_once_across_reruns_and_racing_runs(
        self, client, rt, mailbox, today
    ):
        party = await party_with_email(client)
        await reminders_on(client, party.account)
        invoice = await invoice_due(client, party, today, due_in=3)
        due = today + timedelta(days=3)

        assert (await go(rt, ist(today), party)).payment_reminders == 1  # 3 days before
        assert (await go(rt, ist(today, 10, 1), party)).payment_reminders == 0
        racing = await asyncio.gather(*(run(rt, ist(today, 11), party.account.tenant_id) for _ in range(2)))
        assert [s.payment_reminders for s in racing] == [0, 0]
        for offset, expected in ((1, "1 day overdue"), (7, "7 days overdue"), (15, "15 days overdue")):
            day = due + timedelta(days=offset)
            assert (await go(rt, ist(day, 9, 59), party)).payment_reminders == 0  # before the send hour
            racing = await asyncio.gather(*(run(rt, ist(day, 10, 30), party.account.tenant_id) for _ in range(2)))
            assert sorted(s.payment_reminders for s in racing) == [0, 1]
            assert (await go(rt, ist(day, 12), party)).payment_reminders == 0
            assert not await scan_finds(rt, ist(day, 12), party)
            assert expected in reminder_mails(mailbox, party)[-1]["Subject"]
        assert (await go(rt, ist(due + timedelta(days=16)), party)).payment_reminders == 0

        mails = reminder_mails(mailbox, party)
        assert len(mails) == 4
        assert subject_of(mails[0]) == (
            f"Reminder: invoice {invoice['number']} from Sharma Traders Pvt Ltd is due in 3 days (₹1,000.00)"
        )
        assert await occasions(rt, party) == {f"{invoice['id']}:{days}": True for days in (-3, 1, 7, 15)}

    async def test_the_send_hour_is_indian_time_and_nothing_goes_out_at_night(self, client, rt, mailbox, today):
        party = await party_with_email(client)
        await reminders_on(client, party.account)
        await invoice_due(client, party, today, due_in=-1)  # its +1 reminder is today

        before = ist(today, 9, 59)
        assert before.astimezone(UTC).time() == time(4, 29)  # IST is UTC+05:30: 04:29 UTC is not yet 10:00 there
        assert not await scan_finds(rt, before, party)
        assert (await go(rt, before, party)).payment_reminders == 0
        assert (await go(rt, ist(today, 21), party)).payment_reminders == 0  # quiet from 21:00
        assert (await go(rt, ist(today, 10), party)).payment_reminders == 1
        assert len(reminder_mails(mailbox, party)) == 1

    async def test_a_later_send_hour_and_a_reminder_caught_up_the_next_morning(self, client, rt, mailbox, today):
        party = await party_with_email(client)
        assert (await reminders_on(client, party.account, send_hour=14))["send_hour"] == 14
        await invoice_due(client, party, today, due_in=-1)
        assert (await go(rt, ist(today, 13, 59), party)).payment_reminders == 0
        assert (await go(rt, ist(today, 21, 30), party)).payment_reminders == 0  # missed the day's hours
        tomorrow = today + timedelta(days=1)
        assert (await go(rt, ist(tomorrow, 14), party)).payment_reminders == 1
        assert "2 days overdue" in reminder_mails(mailbox, party)[0]["Subject"]

    async def test_after_ten_days_down_only_the_latest_reminder_goes_out(self, client, rt, mailbox, today):
        party = await party_with_email(client)
        await reminders_on(client, party.account)
        invoice = await invoice_due(client, party, today, due_in=-10)  # -3 and +1 missed, +7 three days late

        summary = await go(rt, ist(today, 10), party)
        assert summary.payment_reminders == 1
        [mail] = reminder_mails(mailbox, party)
        assert "10 days overdue" in mail["Subject"] and "due in" not in text_of(mail)
        assert await occasions(rt, party) == {f"{invoice['id']}:{d}": d == 7 for d in (-3, 1, 7)}
        assert (await go(rt, ist(today + timedelta(days=5), 10), party)).payment_reminders == 1  # +15
        assert len(reminder_mails(mailbox, party)) == 2

    async def test_a_reminder_more_than_the_window_late_is_not_sent(self, client, rt, mailbox, today):
        party = await party_with_email(client)
        await reminders_on(client, party.account, offsets=[1])
        await invoice_due(client, party, today, due_in=-(1 + reminders.REMINDER_WINDOW_DAYS + 1))
        assert not await scan_finds(rt, ist(today, 10), party)
        assert (await go(rt, ist(today, 10), party)).payment_reminders == 0
        assert reminder_mails(mailbox, party) == []


class TestOneMailPerCustomer:
    async def test_a_customer_with_several_due_invoices_gets_one_mail_listing_them(self, client, rt, mailbox, today):
        party = await party_with_email(client, upi_vpa="sharma@okicici")
        await reminders_on(client, party.account)
        week = await invoice_due(client, party, today, due_in=-7, amount="123456.00")
        day = await invoice_due(client, party, today, due_in=-1, amount="2500.00")
        later = await invoice_due(client, party, today, due_in=10)  # no reminder due today
        other = Party(party.account, party.company, await make_customer(client, party.account, email=unique_email("b")))
        await other.invoice(
            client,
            line(unit_price="500.00", gst_rate="0"),
            invoice_date=(today - timedelta(days=5)).isoformat(),
            due_date=(today - timedelta(days=1)).isoformat(),
        )

        summary = await go(rt, ist(today, 10), party)
        assert summary.payment_reminders == 2
        [mail] = reminder_mails(mailbox, party)
        assert subject_of(mail) == "Payment reminder from Sharma Traders Pvt Ltd: 2 invoices, ₹1,25,956.00 outstanding"
        body = text_of(mail)
        assert week["number"] in body and day["number"] in body and later["number"] not in body
        assert body.index(week["number"]) < body.index(day["number"])  # the oldest due first
        assert "₹1,23,456.00" in body and "₹2,500.00" in body and "Total outstanding: ₹1,25,956.00" in body
        assert "7 days overdue" in body and "1 day overdue" in body
        assert "Dear Gupta Electricals" in body and "Warm regards,\nSharma Traders Pvt Ltd" in body
        reference = week["number"].replace("/", "%2F")
        upi = f"upi://pay?pa=sharma@okicici&pn=Sharma%20Traders%20Pvt%20Ltd&am=123456.00&cu=INR&tr={reference}"
        assert upi in body
        html = html_of(mail)
        assert "₹1,25,956.00" in html and upi.replace("&", "&amp;") in html
        [other_mail] = reminder_mails(mailbox, other)
        assert "₹500.00" in other_mail["Subject"]

    async def test_a_partly_paid_invoice_is_reminded_of_its_balance(self, client, rt, mailbox, today):
        party = await party_with_email(client)
        await reminders_on(client, party.account)
        invoice = await invoice_due(client, party, today, due_in=-1, amount="1000.00")
        await receipt(client, party, "400.00", today.isoformat(), (invoice, "400.00"))
        assert (await go(rt, ist(today, 10), party)).payment_reminders == 1
        body = text_of(reminder_mails(mailbox, party)[0])
        assert "Balance due: ₹600.00" in body and "Invoice total: ₹1,000.00" in body


class TestWhatTheCustomerGets:
    async def test_the_pdfs_attached_the_share_links_open_and_the_deliveries_list_it(self, client, rt, mailbox, today):
        party = await party_with_email(client, email="accounts@sharmatraders.in", phone="+91 98450 12345")
        await reminders_on(client, party.account)
        first = await invoice_due(client, party, today, due_in=-7, amount="4500.00")
        second = await invoice_due(client, party, today, due_in=3, amount="1200.00")
        assert (await go(rt, ist(today, 10), party)).payment_reminders == 1

        [mail] = reminder_mails(mailbox, party)
        name, address = parseaddr(mail["From"])
        assert name == "Sharma Traders Pvt Ltd" and address
        assert parseaddr(mail["Reply-To"])[1] == "accounts@sharmatraders.in"
        pdfs = [PdfReader(io.BytesIO(part.get_content())) for part in mail.iter_attachments()]
        texts = ["".join(page.extract_text() for page in pdf.pages) for pdf in pdfs]
        assert len(texts) == 2 and first["number"] in texts[0] and second["number"] in texts[1]
        body = text_of(mail)
        assert "The invoice PDFs are attached." in body and "due in 3 days" in body and "7 days overdue" in body
        assert "https://wa.me/919845012345?text=" in body
        links = re.findall(r"View or download: (\S+)", body)
        assert len(links) == 2
        for link, invoice in zip(links, (first, second), strict=True):
            page = await client.get(urlsplit(link).path)
            assert page.status_code == 200 and invoice["number"] in page.text

        for invoice in (first, second):
            response = await client.get(f"{API}/invoices/{invoice['id']}/deliveries", headers=party.account.headers)
            assert response.status_code == 200, response.text
            [row] = response.json()["items"]
            assert (row["purpose"], row["state"], row["attachments"]) == ("reminder", "sent", 2)
            assert row["to"] == [party.customer["email"]] and row["subject"] == subject_of(mail)
        # a reminder is not a statement of account: the customer's statement deliveries stay empty
        statements = await client.get(
            f"{API}/customers/{party.customer['id']}/statement/deliveries", headers=party.account.headers
        )
        assert statements.status_code == 200 and statements.json()["items"] == []


class TestLimits:
    async def test_over_the_hourly_customer_mail_allowance_the_rest_wait_for_a_later_run(
        self, client, rt, mailbox, today
    ):
        party = await party_with_email(client)
        await reminders_on(client, party.account)
        allowance = 20  # the trial plan's customer mail an hour (migration 0018)
        parties = [party] + [
            Party(party.account, party.company, await make_customer(client, party.account, email=unique_email("c")))
            for _ in range(allowance + 1)
        ]
        for each in parties:
            await invoice_due(client, each, today, due_in=-1, amount="100.00")

        first = await go(rt, ist(today, 10), party)
        assert (first.payment_reminders, first.reminders_deferred) == (allowance, 2)
        second = await go(rt, ist(today, 10, 30), party)
        assert (second.payment_reminders, second.reminders_deferred) == (0, 2)  # the hour's allowance is used
        third = await go(rt, ist(today, 11, 1), party)
        assert (third.payment_reminders, third.reminders_deferred) == (2, 0)
        assert all(len(reminder_mails(mailbox, each)) == 1 for each in parties)

    async def test_a_locked_account_sends_no_reminders(self, client, rt, app, mailbox, today):
        party = await party_with_email(client)
        await reminders_on(client, party.account)
        await invoice_due(client, party, today, due_in=0)  # its +1 reminder is tomorrow
        await put_on_plan(app, party.account.tenant_id, "trial", "locked")
        assert (await go(rt, ist(today + timedelta(days=1), 10), party)).payment_reminders == 0
        assert reminder_mails(mailbox, party) == []


class TestNeverWhenSettled:
    async def test_a_payment_committing_during_the_run_wins(self, client, rt, mailbox, today):
        """The step reads the open invoices under a row lock: a payment in flight (its UPDATE holds
        the invoice's row) makes the step wait, and once it commits the invoice is not open any more."""
        party = await party_with_email(client)
        await reminders_on(client, party.account)
        invoice = await invoice_due(client, party, today, due_in=-1)
        tenant = uuid.UUID(party.account.tenant_id)
        async with rt.db.transaction(tenant) as session:
            paid = await InvoiceRepository(session).settle(uuid.UUID(invoice["id"]), paid=Decimal(invoice["total"]))
            assert paid is not None and paid.status == "paid"
            step = asyncio.create_task(run(rt, ist(today, 10), party.account.tenant_id))
            await asyncio.sleep(0.5)
            assert not step.done()  # waiting on the invoice's row
        summary = await step
        assert (summary.payment_reminders, summary.failed) == (0, [])
        assert reminder_mails(mailbox, party) == [] and await occasions(rt, party) == {}

    async def test_a_send_of_the_invoice_during_the_run_neither_deadlocks_nor_fails(self, client, rt, mailbox, today):
        """A send request takes the tenant's customer-mail lock, then links its mail to the invoice
        (a foreign key: KEY SHARE on the invoice's row); the step locks the invoice, then takes the
        customer-mail lock. The step's row lock must not block the key share, or the two wait on
        each other until PostgreSQL aborts one of them."""
        party = await party_with_email(client)
        await reminders_on(client, party.account)
        invoice = await invoice_due(client, party, today, due_in=-1)
        tenant = uuid.UUID(party.account.tenant_id)
        async with rt.db.transaction(tenant) as session:
            await SubscriptionRepository(session).lock(document_mail.LOCK)  # the send passed its hourly check
            step = asyncio.create_task(run(rt, ist(today, 10), party.account.tenant_id))
            await asyncio.sleep(0.5)  # the step holds the invoice's row and waits for the customer-mail lock
            body = InvoiceSendRequest(share_link=False, attach_pdf=False)
            await document_mail.send_invoice(session, rt.context(tenant_id=tenant), uuid.UUID(invoice["id"]), body)
        summary = await step
        assert (summary.payment_reminders, summary.failed) == (1, [])

    async def test_a_reminder_held_up_by_an_smtp_outage_is_not_sent_once_the_invoice_is_paid(
        self, client, rt, mailbox, today, monkeypatch
    ):
        party = await party_with_email(client)
        await reminders_on(client, party.account)
        invoice = await invoice_due(client, party, today, due_in=-1)
        up = rt.settings
        monkeypatch.setattr(rt, "settings", up.model_copy(update={"smtp_port": free_port()}))  # SMTP down
        assert (await go(rt, ist(today, 10), party)).payment_reminders == 1
        tenant = uuid.UUID(party.account.tenant_id)
        async with rt.db.transaction(tenant) as session:  # the customer pays while the reminder waits
            await InvoiceRepository(session).settle(uuid.UUID(invoice["id"]), paid=Decimal(invoice["total"]))
        monkeypatch.setattr(rt, "settings", up)  # SMTP is back
        assert await mail.deliver_due(rt.db, up, tenant, ist(today + timedelta(days=1))) == 0
        await drain_background_tasks()
        assert reminder_mails(mailbox, party) == []
        response = await client.get(f"{API}/invoices/{invoice['id']}/deliveries", headers=party.account.headers)
        [row] = response.json()["items"]
        assert (row["purpose"], row["state"], row["next_attempt_at"]) == ("reminder", "cancelled", None)
        assert "settled" in row["last_error"]

    @pytest.mark.parametrize("settle", ["paid", "voided", "credited"])
    async def test_a_settled_invoice_gets_no_reminder(self, client, rt, mailbox, today, settle):
        party = await party_with_email(client)
        await reminders_on(client, party.account)
        invoice = await invoice_due(client, party, today, due_in=-20)  # +15 five days ago: too late
        reminded = await invoice_due(client, party, today, due_in=-1)  # +1 today
        assert (await go(rt, ist(today, 10), party)).payment_reminders == 1
        assert invoice["number"] not in text_of(reminder_mails(mailbox, party)[0])

        tomorrow_due = await invoice_due(client, party, today, due_in=-6)  # +7 tomorrow (+1 too late today)
        if settle == "paid":
            await receipt(client, party, "1000.00", today.isoformat(), (tomorrow_due, "1000.00"))
        elif settle == "voided":
            await void_invoice(client, party.account, tomorrow_due)
        else:
            await full_credit_note(client, party.account, tomorrow_due, today.isoformat())
        at = ist(today + timedelta(days=1), 10)
        assert not await scan_finds(rt, at, party)
        assert (await go(rt, at, party)).payment_reminders == 0
        assert len(reminder_mails(mailbox, party)) == 1
        assert reminded["number"] in text_of(reminder_mails(mailbox, party)[0])


class TestOff:
    async def test_reminders_are_off_until_turned_on_and_off_again_stops_them(self, client, rt, mailbox, today):
        party = await party_with_email(client)
        await invoice_due(client, party, today, due_in=-1)
        response = await client.get(SETTINGS, headers=party.account.headers)
        assert response.json() == {
            "enabled": False,
            "offsets": [-3, 1, 7, 15],
            "send_hour": 10,
            "channel": "email",
            "updated_at": None,
        }
        assert not await scan_finds(rt, ist(today, 10), party)
        assert (await go(rt, ist(today, 10), party)).payment_reminders == 0
        await reminders_on(client, party.account)
        response = await client.put(SETTINGS, json={"enabled": False}, headers=party.account.headers)
        assert response.status_code == 200 and response.json()["enabled"] is False
        assert (await go(rt, ist(today, 10), party)).payment_reminders == 0
        assert reminder_mails(mailbox, party) == []

    async def test_a_customer_left_out_gets_nothing_and_one_without_email_is_counted(self, client, rt, mailbox, today):
        party = await party_with_email(client)
        await reminders_on(client, party.account)
        path = f"{API}/customers/{party.customer['id']}"
        response = await client.patch(path, json={"payment_reminders": False}, headers=party.account.headers)
        assert response.status_code == 200 and response.json()["payment_reminders"] is False
        await invoice_due(client, party, today, due_in=-1)
        no_email = await make_customer(client, party.account)
        assert no_email["payment_reminders"] is True
        await make_invoice(
            client,
            party.account,
            party.company,
            no_email,
            invoice_date=(today - timedelta(days=5)).isoformat(),
            due_date=(today - timedelta(days=1)).isoformat(),
        )

        summary = await go(rt, ist(today, 10), party)
        assert (summary.payment_reminders, summary.reminders_no_email) == (0, 1)
        assert (await go(rt, ist(today, 11), party)).reminders_no_email == 0  # claimed as not sent
        assert reminder_mails(mailbox, party) == []
        assert list((await occasions(rt, party)).values()) == [False, False]  # -3 (late) and +1, no email

        response = await client.patch(path, json={"payment_reminders": True}, headers=party.account.headers)
        assert response.status_code == 200
        assert (await go(rt, ist(today, 12), party)).payment_reminders == 1  # its +1, within the window


class TestSettings:
    async def test_saved_sorted_and_invisible_to_another_tenant(self, client):
        a, b = await make_tenant(client), await make_tenant(client)
        body = {"enabled": True, "offsets": [30, -7, 0, 3], "send_hour": 9}
        response = await client.put(SETTINGS, json=body, headers=a.headers)
        assert response.status_code == 200, response.text
        saved = response.json()
        assert (saved["enabled"], saved["offsets"], saved["send_hour"]) == (True, [-7, 0, 3, 30], 9)
        assert saved["updated_at"] is not None
        response = await client.put(SETTINGS, json={"send_hour": 11}, headers=a.headers)
        assert response.json()["offsets"] == [-7, 0, 3, 30] and response.json()["send_hour"] == 11
        assert (await client.get(SETTINGS, headers=a.headers)).json()["send_hour"] == 11
        other = (await client.get(SETTINGS, headers=b.headers)).json()
        assert (other["enabled"], other["offsets"], other["updated_at"]) == (False, [-3, 1, 7, 15], None)
        audit = await client.get(f"{API}/audit-logs", params={"entity_type": "reminder_settings"}, headers=a.headers)
        assert [row["action"] for row in audit.json()["items"]] == ["reminder_settings.updated"] * 2

    @pytest.mark.parametrize(
        "body",
        [
            {"offsets": [1, 1]},
            {"offsets": []},
            {"offsets": list(range(9))},
            {"offsets": [-31]},
            {"offsets": [366]},
            {"offsets": ["1"]},
            {"offsets": None},
            {"send_hour": 6},
            {"send_hour": 21},
            {"send_hour": "10"},
            {"channel": "sms"},
            {"enabled": "yes"},
            {"enabled": None},
            {"surprise": 1},
        ],
    )
    async def test_invalid_settings_are_422_and_nothing_changes(self, client, body):
        owner = await make_tenant(client)
        response = await client.put(SETTINGS, json=body, headers=owner.headers)
        assert response.status_code == 422, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert (await client.get(SETTINGS, headers=owner.headers)).json()["updated_at"] is None

    async def test_a_customer_takes_reminders_unless_told_otherwise(self, client):
        owner = await make_tenant(client)
        customer = await make_customer(client, owner, payment_reminders=False)
        assert customer["payment_reminders"] is False
        path = f"{API}/customers/{customer['id']}"
        assert (await client.patch(path, json={"payment_reminders": None}, headers=owner.headers)).status_code == 422
        assert (await client.patch(path, json={"payment_reminders": "no"}, headers=owner.headers)).status_code == 422
        assert (await make_customer(client, owner))["payment_reminders"] is True


def test_when_due_and_rupees():
    today = date(2026, 12, 1)  # a fixed calendar for pure formatting, not "today"
    assert [reminders.when_due(today + timedelta(days=n), today) for n in (2, 1, 0, -1, -9)] == [
        "due in 2 days",
        "due in 1 day",
        "due today",
        "1 day overdue",
        "9 days overdue",
    ]
    assert reminders.rupees(Decimal("12345678.90")) == "₹1,23,45,678.90"
    assert reminders.whatsapp_link("+91 98450 12345", "Hello") == "https://wa.me/919845012345?text=Hello"
    assert reminders.whatsapp_link(None, "Hello") is None


async def test_a_reminder_carries_the_invoices_open_payment_link(client, rt, mailbox, today):
    """Pay by link (issue 12 §2): an invoice with an open payment link is payable from its reminder."""
    party = await party_with_email(client)
    await reminders_on(client, party.account)
    linked_invoice = await invoice_due(client, party, today, due_in=-1)
    plain = await invoice_due(client, party, today, due_in=-1, amount="300.00")
    response = await client.post(
        f"{API}/invoices/{linked_invoice['id']}/payment-link",
        headers=party.account.headers | {"Idempotency-Key": str(uuid.uuid4())},
    )
    assert response.status_code == 201, response.text
    ticket_url = response.json()["sandbox_pay_url"].split("?")[0]  # sandbox: Pay now is the paid callback
    assert (await go(rt, ist(today, 10), party)).payment_reminders == 1
    [message] = reminder_mails(mailbox, party)
    text = text_of(message)
    section = text.split(f"Invoice {linked_invoice['number']} dated", 1)[1].split("\n\n", 1)[0]
    assert f"Pay online (card, netbanking, UPI): {ticket_url}?" in section
    other = text.split(f"Invoice {plain['number']} dated", 1)[1].split("\n\n", 1)[0]
    assert "Balance due: ₹300.00" in other and "Pay online" not in other
    assert f'href="{ticket_url}?' in html_of(message)
