"""The full export holds one batch of rows and one chunk of the zip at a time: the peak of Python
memory (tracemalloc) while building the export of a tenant with 3,000 invoices (their JSON Lines and
the CSVs; the PDFs left out here to keep the test short) is about that of a tenant with 1,000, though
it writes three times as much: holding every row (or the whole zip) would triple the peak."""

import io
import tracemalloc
import uuid
import zipfile

import asyncpg
import pytest

from app.core.runtime import Runtime
from app.models.platform.data_export import TenantExport
from app.repositories.platform.tenant_exports import TenantExportRepository
from app.services.platform import tenant_data
from bench.common import asyncpg_dsn
from bench.invoices import seed_bench_tenant
from tests.api.v1.invoicing import Party, make_company, make_customer
from tests.factories import make_tenant

SEEDED = 3000
FEWER = 1000


async def tenant_with_invoices(client, database_urls, seed: int) -> uuid.UUID:
    account = await make_tenant(client)
    company = await make_company(client, account)
    customer = await make_customer(client, account, name="Memory Test Traders", billing_address={"state_code": "29"})
    template = await Party(account, company, customer).invoice(client)
    if seed:
        admin = await asyncpg.connect(asyncpg_dsn(database_urls.admin))
        try:
            snapshots = await admin.fetchrow(
                "SELECT supplier::text, recipient::text FROM invoices WHERE id = $1", uuid.UUID(template["id"])
            )
            await seed_bench_tenant(admin, account.tenant_id, company["id"], customer["id"], seed, tuple(snapshots))
        finally:
            await admin.close()
    return uuid.UUID(account.tenant_id)


async def build(rt: Runtime, tenant: uuid.UUID, *, traced: bool) -> tuple[int, int, zipfile.ZipFile]:
    """(peak traced bytes, uncompressed bytes written, the zip) of one export of the tenant."""
    async with rt.db.transaction(tenant) as session:
        row = await TenantExportRepository(session).add_unless_active(
            TenantExport(status="pending", next_attempt_at=rt.now())
        )
        assert row is not None
    peak = 0
    if traced:
        tracemalloc.start()
    try:
        assert await tenant_data.build(rt.db, rt.settings, tenant, row.id, at=rt.now())
        if traced:
            peak = tracemalloc.get_traced_memory()[1]
    finally:
        if traced:
            tracemalloc.stop()
    async with rt.db.transaction(tenant) as session:
        repo = TenantExportRepository(session)
        parts: list[bytes] = []
        while (chunk := await repo.chunk(row.id, len(parts))) is not None:
            parts.append(chunk)
    archive = zipfile.ZipFile(io.BytesIO(b"".join(parts)))
    return peak, sum(info.file_size for info in archive.infolist()), archive


@pytest.mark.usefixtures("today")
async def test_building_the_zip_holds_a_batch_and_a_chunk_not_the_data(app, client, database_urls, monkeypatch):
    rt = app.state.runtime
    monkeypatch.setattr(tenant_data, "PDF_FOLDERS", {})
    monkeypatch.setattr(tenant_data, "CHUNK_SIZE", 256 * 1024)
    small = await tenant_with_invoices(client, database_urls, FEWER)
    large = await tenant_with_invoices(client, database_urls, SEEDED)
    await build(rt, small, traced=False)  # warm up: statements compiled and cached, modules loaded
    small_peak, small_written, _ = await build(rt, small, traced=True)
    large_peak, large_written, archive = await build(rt, large, traced=True)
    assert len(archive.read("data/invoices.jsonl").splitlines()) == SEEDED + 1
    assert large_written > 2.5 * small_written and large_written > 6 * 1024 * 1024, (small_written, large_written)
    # The peak is one batch of rows (the widest table's), one chunk and the CSV writer's batch:
    # the same for both. Holding the rows (or the zip) would make the large one about 3 times the small.
    assert large_peak < 1.3 * small_peak, (small_peak, large_peak, large_written)
