"""An export holds one batch of rows at a time: the peak of Python memory (tracemalloc) while
streaming 3,000 invoices (lines included) in CSV and XLSX is about that of streaming a third of
them, far below what holding every row would take. 3,000 issued invoices are written straight
into the database (bench.invoices' seed, one line each) to keep the test short."""

import tracemalloc
import uuid
from datetime import timedelta

import asyncpg
import pytest

from app.core.runtime import Runtime
from app.services.documents import exports
from app.services.documents.exports import ExportFilters
from bench.common import asyncpg_dsn
from bench.invoices import seed_bench_tenant
from tests.api.v1.invoicing import Party, make_company, make_customer
from tests.factories import make_tenant

SEEDED = 3000


async def measure(rt: Runtime, tenant_id: uuid.UUID, fmt: str, filters: ExportFilters) -> tuple[int, int, int]:
    """(rows, bytes, peak traced bytes) of streaming the invoices export."""
    ctx = rt.context(tenant_id=tenant_id)
    size = rows = 0
    async with rt.db.transaction(tenant_id) as session:
        tracemalloc.start()
        try:
            async for chunk in exports.stream(session, ctx, "invoices", fmt, filters):
                size += len(chunk)
                rows += chunk.count(b"\n")
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    return rows, size, peak


@pytest.fixture
async def seeded(client, app, database_urls, today) -> uuid.UUID:
    account = await make_tenant(client)
    company = await make_company(client, account)
    customer = await make_customer(client, account, name="Memory Test Traders", billing_address={"state_code": "29"})
    template = await Party(account, company, customer).invoice(client)
    admin = await asyncpg.connect(asyncpg_dsn(database_urls.admin))
    try:
        snapshots = await admin.fetchrow(
            "SELECT supplier::text, recipient::text FROM invoices WHERE id = $1", uuid.UUID(template["id"])
        )
        await seed_bench_tenant(admin, account.tenant_id, company["id"], customer["id"], SEEDED, tuple(snapshots))
    finally:
        await admin.close()
    return uuid.UUID(account.tenant_id)


async def test_streaming_memory_does_not_grow_with_the_rows(app, seeded, today):
    rt = app.state.runtime
    everything = ExportFilters(lines=True)
    a_third = ExportFilters(date_from=today - timedelta(days=240), date_to=today, lines=True)
    for fmt in ("csv", "xlsx"):
        await measure(rt, seeded, fmt, ExportFilters(date_from=today - timedelta(days=30)))  # warm up
        few_rows, _, few_peak = await measure(rt, seeded, fmt, a_third)
        all_rows, _, all_peak = await measure(rt, seeded, fmt, everything)
        if fmt == "csv":
            assert all_rows == SEEDED + 2  # the header and the template invoice
            assert 2.5 * few_rows < all_rows  # a few batches of 500 rows, then many
        # Holding every row would take about all_rows / few_rows times the small export's peak
        # (each batch is most of it); streamed, the peak stays that of one batch.
        assert all_peak < few_peak + 512 * 1024, (fmt, all_peak, few_peak)
