"""The tenant's data, out (issue 13 §3): POST /tenants/me/export builds a zip (JSON Lines per table,
the CSVs, every issued document's PDF) and mails a signed, expiring link; GET /tenants/me/exports;
the download; the scheduler's retry and expiry; a locked tenant can still export; GET /users/me/export."""

import asyncio
import base64
import codecs
import csv
import hashlib
import io
import json
import re
import uuid
import zipfile
from datetime import datetime, timedelta

import httpx
import pytest

from app.core.database import drain_background_tasks
from app.main import create_app
from app.models.platform.data_export import TenantExport
from app.repositories.identity.users import UserRepository
from app.repositories.platform.tenant_exports import TenantExportRepository
from app.services.platform import scheduler, tenant_data
from tests.api.v1.invoicing import Party
from tests.api.v1.receipting import alloc, receive
from tests.api.v1.subscription_rows import subscription
from tests.conftest import fresh_ip
from tests.factories import API, Account, make_tenant

EXPORTS = f"{API}/tenants/me/exports"


async def request_export(client: httpx.AsyncClient, owner: Account) -> dict:
    response = await client.post(f"{API}/tenants/me/export", headers=owner.headers)
    assert response.status_code == 202, response.text
    return response.json()


async def mailed_link(mailbox, owner: Account) -> str:
    """The path of the download link in the newest 'export ... is ready' mail to the owner."""
    await mailbox.wait_for(owner.email, "is ready")
    message = [m for m in mailbox.to(owner.email) if "is ready" in m["Subject"]][-1]
    text = message.get_body(("plain",)).get_content()
    url = re.search(r"https?://\S+/api/v1/exports/([A-Za-z0-9_-]+)", text)
    assert url, text
    return f"{API}/exports/{url.group(1)}"


async def export_row(app, owner: Account, export_id: str) -> TenantExport:
    async with app.state.runtime.db.transaction(uuid.UUID(owner.tenant_id)) as session:
        row = await TenantExportRepository(session).get(uuid.UUID(export_id))
        assert row is not None
        return row


