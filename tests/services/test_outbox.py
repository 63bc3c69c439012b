"""The outbox as durable after-commit work: the worker dispatches by kind, a failed attempt is
recorded with its reason and retried, headers never carry a line break, and the From line is the
product's address with the company's name."""

import asyncio
import uuid
from datetime import timedelta
from email.utils import parseaddr

import pytest
from sqlalchemy import select

from app.core.database import drain_background_tasks
from app.core.runtime import Runtime
from app.models.platform.outbox import MailPurpose, OutboxEmail, OutboxKind, OutboxStatus
from app.services.platform import mail
from tests.api.v1.test_document_mail import mailing_party, send
from tests.conftest import free_port
from tests.factories import make_tenant


@pytest.fixture
def rt(app) -> Runtime:
    return app.state.runtime


async def rows(rt: Runtime, tenant_id: str) -> list[OutboxEmail]:
    async with rt.db.transaction(uuid.UUID(tenant_id)) as session:
        stmt = select(OutboxEmail).order_by(OutboxEmail.created_at)
        return list((await session.execute(stmt)).scalars())


def test_every_kind_has_a_handler():
    assert set(mail.HANDLERS) == {kind.value for kind in OutboxKind}


def test_the_from_line_is_the_products_address_with_the_companys_name(settings):
    message = OutboxEmail(
        id=uuid.uuid4(),
        to_address="asha@example.in",
        to_addresses=["asha@example.in", "ravi@example.in"],
        cc_addresses=["cfo@example.in"],
        reply_to="accounts@sharma.example",
        sender_name='Sharma "Best" Traders, Pune',
        subject="Invoice INV/1",
        body_text="text",
        body_html="<p>html</p>",
    )
    email = mail.build_message(settings, message)
    assert parseaddr(email["From"]) == ('Sharma "Best" Traders, Pune', parseaddr(settings.mail_from)[1])
    assert email["To"] == "asha@example.in, ravi@example.in" and email["Cc"] == "cfo@example.in"
    assert email["Reply-To"] == "accounts@sharma.example"


@pytest.mark.parametrize(
    "field", [{"to": "a@example.in\r\nBcc: spy@evil.example"}, {"cc": ["b@example.in\n"]}, {"reply_to": "c@x.in\r"}]
)
async def test_a_line_break_in_any_header_is_refused_before_anything_is_written(rt, client, field):
    owner = await make_tenant(client)
    arguments = {"to": "a@example.in", "template": "verify_email", "name": "A", "link": "x"} | field
    with pytest.raises(ValueError, match="line break"):
        async with rt.db.transaction(uuid.UUID(owner.tenant_id)) as session:
            await mail.enqueue(session, rt.context(tenant_id=uuid.UUID(owner.tenant_id)), **arguments)
    assert [r for r in await rows(rt, owner.tenant_id) if r.to_address == "a@example.in"] == []


async def test_the_worker_dispatches_by_kind_and_records_a_failed_attempt(rt, client, mailbox, monkeypatch):
    party, customer_email, _ = await mailing_party(client)
    invoice = await party.invoice(client)
    calls: list[uuid.UUID] = []

    async def failing(session, ctx, message):
        calls.append(message.id)
        raise mail.DeliveryFailed("the export service is down")

    monkeypatch.setitem(mail.HANDLERS, OutboxKind.email, failing)
    response = await send(client, party.account, f"invoices/{invoice['id']}", attach_pdf=False)
    assert response.status_code == 202
    await drain_background_tasks()
    [row] = [r for r in await rows(rt, party.account.tenant_id) if r.purpose == MailPurpose.document]
    assert calls == [row.id]
    assert row.status == OutboxStatus.pending and row.attempts == 1
    assert row.last_error == "the export service is down"
    assert row.next_attempt_at is not None and row.sent_at is None

    monkeypatch.undo()
    tenant = uuid.UUID(party.account.tenant_id)
    assert await mail.deliver_due(rt.db, rt.settings, tenant, row.next_attempt_at) == 1
    [message] = mailbox.to(customer_email)
    assert invoice["number"] in message["Subject"]


async def test_two_concurrent_sends_for_the_last_slot_of_the_hour_let_one_through(rt, client, monkeypatch):
    """The hourly count is taken under a per-tenant lock: two requests racing for the last slot
    cannot both pass (the trial plan's allowance is 20 an hour)."""
    party, _, _ = await mailing_party(client)
    invoice = await party.invoice(client)
    monkeypatch.setattr(rt, "settings", rt.settings.model_copy(update={"smtp_port": free_port()}))  # nothing delivered
    path = f"invoices/{invoice['id']}"
    for _ in range(19):
        assert (await send(client, party.account, path, attach_pdf=False)).status_code == 202
    racing = await asyncio.gather(*(send(client, party.account, path, attach_pdf=False) for _ in range(2)))
    assert sorted(r.status_code for r in racing) == [202, 429]
    await drain_background_tasks()
    queued = [r for r in await rows(rt, party.account.tenant_id) if r.purpose == MailPurpose.document]
    assert len(queued) == 20
    assert all(r.created_at > queued[0].created_at - timedelta(hours=1) for r in queued)


async def test_a_handlers_bug_is_a_recorded_attempt_that_leaks_nothing(rt, client, monkeypatch):
    party, _, _ = await mailing_party(client)
    invoice = await party.invoice(client)

    async def buggy(session, ctx, message):
        raise RuntimeError("internal detail: /srv/secret/path")

    monkeypatch.setitem(mail.HANDLERS, OutboxKind.email, buggy)
    assert (await send(client, party.account, f"invoices/{invoice['id']}", attach_pdf=False)).status_code == 202
    await drain_background_tasks()
    [row] = [r for r in await rows(rt, party.account.tenant_id) if r.purpose == MailPurpose.document]
    assert row.status == OutboxStatus.pending and row.attempts == 1 and row.next_attempt_at is not None
    assert row.last_error == "internal error (RuntimeError)"
