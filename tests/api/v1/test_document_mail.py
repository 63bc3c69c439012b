"""Documents mailed to customers through the real SMTP server (aiosmtpd): the message as the
customer receives it, the outbox's state in the deliveries list, retries across an SMTP outage
exactly once, the hourly limit, header injection and the refusals."""

import asyncio
import io
import re
import uuid
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr
from urllib.parse import urlsplit

import httpx
import pytest
from pypdf import PdfReader
from sqlalchemy import text

from app.core.database import drain_background_tasks
from app.core.runtime import Runtime
from app.services.platform import mail
from tests.api.v1.invoicing import Party, line, make_company, make_customer
from tests.api.v1.receipting import alloc, receive
from tests.conftest import free_port, unique_email
from tests.factories import API, Account, make_tenant


@pytest.fixture
def rt(app) -> Runtime:
    return app.state.runtime


async def mailing_party(client: httpx.AsyncClient, **customer_fields) -> tuple[Party, str, str]:
    """A tenant with a company (its own email) and a customer with an email: (party, the
    customer's address, the company's)."""
    account = await make_tenant(client)
    company_email = unique_email("accounts")
    company = await make_company(client, account, email=company_email, trade_name="Sharma & Sons, Bengaluru")
    customer_email = unique_email("customer")
    customer = await make_customer(
        client,
        account,
        billing_address={"line1": "12 MG Road", "city": "Bengaluru", "pincode": "560001", "state_code": "29"},
        **({"email": customer_email} | customer_fields),
    )
    return Party(account, company, customer), customer_email, company_email


async def send(client: httpx.AsyncClient, account: Account, path: str, **body) -> httpx.Response:
    return await client.post(f"{API}/{path}/send", json=body, headers=account.headers)


async def delivered(mailbox, address: str, subject: str = "", count: int = 1) -> list[EmailMessage]:
    """The messages to `address` (with `subject` in the subject), once `count` have arrived."""
    await drain_background_tasks()
    for _ in range(200):
        found = [m for m in mailbox.messages if address in m["To"] and subject in m["Subject"]]
        if len(found) >= count:
            return found
        await asyncio.sleep(0.05)
    return found


async def deliveries(client: httpx.AsyncClient, account: Account, path: str) -> list[dict]:
    response = await client.get(f"{API}/{path}/deliveries", headers=account.headers)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def text_of(message: EmailMessage) -> str:
    return message.get_body(("plain",)).get_content()


def pdf_text(message: EmailMessage) -> str:
    """The text of the message's one attachment, a PDF read back with pypdf."""
    [pdf] = list(message.iter_attachments())
    assert pdf.get_content_type() == "application/pdf"
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.get_content())).pages)