class TestFullExport:
    async def test_the_zip_holds_every_table_the_csvs_and_each_issued_documents_pdf(self, client, app, mailbox):
        owner = await make_tenant(client, business_name="Zip & Co")
        party = await Party.make(client, owner)
        paid = await party.invoice(client)
        credited = await party.invoice(client)
        await party.invoice(client, issue=False)  # a draft: data, but no PDF
        voided = await party.invoice(client)  # issued, then voided: its PDF is kept
        void = await client.post(f"{API}/invoices/{voided['id']}/void", json={"reason": "Typo"}, headers=owner.headers)
        assert void.status_code == 200, void.text
        receipt = await receive(client, party, "1180.00", alloc(paid, "1180.00"))
        note = await client.post(
            f"{API}/credit-notes",
            json={"invoice_id": credited["id"], "reason": "Goods returned", "full": True},
            headers=owner.headers,
        )
        assert note.status_code == 201, note.text

        started = await request_export(client, owner)
        assert started["status"] == "pending" and started["requested_by"] == owner.user["id"]
        await drain_background_tasks()
        path = await mailed_link(mailbox, owner)

        listed = (await client.get(EXPORTS, headers=owner.headers)).json()["items"]
        assert [(e["id"], e["status"]) for e in listed] == [(started["id"], "done")]
        done = listed[0]

        response = await client.get(path)  # no bearer token: the link is the key
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/zip"
        body = response.content
        assert len(body) == done["size_bytes"] and hashlib.sha256(body).hexdigest() == done["sha256"]
        digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
        assert response.headers["digest"] == f"sha-256={digest}"

        archive = zipfile.ZipFile(io.BytesIO(body))
        assert archive.testzip() is None
        names = set(archive.namelist())
        manifest = json.loads(archive.read("manifest.json"))
        assert manifest["tenant_id"] == owner.tenant_id and manifest["export_id"] == started["id"]

        def rows(table: str) -> list[dict]:
            lines = archive.read(f"data/{table}.jsonl").decode().splitlines()
            assert manifest["entries"][f"data/{table}.jsonl"] == len(lines)
            return [json.loads(line) for line in lines]

        invoices = rows("invoices")
        assert len(invoices) == 4 and [i["status"] for i in invoices].count("draft") == 1
        assert {i["id"] for i in invoices} >= {paid["id"], credited["id"]}
        assert next(i for i in invoices if i["id"] == paid["id"])["balance_due"] == "0.00"  # amounts as strings
        assert all(i["tenant_id"] == owner.tenant_id for i in invoices)
        assert len(rows("invoice_lines")) == 4
        assert [r["id"] for r in rows("receipts")] == [receipt["id"]]
        assert [c["invoice_id"] for c in rows("credit_notes")] == [credited["id"]]
        assert [c["id"] for c in rows("customers")] == [party.customer["id"]]
        assert [t["business_name"] for t in rows("tenants")] == ["Zip & Co"]
        users = rows("users")
        assert [u["email"] for u in users] == [owner.email]
        assert "password_hash" not in users[0]
        assert "data/sessions.jsonl" not in names and "data/tenant_export_chunks.jsonl" not in names
        for table in tenant_data.exported_tables():  # every tenant table, generically
            assert f"data/{table.name}.jsonl" in names

        pdfs = {folder: sorted(n for n in names if n.startswith(f"pdf/{folder}/")) for folder in PDF_FOLDERS}
        assert [len(pdfs[f]) for f in PDF_FOLDERS] == [3, 1, 1]  # the draft has none
        for folder in PDF_FOLDERS:
            for name in pdfs[folder]:
                assert archive.read(name).startswith(b"%PDF-")

        csvs = sorted(n for n in names if n.startswith("csv/"))
        assert "csv/invoices.csv" in csvs and "csv/customers.csv" in csvs and "csv/receipts.csv" in csvs
        for name in csvs:
            raw = archive.read(name)
            assert raw.startswith(codecs.BOM_UTF8), name
            table = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
            assert table and table[0], name  # the header row
        invoice_rows = list(csv.DictReader(io.StringIO(archive.read("csv/invoices.csv").decode("utf-8-sig"))))
        assert len(invoice_rows) == 4
        customer_rows = list(csv.DictReader(io.StringIO(archive.read("csv/customers.csv").decode("utf-8-sig"))))
        assert len(customer_rows) == 1
        assert manifest["entries"]["csv/invoices.csv"] == 4

        # Another tenant: the export's id is not found; the link is not theirs to list either.
        other = await make_tenant(client)
        foreign = await client.get(f"{EXPORTS}/{started['id']}", headers=other.headers)
        assert (foreign.status_code, foreign.json()["code"]) == (404, "tenant-export-not-found")
        assert (await client.get(EXPORTS, headers=other.headers)).json()["items"] == []

    async def test_forged_foreign_and_expired_links(self, client, app, mailbox, monkeypatch):
        owner = await make_tenant(client)
        monkeypatch.setattr(tenant_data, "CHUNK_SIZE", 1000)  # many chunks, streamed back in order
        started = await request_export(client, owner)
        await drain_background_tasks()
        path = await mailed_link(mailbox, owner)
        row = await export_row(app, owner, started["id"])
        assert row.size_bytes is not None and row.size_bytes > 3000
        whole = await client.get(path)
        assert len(whole.content) == row.size_bytes and hashlib.sha256(whole.content).hexdigest() == row.sha256
        assert zipfile.ZipFile(io.BytesIO(whole.content)).testzip() is None
        token = path.rsplit("/", 1)[1]
        raw = bytearray(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))

        other = await make_tenant(client)
        swapped = bytes(uuid.UUID(other.tenant_id).bytes) + bytes(raw[16:])  # another tenant, same signature
        for forged in (
            "A" * 96,
            base64.urlsafe_b64encode(swapped).rstrip(b"=").decode(),
            token[:-2] + ("AA" if token[-2:] != "AA" else "BB"),
        ):
            response = await client.get(f"{API}/exports/{forged}")
            assert (response.status_code, response.json()["code"]) == (404, "tenant-export-not-found"), forged
        for malformed in ("x", started["id"], "A" * 500, "%00"):
            response = await client.get(f"{API}/exports/{malformed}")
            assert (response.status_code, response.json()["code"]) == (400, "export-link-malformed"), malformed
        assert (await client.get(path)).status_code == 200

        # The scheduler expires it when its link lapses: the chunks go, the link answers 410.
        row = await export_row(app, owner, started["id"])
        assert row.expires_at is not None
        later = row.expires_at + timedelta(minutes=1)
        summary = await scheduler.run_due(app.state.runtime, later, tenants=[uuid.UUID(owner.tenant_id)])
        assert summary.tenant_exports_expired == 1
        assert (await export_row(app, owner, started["id"])).status == "expired"
        gone = await client.get(path)
        assert (gone.status_code, gone.json()["code"]) == (410, "tenant-export-expired")
        async with app.state.runtime.db.transaction(uuid.UUID(owner.tenant_id)) as session:
            assert await TenantExportRepository(session).chunk(uuid.UUID(started["id"]), 0) is None

    async def test_one_at_a_time_the_scheduler_builds_what_was_not_kicked_and_the_daily_limit(
        self, client, app, mailbox
    ):
        owner = await make_tenant(client)
        rt, tenant = app.state.runtime, uuid.UUID(owner.tenant_id)
        # A pending export the process never built (it stopped before its after-commit kick ran).
        async with rt.db.transaction(tenant) as session:
            waiting = await TenantExportRepository(session).add_unless_active(
                TenantExport(status="pending", next_attempt_at=rt.now() + timedelta(minutes=10))
            )
            assert waiting is not None
        again = await request_export(client, owner)
        assert (again["id"], again["status"]) == (str(waiting.id), "pending")  # the one under way, not a new one
        assert len((await client.get(EXPORTS, headers=owner.headers)).json()["items"]) == 1

        early = await scheduler.run_due(rt, rt.now(), tenants=[tenant])
        assert early.tenant_exports_built == 0  # not due yet
        summary = await scheduler.run_due(rt, rt.now() + timedelta(minutes=11), tenants=[tenant])
        assert (summary.tenant_exports_built, summary.failed) == (1, [])
        await drain_background_tasks()
        assert (await client.get(await mailed_link(mailbox, owner))).status_code == 200
        done = await export_row(app, owner, str(waiting.id))
        assert (done.status, done.attempts) == ("done", 1)

        for _ in range(rt.settings.tenant_export_daily_limit - 1):
            await request_export(client, owner)
            await drain_background_tasks()
        refused = await client.post(f"{API}/tenants/me/export", headers=owner.headers)
        assert (refused.status_code, refused.json()["code"]) == (429, "rate-limited")
        assert "retry-after" in refused.headers

    async def test_two_requests_at_once_make_one_export(self, client, app):
        """The second transaction's insert waits on the first's (uq_tenant_exports_active), then
        answers the export the first made: one export, however the requests interleave."""
        owner = await make_tenant(client)
        rt, tenant = app.state.runtime, uuid.UUID(owner.tenant_id)
        first_in, first_commit = asyncio.Event(), asyncio.Event()

        async def ask(wait: bool) -> tuple[uuid.UUID, bool]:
            async with rt.db.transaction(tenant) as session:
                user = await UserRepository(session).get(uuid.UUID(owner.user["id"]))
                assert user is not None
                row, created = await tenant_data.request(session, rt.context(tenant_id=tenant), user)
                if wait:
                    first_in.set()
                    await first_commit.wait()
                return row.id, created

        first = asyncio.create_task(ask(True))
        await first_in.wait()
        second = asyncio.create_task(ask(False))
        await asyncio.sleep(0.3)  # the second is blocked on the first's uncommitted row
        assert not second.done()
        first_commit.set()
        (one, made_one), (two, made_two) = await first, await second
        assert (one, made_one, made_two) == (two, True, False)
        await drain_background_tasks()
        assert len((await client.get(EXPORTS, headers=owner.headers)).json()["items"]) == 1

    async def test_a_failed_build_is_retried_with_backoff_then_failed(self, client, app, monkeypatch):
        owner = await make_tenant(client)
        rt, tenant = app.state.runtime, uuid.UUID(owner.tenant_id)
        broken = rt.settings.model_copy(update={"tenant_export_max_attempts": 2})
        async with rt.db.transaction(tenant) as session:
            row = await TenantExportRepository(session).add_unless_active(
                TenantExport(status="pending", next_attempt_at=rt.now())
            )
            assert row is not None
        # A real failure: a table the application role may not read (the global email directory).
        monkeypatch.setattr(tenant_data, "EXCLUDED_TABLES", tenant_data.EXCLUDED_TABLES - {"user_identities"})
        at = rt.now() + timedelta(seconds=1)
        assert not await tenant_data.build(rt.db, broken, tenant, row.id, at=at)
        first = await export_row(app, owner, str(row.id))
        assert (first.status, first.attempts) == ("pending", 1) and first.error
        assert first.next_attempt_at == at + tenant_data.retry_delay(1)
        assert not await tenant_data.build(rt.db, broken, tenant, row.id, at=at)  # not due again yet
        assert not await tenant_data.build(rt.db, broken, tenant, row.id, at=first.next_attempt_at)
        second = await export_row(app, owner, str(row.id))
        assert (second.status, second.attempts, second.next_attempt_at) == ("failed", 2, None)
        async with rt.db.transaction(tenant) as session:
            assert await TenantExportRepository(session).chunk(row.id, 0) is None  # nothing half-written
        monkeypatch.undo()
        # Failed is not active: a new export may be asked for.
        assert (await request_export(client, owner))["id"] != str(row.id)


