"""A digest of every row a tenant has, per table, read as the owner role (row-level security
does not restrict it): equal digests before and after an action mean the action changed nothing."""

import uuid

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from tests.db.tenant_rows import rls_tables, tenant_column


async def tenant_digest(admin: AsyncConnection, tenant_id: uuid.UUID | str) -> dict[str, str]:
    row = "md5(t::text)"
    parts = [
        f"SELECT '{table.name}' AS name, md5(coalesce(string_agg({row}, ',' ORDER BY {row}), '')) AS digest "
        f"FROM {table.name} t WHERE t.{tenant_column(table).name} = CAST(:tenant AS uuid)"
        for table in rls_tables()
    ]
    rows = await admin.execute(sa.text(" UNION ALL ".join(parts)), {"tenant": str(tenant_id)})
    return dict(rows.all())
