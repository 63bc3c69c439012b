"""The scheduled purge of a closed tenant (issue 13 §3): tenants A and B with rows in every table
(tests/db/tenant_rows.py), A closed through the API and purged by the scheduler. A has no row left in
any table (the append-only ones and the global lookups included, and a table made by this test that
no code names), B's rows are byte for byte what they were (per-table md5 of the ordered rows), A's
issued tax documents are kept in retained_tax_documents with their PDF, and a purge that dies midway
is finished by the next run."""

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from app.models import Base
from app.repositories.platform.tenant_purge import TenantPurgeRepository
from app.services.platform import tenant_deletion
from app.services.platform.scheduler import run_due
from tests.api.v1.invoicing import Party
from tests.api.v1.members import invite
from tests.conftest import PASSWORD, fresh_ip, unique_email
from tests.db.tenant_digest import tenant_digest
from tests.db.tenant_rows import fill_empty_tables
from tests.factories import API, make_tenant

PROBE = "purge_probe_widgets"  # a tenant table no code knows about: "a table added later"


@pytest.fixture
async def admin(database_urls) -> AsyncIterator[AsyncConnection]:
    engine = create_async_engine(database_urls.admin, isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        yield conn
    await engine.dispose()


@pytest.fixture
async def probe_table(admin) -> AsyncIterator[sa.Table]:
    """A new tenant table, made as a migration would (RLS and all) and registered on Base.metadata
    like a new model; dropped and unregistered afterwards."""
    await admin.execute(
        sa.text(
            f"CREATE TABLE {PROBE} (tenant_id uuid NOT NULL REFERENCES tenants (id), id uuid NOT NULL, "
            "note text, PRIMARY KEY (tenant_id, id))"
        )
    )
    table = sa.Table(
        PROBE,
        Base.metadata,
        sa.Column("tenant_id", sa.Uuid, sa.ForeignKey("tenants.id"), primary_key=True),
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("note", sa.Text),
    )
    try:
        yield table
    finally:
        Base.metadata.remove(table)
        await admin.execute(sa.text(f"DROP TABLE IF EXISTS {PROBE}"))


async def owner_with_documents(client: httpx.AsyncClient, business_name: str):
    owner = await make_tenant(client, business_name=business_name)
    party = await Party.make(client, owner)
    invoice = await party.invoice(client)
    assert (await invite(client, owner, unique_email("invitee"), "viewer")).status_code == 201
    return owner, invoice


async def tables_with_tenant_rows(admin: AsyncConnection, tenant_id: uuid.UUID) -> dict[str, int]:
    """Every table of the catalog with a tenant_id column (and tenants by id), rows of this tenant."""
    names = (
        await admin.execute(
            sa.text(
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND EXISTS (SELECT 1 FROM pg_attribute a "
                "WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)"
            )
        )
    ).scalars()
    counts = {}
    for name in sorted(names):
        stmt = sa.text(f"SELECT count(*) FROM {name} WHERE tenant_id = :t")
        counts[name] = (await admin.execute(stmt, {"t": tenant_id})).scalar_one()
    counts["tenants"] = (
        await admin.execute(sa.text("SELECT count(*) FROM tenants WHERE id = :t"), {"t": tenant_id})
    ).scalar_one()
    return counts


async def lookup_digest(admin: AsyncConnection, tenant_id: uuid.UUID) -> dict[str, str]:
    """The global lookups and the probe table, which tenant_digest (row-level security tables) leaves out."""
    digests = {}
    for table in ("user_identities", "razorpay_orders", "gateway_webhooks", PROBE):
        stmt = sa.text(
            f"SELECT md5(coalesce(string_agg(md5(t::text), ',' ORDER BY md5(t::text)), '')) "
            f"FROM {table} t WHERE t.tenant_id = :t"
        )
        digests[table] = (await admin.execute(stmt, {"t": tenant_id})).scalar_one()
    return digests


async def test_purging_a_deletes_every_row_of_a_only_and_keeps_its_tax_documents(app, admin, probe_table, monkeypatch):
    transport = httpx.ASGITransport(app=app, client=(fresh_ip(), 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        owner_a, invoice_a = await owner_with_documents(client, "Purge A Traders")
        owner_b, _ = await owner_with_documents(client, "Purge B Traders")
        a, b = uuid.UUID(owner_a.tenant_id), uuid.UUID(owner_b.tenant_id)
        for tenant_id in (a, b):
            await fill_empty_tables(admin, tenant_id)
            for table, key in (("razorpay_orders", "razorpay_order_id"), ("gateway_webhooks", "webhook_id")):
                extra = ", payment_id" if table == "razorpay_orders" else ""
                values = ", gen_random_uuid()" if extra else ""
                await admin.execute(
                    sa.text(f"INSERT INTO {table} ({key}, tenant_id{extra}) VALUES (:k, :t{values})"),
                    {"k": f"purge_{uuid.uuid4().hex[:20]}", "t": tenant_id},
                )
            await admin.execute(
                sa.text(f"INSERT INTO {PROBE} (tenant_id, id, note) VALUES (:t, gen_random_uuid(), 'x')"),
                {"t": tenant_id},
            )
        # B's (as if the platform tenant's) record of A as a subscriber: the platform's, kept.
        await admin.execute(
            sa.text("UPDATE saas_customers SET subscriber_tenant_id = :a WHERE tenant_id = :b"), {"a": a, "b": b}
        )
        closed = await client.post(
            f"{API}/tenants/me/delete",
            json={"password": PASSWORD, "confirmation": "Purge A Traders"},
            headers=owner_a.headers,
        )
        assert closed.status_code == 202, closed.text
    purge_after = datetime.fromisoformat(closed.json()["purge_after"])
    rt = app.state.runtime
    before_a = await tables_with_tenant_rows(admin, a)
    assert all(before_a[name] for name in before_a if name != "retained_tax_documents"), before_a
    b_rows, b_lookups = await tenant_digest(admin, b), await lookup_digest(admin, b)
    b_counts = await tables_with_tenant_rows(admin, b)

    # Not yet due: nothing happens (and the scheduler does no other work for a closed tenant).
    early = await run_due(rt, purge_after - timedelta(seconds=1), tenants=[a])
    assert early.tenants_purged == 0
    still = await tables_with_tenant_rows(admin, a)  # (the cleanup step drops A's expired tokens, as for anyone)
    assert {name: still[name] for name in ("tenants", "invoices", "audit_logs", "customers", PROBE)} == {
        name: before_a[name] for name in ("tenants", "invoices", "audit_logs", "customers", PROBE)
    }

    # Due, with no time to spare: a run does a batch or so and leaves the rest to the next run (a large
    # tenant must not hold up the tick, which does every tenant's work in one sequential pass).
    at = purge_after + timedelta(seconds=1)
    monkeypatch.setattr(tenant_deletion, "PURGE_SECONDS", 0.0)
    monkeypatch.setattr(tenant_deletion, "PURGE_BATCH", 1)
    paused = await run_due(rt, at, tenants=[a])
    assert paused.tenants_purged == 0 and not paused.failed, paused
    partly = await tables_with_tenant_rows(admin, a)
    assert partly["tenants"] == 1 and partly["invoices"] == before_a["invoices"]
    # progress: fewer of A's rows outside the documents kept (which the same run may have added to)
    kept = "retained_tax_documents"
    assert sum(n for k, n in partly.items() if k != kept) < sum(n for k, n in before_a.items() if k != kept)
    monkeypatch.undo()

    # The next run dies just before the tenants row; the one after finishes.
    async def dies(self) -> int:
        raise RuntimeError("worker killed")

    monkeypatch.setattr(TenantPurgeRepository, "delete_tenant", dies)
    first = await run_due(rt, at, tenants=[a])
    assert ("tenant_purge", a) in first.failed and first.tenants_purged == 0
    halfway = await tables_with_tenant_rows(admin, a)
    assert halfway["tenants"] == 1 and halfway["invoices"] == 0 and halfway["audit_logs"] == 0
    monkeypatch.undo()
    second = await run_due(rt, at, tenants=[a])
    assert second.tenants_purged == 1 and not second.failed, second

    after_a = await tables_with_tenant_rows(admin, a)
    assert {name: n for name, n in after_a.items() if n and name != "retained_tax_documents"} == {}
    assert after_a[PROBE] == 0 and after_a["user_identities"] == 0 and after_a["usage_ledger"] == 0
    assert await tenant_digest(admin, b) == b_rows
    assert await lookup_digest(admin, b) == b_lookups
    assert await tables_with_tenant_rows(admin, b) == b_counts
    assert (await run_due(rt, at, tenants=[a])).tenants_purged == 0  # nothing left to do

    kept = (
        await admin.execute(
            sa.text(
                "SELECT document_kind, document_id, number, document_date, retain_until, "
                "substring(pdf from 1 for 4) AS head, document FROM retained_tax_documents WHERE tenant_id = :t"
            ),
            {"t": a},
        )
    ).mappings()
    by_kind = {row["document_kind"]: row for row in kept}
    invoice = by_kind["invoice"]
    assert (str(invoice["document_id"]), invoice["number"]) == (invoice_a["id"], invoice_a["number"])
    assert invoice["head"] == b"%PDF"
    assert invoice["retain_until"] == tenant_deletion.retain_until(invoice["document_date"])
    assert invoice["document"]["invoice"]["number"] == invoice_a["number"]
    assert len(invoice["document"]["lines"]) == 1
    assert "credit_note" in by_kind  # the credit note tenant_rows made
    b_kept = await admin.execute(sa.text("SELECT count(*) FROM retained_tax_documents WHERE tenant_id = :t"), {"t": b})
    assert b_kept.scalar_one() == 0


def test_retention_runs_72_months_from_the_annual_returns_due_date():
    # FY 2026-27 ends 31 Mar 2027; GSTR-9 due 31 Dec 2027; + 72 months
    assert tenant_deletion.retain_until(date(2026, 4, 1)) == date(2033, 12, 31)
    assert tenant_deletion.retain_until(date(2027, 3, 31)) == date(2033, 12, 31)
    assert tenant_deletion.retain_until(date(2027, 4, 1)) == date(2034, 12, 31)


def test_the_walk_covers_every_table_with_a_tenant_column_children_first():
    order = [table.name for table in tenant_deletion.purge_order()]
    assert "retained_tax_documents" not in order and "tenants" not in order
    every = {t.name for t in Base.metadata.tables.values() if "tenant_id" in t.c} - {"retained_tax_documents"}
    assert set(order) == every
    for position, table in enumerate(tenant_deletion.purge_order()):
        for fk in table.foreign_keys:
            parent = fk.column.table.name
            if parent != table.name and parent in order:
                assert order.index(parent) > position, f"{table.name} is purged after its parent {parent}"


async def test_an_open_tenant_cannot_write_retained_documents(app, client, admin):
    """retain_tax_document refuses unless the bound tenant is closed: a row written ahead of time for
    an open tenant would stand in for the real document at its purge (the insert ignores conflicts)."""
    owner, invoice = await owner_with_documents(client, "Retain Open Traders")
    tenant_id = uuid.UUID(owner.tenant_id)
    with pytest.raises(sa.exc.DBAPIError, match="not closed"):
        async with app.state.runtime.db.transaction(tenant_id) as session:
            await TenantPurgeRepository(session).retain(
                kind="invoice",
                document_id=uuid.UUID(invoice["id"]),
                gstin=None,
                number="FORGED-1",
                document_date=date(2026, 4, 1),
                retain_until=date(2026, 4, 2),
                document="{}",
                pdf=None,
            )
    kept = await admin.execute(
        sa.text("SELECT count(*) FROM retained_tax_documents WHERE tenant_id = :t"), {"t": tenant_id}
    )
    assert kept.scalar_one() == 0


async def test_purge_tenant_rows_refuses_an_open_tenant_and_any_name_but_a_tenant_table(app, client, admin):
    """The guards of purge_tenant_rows (migration 0035), each by itself: an open tenant's rows (its
    audit log above all) cannot be deleted through it, nor a closed one's before its window ends, and
    the table name is checked against the catalog (and quoted) before it reaches any statement."""
    owner = await make_tenant(client, business_name="Guarded Traders")
    tenant_id = uuid.UUID(owner.tenant_id)
    rt = app.state.runtime
    far = datetime.now(UTC) + timedelta(days=3650)

    async def refused(table: str, moment: datetime) -> str:
        with pytest.raises(sa.exc.DBAPIError) as raised:
            async with rt.db.transaction(tenant_id) as session:
                await TenantPurgeRepository(session).delete_rows(table, None, moment)
        return str(raised.value.orig)

    async def audit_rows() -> int:
        stmt = sa.text("SELECT count(*) FROM audit_logs WHERE tenant_id = :t")
        return (await admin.execute(stmt, {"t": tenant_id})).scalar_one()

    before = await audit_rows()
    assert before > 0
    assert "not closed and due" in await refused("audit_logs", far)  # open
    closed = await client.post(
        f"{API}/tenants/me/delete",
        json={"password": PASSWORD, "confirmation": "Guarded Traders"},
        headers=owner.headers,
    )
    assert closed.status_code == 202, closed.text
    purge_after = datetime.fromisoformat(closed.json()["purge_after"])
    assert "not closed and due" in await refused("audit_logs", purge_after - timedelta(seconds=1))  # window open
    for name in ("tenants", "retained_tax_documents", "plans", "audit_logs; DROP TABLE plans", 'audit_logs" x', ""):
        assert "not a purgeable tenant table" in await refused(name, far), name
    assert await audit_rows() == before + 1  # the closure's own entry; nothing deleted