PDF_FOLDERS = ["invoices", "credit-notes", "receipts"]


@pytest.fixture(scope="module")
async def lock_app(settings):
    app = create_app(settings.model_copy(update={"post_trial_mode": "hard_lock"}))
    async with app.router.lifespan_context(app):
        yield app


async def test_a_locked_tenant_can_export_and_download(lock_app, mailbox):
    transport = httpx.ASGITransport(app=lock_app, client=(fresh_ip(), 40000))
    original = lock_app.state.runtime.clock
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            owner = await make_tenant(client)
            trial = await subscription(client, owner)
            locked_at = datetime.fromisoformat(trial["trial_end"]) + timedelta(days=30)
            lock_app.state.runtime.clock = lambda: locked_at
            assert (await subscription(client, owner))["status"] == "locked"
            body = {"name": "Locked out", "billing_address": {"state_code": "27"}}
            refused = await client.post(f"{API}/customers", json=body, headers=owner.headers)
            assert (refused.status_code, refused.json()["code"]) == (402, "subscription-locked")

            started = await request_export(client, owner)
            await drain_background_tasks()
            response = await client.get(await mailed_link(mailbox, owner))
            assert response.status_code == 200
            assert "manifest.json" in zipfile.ZipFile(io.BytesIO(response.content)).namelist()
            listed = (await client.get(EXPORTS, headers=owner.headers)).json()["items"]
            assert [(e["id"], e["status"]) for e in listed] == [(started["id"], "done")]
            mine = await client.get(f"{API}/users/me/export", headers=owner.headers)
            assert mine.status_code == 200
    finally:
        lock_app.state.runtime.clock = original