class TestInvoiceMail:
    async def test_the_customer_receives_it_from_the_company_with_its_details(self, client, mailbox, settings, today):
        party, customer_email, company_email = await mailing_party(client)
        invoice = await party.invoice(client, line(unit_price="100000.00"), due_date=str(today + timedelta(days=15)))
        cc = unique_email("cfo")
        response = await send(
            client,
            party.account,
            f"invoices/{invoice['id']}",
            cc=[cc],
            message="Thank you for the order.\nPlease pay by UPI.",
        )
        assert response.status_code == 202, response.text
        queued = response.json()
        assert queued["to"] == [customer_email] and queued["cc"] == [cc] and queued["purpose"] == "document"
        assert queued["state"] == "queued" and queued["attempts"] == 0

        [message] = await delivered(mailbox, customer_email, invoice["number"])
        name, address = parseaddr(message["From"])
        assert name == "Sharma & Sons, Bengaluru"  # the company's name, quoted as it needs
        assert address == parseaddr(settings.mail_from)[1]  # the product's sending address
        assert parseaddr(message["Reply-To"])[1] == company_email
        assert [a for _, a in getaddresses([message["To"]])] == [customer_email]
        assert [a for _, a in getaddresses([message["Cc"]])] == [cc]
        assert message["Subject"] == f"Invoice {invoice['number']} from Sharma & Sons, Bengaluru"
        body = text_of(message)
        assert "₹1,18,000.00" in body  # total and balance due, Indian grouping
        assert today.strftime("%d %b %Y") in body and (today + timedelta(days=15)).strftime("%d %b %Y") in body
        assert "Please pay by UPI." in body
        html = message.get_body(("html",)).get_content()
        assert "Sharma &amp; Sons" in html and "₹1,18,000.00" in html
        [pdf] = list(message.iter_attachments())
        assert pdf.get_content_type() == "application/pdf"
        assert pdf.get_filename() == invoice["number"].replace("/", "-") + ".pdf"
        document = PdfReader(io.BytesIO(pdf.get_content()))
        assert invoice["number"] in "".join(page.extract_text() for page in document.pages)

        # The share link in the mail opens the invoice's public page and its PDF (no login).
        [link] = re.findall(r"https?://\S+/p/[A-Za-z0-9_-]+", body)
        assert f'href="{link}"' in html
        page = await client.get(urlsplit(link).path)
        assert page.status_code == 200 and invoice["number"] in page.text and "₹1,18,000.00" in page.text
        pdf_page = await client.get(urlsplit(link).path + "/pdf")
        assert pdf_page.status_code == 200 and pdf_page.headers["content-type"] == "application/pdf"
        shared = await client.get(f"{API}/invoices/{invoice['id']}/share", headers=party.account.headers)
        assert len(shared.json()["items"]) == 1

        [row] = await deliveries(client, party.account, f"invoices/{invoice['id']}")
        assert row["id"] == queued["id"] and row["state"] == "sent" and row["attempts"] == 1
        assert row["sent_at"] is not None and row["last_error"] is None and row["next_attempt_at"] is None
        assert row["attachments"] == 1

    async def test_given_recipients_and_subject_replace_the_defaults(self, client, mailbox):
        party, customer_email, _ = await mailing_party(client)
        invoice = await party.invoice(client)
        to = [unique_email("ap"), unique_email("owner")]
        response = await send(
            client,
            party.account,
            f"invoices/{invoice['id']}",
            to=to,
            subject="Your bill",
            attach_pdf=False,
            share_link=False,
        )
        assert response.status_code == 202, response.text
        [message] = await delivered(mailbox, to[0], "Your bill")
        assert [a for _, a in getaddresses([message["To"]])] == to
        assert mailbox.to(customer_email) == []
        assert "/p/" not in text_of(message) and "attached" not in text_of(message)
        shared = await client.get(f"{API}/invoices/{invoice['id']}/share", headers=party.account.headers)
        assert shared.json()["items"] == []

    async def test_no_address_anywhere_is_422_no_recipient(self, client):
        party, _, _ = await mailing_party(client, email=None)
        invoice = await party.invoice(client)
        response = await send(client, party.account, f"invoices/{invoice['id']}")
        assert response.status_code == 422 and response.json()["code"] == "no-recipient"
        assert await deliveries(client, party.account, f"invoices/{invoice['id']}") == []

    async def test_drafts_and_void_invoices_are_409(self, client):
        party, _, _ = await mailing_party(client)
        draft = await party.invoice(client, issue=False)
        response = await send(client, party.account, f"invoices/{draft['id']}")
        assert response.status_code == 409 and response.json()["code"] == "invoice-is-draft"
        voided = await party.invoice(client)
        void = await client.post(
            f"{API}/invoices/{voided['id']}/void", json={"reason": "duplicate"}, headers=party.account.headers
        )
        assert void.status_code == 200, void.text
        response = await send(client, party.account, f"invoices/{voided['id']}")
        assert response.status_code == 409 and response.json()["code"] == "invoice-void"

    @pytest.mark.parametrize(
        "body",
        [
            {"to": ["not-an-address"]},
            {"to": ["asha@example.in\r\nBcc: spy@evil.example"]},
            {"to": ["asha@example.in\nBcc: spy@evil.example"]},
            {"cc": ["ravi@example.in\r\n"]},
            {"subject": "Invoice\r\nBcc: spy@evil.example"},
            {"subject": "Invoice\nX-Injected: yes"},
            {"to": [f"a{i}@example.in" for i in range(11)]},
            {"cc": [f"c{i}@example.in" for i in range(11)]},
            {"to": []},
            {"attach_pdf": "yes please"},
            {"bcc": ["spy@evil.example"]},
        ],
    )
    async def test_bad_addresses_and_header_injection_are_422_and_nothing_is_queued(self, client, body):
        party, _, _ = await mailing_party(client)
        invoice = await party.invoice(client)
        response = await send(client, party.account, f"invoices/{invoice['id']}", **body)
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert await deliveries(client, party.account, f"invoices/{invoice['id']}") == []

    async def test_another_tenants_invoice_is_404(self, client):
        party, _, _ = await mailing_party(client)
        invoice = await party.invoice(client)
        other = await make_tenant(client)
        response = await send(client, other, f"invoices/{invoice['id']}", to=["x@example.in"])
        assert response.status_code == 404
        deliveries_of_a = await client.get(f"{API}/invoices/{invoice['id']}/deliveries", headers=other.headers)
        assert deliveries_of_a.status_code == 404
        assert (await send(client, other, f"invoices/{uuid.uuid4()}")).status_code == 404

    async def test_an_idempotent_replay_sends_once(self, client, mailbox):
        party, customer_email, _ = await mailing_party(client)
        invoice = await party.invoice(client)
        headers = party.account.headers | {"Idempotency-Key": f"send-{uuid.uuid4()}"}
        url, body = f"{API}/invoices/{invoice['id']}/send", {"attach_pdf": False}
        first = await client.post(url, json=body, headers=headers)
        await drain_background_tasks()
        again = await client.post(url, json=body, headers=headers)
        assert first.status_code == again.status_code == 202
        assert again.headers["Idempotent-Replayed"] == "true" and again.json()["id"] == first.json()["id"]
        await delivered(mailbox, customer_email, invoice["number"])
        await asyncio.sleep(0.2)
        assert len(mailbox.to(customer_email)) == 1
        assert len(await deliveries(client, party.account, f"invoices/{invoice['id']}")) == 1


