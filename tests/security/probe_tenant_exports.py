"""The tenant's full export for the cross-tenant probe: one export (built in the background)."""

import httpx

from app.core.database import drain_background_tasks
from tests.factories import API


async def add_tenant_export_rows(client: httpx.AsyncClient, tenant) -> None:
    response = await client.post(f"{API}/tenants/me/export", headers=tenant.owner.headers)
    assert response.status_code == 202, response.text
    tenant.tenant_export_ids = [response.json()["id"]]
    await drain_background_tasks()  # built and mailed now: the probe's snapshots see it done