async def test_users_own_data(client):
    owner = await make_tenant(client)
    await client.patch(f"{API}/users/me", json={"full_name": "Ravi K Sharma"}, headers=owner.headers)
    invited = await client.post(
        f"{API}/users/invitations", json={"email": "mira@example.in", "role": "viewer"}, headers=owner.headers
    )
    response = await client.get(f"{API}/users/me/export", headers=owner.headers)
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["format"] == "rms-billing-user-export"
    assert (data["user"]["id"], data["user"]["email"], data["user"]["full_name"]) == (
        owner.user["id"],
        owner.email,
        "Ravi K Sharma",
    )
    assert "password_hash" not in data["user"]
    assert data["sessions"] and all("token_hash" not in s for s in data["sessions"])
    assert {s["user_id"] for s in data["sessions"]} == {owner.user["id"]}
    if invited.status_code == 201:
        assert [i["email"] for i in data["invitations_sent"]] == ["mira@example.in"]
        assert all("token_hash" not in i for i in data["invitations_sent"])
    assert data["audit_entries"] and {a["actor_user_id"] for a in data["audit_entries"]} == {owner.user["id"]}
    # Another user of the same tenant sees their own data only.
    assert data["tenant"]["id"] == owner.tenant_id


async def test_the_zip_holds_no_live_link_from_a_mail(client, mailbox):
    """The outbox keeps each mail's body, and a body holds its link's token: an invitation not yet
    accepted, a colleague's password reset. The zip (a file that travels) must not carry them."""
    from tests.api.v1.members import invite
    from tests.api.v1.test_auth import token_in
    from tests.conftest import unique_email

    owner = await make_tenant(client)
    email = unique_email("invitee")
    assert (await invite(client, owner, email, "accountant")).status_code == 201
    token = token_in(await mailbox.wait_for(email, "invited you"), "accept-invite")
    await request_export(client, owner)
    await drain_background_tasks()
    response = await client.get(await mailed_link(mailbox, owner))
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    outbox = [json.loads(line) for line in archive.read("data/outbox_emails.jsonl").splitlines()]
    assert any(email in mail["to_addresses"] for mail in outbox)  # the mail is listed: who was written to, when
    for name in archive.namelist():
        assert token.encode() not in archive.read(name), name