class TestOutage:
    async def test_smtp_down_the_mail_waits_then_goes_out_exactly_once(self, client, mailbox, rt, monkeypatch):
        party, customer_email, _ = await mailing_party(client)
        invoice = await party.invoice(client)
        up = rt.settings
        port = free_port()
        monkeypatch.setattr(rt, "settings", up.model_copy(update={"smtp_port": port}))  # nobody listens
        response = await send(client, party.account, f"invoices/{invoice['id']}", attach_pdf=False)
        assert response.status_code == 202, response.text  # SMTP failures never surface in the request
        await drain_background_tasks()
        [row] = await deliveries(client, party.account, f"invoices/{invoice['id']}")
        assert row["state"] == "queued" and row["attempts"] == 1 and row["sent_at"] is None
        assert "connect" in row["last_error"].lower() and row["next_attempt_at"] is not None
        # the tenant sees that the mail server was unreachable, not where the product's mail server is
        assert str(port) not in row["last_error"] and up.smtp_host not in row["last_error"], row["last_error"]
        assert mailbox.to(customer_email) == []

        monkeypatch.setattr(rt, "settings", up)  # the server is back
        tenant = uuid.UUID(party.account.tenant_id)
        at = datetime.fromisoformat(row["next_attempt_at"])
        assert await mail.deliver_due(rt.db, up, tenant, at - timedelta(seconds=1)) == 0  # not due yet
        # two workers at the same instant: one sends, the other skips the locked row
        sent = await asyncio.gather(*(mail.deliver_due(rt.db, up, tenant, at) for _ in range(2)))
        assert sorted(sent) == [0, 1]
        assert await mail.deliver_due(rt.db, up, tenant, at + timedelta(hours=1)) == 0  # and never again
        await delivered(mailbox, customer_email, invoice["number"])
        await asyncio.sleep(0.2)
        assert len(mailbox.to(customer_email)) == 1
        [row] = await deliveries(client, party.account, f"invoices/{invoice['id']}")
        assert row["state"] == "sent" and row["attempts"] == 2 and row["next_attempt_at"] is None
        assert "connect" in row["last_error"].lower()  # the reason of the failed attempt stays visible

    async def test_after_the_last_attempt_the_mail_is_failed_for_good(self, client, mailbox, rt, monkeypatch):
        party, customer_email, _ = await mailing_party(client)
        invoice = await party.invoice(client)
        down = rt.settings.model_copy(update={"smtp_port": free_port(), "mail_max_attempts": 2})
        monkeypatch.setattr(rt, "settings", down)
        assert (await send(client, party.account, f"invoices/{invoice['id']}", attach_pdf=False)).status_code == 202
        await drain_background_tasks()
        [row] = await deliveries(client, party.account, f"invoices/{invoice['id']}")
        tenant = uuid.UUID(party.account.tenant_id)
        assert await mail.deliver_due(rt.db, down, tenant, datetime.fromisoformat(row["next_attempt_at"])) == 0
        [row] = await deliveries(client, party.account, f"invoices/{invoice['id']}")
        assert row["state"] == "failed" and row["attempts"] == 2 and row["next_attempt_at"] is None
        async with rt.db.transaction() as session:  # /metrics counts it as undeliverable
            backlog = (await session.execute(text("SELECT * FROM outbox_backlog(2)"))).one()
        assert backlog.undeliverable >= 1
        up = down.model_copy(update={"smtp_port": mailbox.port})
        later = datetime.fromisoformat(row["created_at"]) + timedelta(days=2)
        assert await mail.deliver_due(rt.db, up, tenant, later) == 0  # given up: not tried again
        assert mailbox.to(customer_email) == []