async def test_the_zip_is_one_snapshot_though_invoices_are_issued_while_it_is_built(client, mailbox, monkeypatch):
    """An invoice issued while the zip is written (after data/invoices.jsonl, before its lines) is in
    neither file: the build reads one state of the data, as a backup must (no line without its
    invoice, no balance that the documents do not add up to)."""
    owner = await make_tenant(client)
    party = await Party.make(client, owner)
    await party.invoice(client)
    write_table, issued = tenant_data._write_table, []

    async def issue_meanwhile(archive, writer, data, table, name):
        count = await write_table(archive, writer, data, table, name)
        if table.name == "invoices" and not issued:
            issued.append(await party.invoice(client))  # another request, committed meanwhile
        return count

    monkeypatch.setattr(tenant_data, "_write_table", issue_meanwhile)
    await request_export(client, owner)
    await drain_background_tasks()
    assert issued
    archive = zipfile.ZipFile(io.BytesIO((await client.get(await mailed_link(mailbox, owner))).content))

    def ids(table: str, key: str) -> set[str]:
        return {json.loads(line)[key] for line in archive.read(f"data/{table}.jsonl").splitlines()}

    assert ids("invoice_lines", "invoice_id") == ids("invoices", "id")
    assert issued[0]["id"] not in ids("invoices", "id")


async def test_the_builds_isolation_level_does_not_stay_on_the_pooled_connection(app):
    """The build's REPEATABLE READ is the connection's only for that transaction: the pool gives
    it back at READ COMMITTED (a request at REPEATABLE READ would fail on concurrent updates)."""
    from sqlalchemy import text

    db = app.state.runtime.db
    async with db.transaction(isolation="REPEATABLE READ") as session:
        assert (await session.execute(text("SHOW transaction_isolation"))).scalar_one() == "repeatable read"
    for _ in range(db.engine.sync_engine.pool.size() + 2):  # every pooled connection in turn
        async with db.transaction() as session:
            assert (await session.execute(text("SHOW transaction_isolation"))).scalar_one() == "read committed"