class TestHourlyLimit:
    async def test_the_plans_allowance_then_429_with_retry_after_until_the_oldest_ages_out(
        self, client, rt, today, monkeypatch
    ):
        party, _, _ = await mailing_party(client)
        invoice = await party.invoice(client)
        start = rt.clock()
        # The trial plan's allowance (migration 0018: 20 an hour); sent to a closed port, so that
        # the test's SMTP server is not flooded (the limit counts what was queued).
        monkeypatch.setattr(rt, "settings", rt.settings.model_copy(update={"smtp_port": free_port()}))
        for i in range(20):
            monkeypatch.setattr(rt, "clock", lambda i=i: start + timedelta(minutes=i))
            response = await send(client, party.account, f"invoices/{invoice['id']}", attach_pdf=False)
            assert response.status_code == 202, (i, response.text)
        monkeypatch.setattr(rt, "clock", lambda: start + timedelta(minutes=30))
        response = await send(client, party.account, f"invoices/{invoice['id']}", attach_pdf=False)
        assert response.status_code == 429 and response.json()["code"] == "mail-rate-limited"
        assert 1799 <= int(response.headers["Retry-After"]) <= 1801  # the first one is an hour old then
        # An hour after the first, one more may go; another tenant was never limited.
        monkeypatch.setattr(rt, "clock", lambda: start + timedelta(minutes=60, seconds=1))
        assert (await send(client, party.account, f"invoices/{invoice['id']}", attach_pdf=False)).status_code == 202
        response = await send(client, party.account, f"invoices/{invoice['id']}", attach_pdf=False)
        assert response.status_code == 429
        # the deliveries list pages like every list, newest first
        seen, cursor = [], None
        while True:
            query = {"limit": 5} | ({"cursor": cursor} if cursor else {})
            page = await client.get(
                f"{API}/invoices/{invoice['id']}/deliveries", params=query, headers=party.account.headers
            )
            assert page.status_code == 200, page.text
            seen += page.json()["items"]
            if not (cursor := page.json()["next_cursor"]):
                break
        assert len(seen) == 21 and len({d["id"] for d in seen}) == 21
        assert [d["created_at"] for d in seen] == sorted((d["created_at"] for d in seen), reverse=True)
        other, _, _ = await mailing_party(client)
        other_invoice = await other.invoice(client)
        assert (
            await send(client, other.account, f"invoices/{other_invoice['id']}", attach_pdf=False)
        ).status_code == 202
        await drain_background_tasks()


class TestOtherDocuments:
    async def test_credit_notes_receipts_and_statements_are_mailed_with_their_pdfs_and_listed(
        self, client, mailbox, today
    ):
        party, customer_email, _ = await mailing_party(client)
        invoice = await party.invoice(client)
        note = await client.post(
            f"{API}/credit-notes",
            json={"invoice_id": invoice["id"], "full": True, "reason": "Returned"},
            headers=party.account.headers,
        )
        assert note.status_code == 201, note.text
        note = note.json()
        response = await send(client, party.account, f"credit-notes/{note['id']}")
        assert response.status_code == 202, response.text
        [message] = await delivered(mailbox, customer_email, note["number"])
        assert invoice["number"] in text_of(message) and "Returned" in text_of(message)
        assert note["number"] in pdf_text(message)
        [row] = await deliveries(client, party.account, f"credit-notes/{note['id']}")
        assert row["state"] == "sent"

        second = await party.invoice(client)
        receipt = await receive(client, party, "1180.00", alloc(second, "1180.00"), receipt_date=str(today))
        response = await send(client, party.account, f"receipts/{receipt['id']}")
        assert response.status_code == 202, response.text
        [message] = await delivered(mailbox, customer_email, receipt["number"])
        assert "₹1,180.00" in text_of(message)
        assert receipt["number"] in pdf_text(message)
        assert [r["state"] for r in await deliveries(client, party.account, f"receipts/{receipt['id']}")] == ["sent"]

        period = {"from": str(today - timedelta(days=30)), "to": str(today)}
        response = await send(client, party.account, f"customers/{party.customer['id']}/statement", period=period)
        assert response.status_code == 202, response.text
        [message] = await delivered(mailbox, customer_email, "Statement of account")
        assert (today - timedelta(days=30)).strftime("%d %b %Y") in message["Subject"]
        statement = pdf_text(message)
        [row] = await deliveries(client, party.account, f"customers/{party.customer['id']}/statement")
        assert row["state"] == "sent" and row["attachments"] == 1
        assert party.customer["name"] in statement and second["number"] in statement
        bad = await send(
            client,
            party.account,
            f"customers/{party.customer['id']}/statement",
            period={"from": str(today), "to": str(today - timedelta(days=1))},
        )
        assert bad.status_code == 400 and bad.json()["code"] == "invalid-date-range"
        # the invoice's own list has only its mail
        assert await deliveries(client, party.account, f"invoices/{invoice['id']}") == []
