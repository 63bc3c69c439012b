"""Two tenants with at least one row in every tenant table, for the row-level security tests.

The HTTP API makes what it can (tenants, users, sessions, tokens, invitations, audit, mail); the
rest is written here as the owner role from the table definitions, so a new tenant table gets rows
without anyone remembering to. When a column needs a value the types alone cannot give (a CHECK
with a pattern, say), the insert fails naming the table: add the column to OVERRIDES.
"""

import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import INET, JSONB
from sqlalchemy.ext.asyncio import AsyncConnection

from app.models import RLS_TABLES, Base
from tests.api.v1.members import invite
from tests.conftest import unique_email
from tests.factories import API, make_tenant

# (table, column) -> value, for columns whose CHECK constraint the type-based value would fail.
OVERRIDES: dict[tuple[str, str], Any] = {
    ("companies", "state_code"): "27",
    ("company_logos", "content"): b"\x89PNG\r\n\x1a\n",
    ("company_logos", "width"): 1,
    ("company_logos", "height"): 1,
    ("company_logos", "sha256"): "0" * 64,
    ("customers", "billing_state_code"): "27",
    ("number_series", "last_seq"): 1,
    ("invoices", "place_of_supply"): "27",
    ("invoice_lines", "quantity"): Decimal(1),
    ("receipts", "amount"): Decimal(1),
    ("receipt_allocations", "amount"): Decimal(1),
    ("credit_notes", "total"): Decimal(1),
    ("credit_note_lines", "taxable_value"): Decimal(1),
    ("product_categories", "depth"): 1,
    ("products", "hsn_code"): "1006",
    ("products", "unit"): "NOS",
    ("stock_movements", "on_hand_change"): Decimal(1),
    ("stock_movements", "on_hand_after"): Decimal(1),
    ("stock_movements", "reserved_after"): Decimal(0),
    ("stock_documents", "kind"): "receipt",
    ("payments", "plan_code"): "standard",
    ("payments", "amount_paise"): 99_900,
    ("payments", "currency"): "INR",
    ("payment_gateways", "webhook_id"): "rls_webhook_0123456789",
    ("online_payments", "amount"): Decimal(1),
    ("refunds", "amount"): Decimal(1),
    ("sales_order_lines", "quantity"): Decimal(1),
    ("recurring_invoices", "day_of_month"): 1,
    ("recurring_runs", "outcome"): "skipped",  # an issued run needs an invoice
    ("storage_agreements", "monthly_rate"): Decimal(2),
    ("storage_agreements", "billing_day"): 1,
    ("storage_holdings", "quantity"): Decimal(1),
    ("storage_holdings", "unit_value"): Decimal(100),
    ("storage_movements", "quantity"): Decimal(1),
    ("storage_movements", "quantity_after"): Decimal(1),
    ("storage_rent_periods", "period_end"): date(2100, 1, 1),
    ("storage_rent_periods", "rent"): Decimal(0),
    ("business_events", "event_type"): "invoice.issued",
    ("webhook_endpoints", "url"): "https://hooks.example.com/rms",
    ("tenant_export_chunks", "data"): b"PK",
    ("share_links", "expires_at"): datetime(2100, 1, 1, tzinfo=UTC),  # CHECK expires_at > created_at
    # registration opens a usage period (with a ledger entry); these serve a tenant that has none
    ("usage_periods", "meter"): "tokens",
    ("usage_periods", "plan_code"): "free",
    ("usage_periods", "period_end"): datetime(2100, 1, 1, tzinfo=UTC),
    ("usage_ledger", "meter"): "tokens",
    ("usage_ledger", "plan_code"): "free",
}
# Nullable columns a CHECK needs one of (outbox_email_documents: exactly one document).
ALSO_FILLED = {
    ("outbox_email_documents", "invoice_id"),
    ("online_payments", "invoice_id"),
    ("recurring_invoices", "next_date"),  # an active schedule has its next period's date
}
IN_LIST = re.compile(r"(\w+) IN \('([^']*)'")


@dataclass(frozen=True)
class TwoTenants:
    a: uuid.UUID
    b: uuid.UUID


def tenant_column(table: sa.Table) -> sa.Column:
    """The column the table's policy compares with app.tenant_id."""
    return table.c.tenant_id if "tenant_id" in table.c else table.c.id


def rls_tables() -> list[sa.Table]:
    return [Base.metadata.tables[name] for name in RLS_TABLES]


async def make_two_tenants(client: httpx.AsyncClient, admin: AsyncConnection) -> TwoTenants:
    ids = [await _tenant_through_api(client, name) for name in ("RLS A Traders", "RLS B Traders")]
    for tenant_id in ids:
        await fill_empty_tables(admin, tenant_id)
    return TwoTenants(*ids)


async def _tenant_through_api(client: httpx.AsyncClient, business_name: str) -> uuid.UUID:
    owner = await make_tenant(client, business_name=business_name)
    assert (await invite(client, owner, unique_email("invitee"), "viewer")).status_code == 201
    assert (await client.post(f"{API}/auth/forgot-password", json={"email": owner.email})).status_code == 202
    return uuid.UUID(owner.tenant_id)


@asynccontextmanager
async def as_tenant(admin: AsyncConnection, tenant_id: uuid.UUID) -> AsyncIterator[None]:
    """Bind tenant_id on an autocommit owner connection. A superuser owner sees every row anyway; a
    non-superuser owner (a managed database's) is subject to FORCE ROW LEVEL SECURITY like the app."""
    await admin.execute(sa.select(sa.func.set_config("app.tenant_id", str(tenant_id), False)))
    try:
        yield
    finally:
        await admin.execute(sa.select(sa.func.set_config("app.tenant_id", "", False)))


async def fill_empty_tables(admin: AsyncConnection, tenant_id: uuid.UUID) -> None:
    """Insert one row into every tenant table that has none of this tenant's (parents first).
    `admin` is an autocommit connection of the owner role."""
    wanted = set(RLS_TABLES)
    async with as_tenant(admin, tenant_id):
        for table in Base.metadata.sorted_tables:
            if table.name not in wanted or await _count(admin, table, tenant_id):
                continue
            row = {c.name: await _value(admin, table, c, tenant_id) for c in table.columns if _needs_value(c)}
            try:
                await admin.execute(sa.insert(table).values(row))
            except sa.exc.DBAPIError as exc:
                problem = f"cannot make a {table.name} row from {row}: add to OVERRIDES ({exc.orig})"
                raise AssertionError(problem) from exc


async def _count(conn: AsyncConnection, table: sa.Table, tenant_id: uuid.UUID) -> int:
    stmt = sa.select(sa.func.count()).select_from(table).where(tenant_column(table) == tenant_id)
    return (await conn.execute(stmt)).scalar_one()


def _needs_value(column: sa.Column) -> bool:
    if column.name == "tenant_id" or (column.table.name, column.name) in ALSO_FILLED:
        return True
    return not column.nullable and column.default is None and column.server_default is None


async def _value(admin: AsyncConnection, table: sa.Table, column: sa.Column, tenant_id: uuid.UUID) -> Any:
    if column.name == "tenant_id":
        return tenant_id
    if (table.name, column.name) in OVERRIDES:
        return OVERRIDES[table.name, column.name]
    for fk in column.foreign_keys:
        parent = fk.column.table
        stmt = sa.select(fk.column).where(tenant_column(parent) == tenant_id).limit(1)
        return (await admin.execute(stmt)).scalar_one()
    return _check_value(table, column) or _typed_value(column)


def _check_value(table: sa.Table, column: sa.Column) -> str | None:
    for constraint in table.constraints:
        if isinstance(constraint, sa.CheckConstraint):
            match = IN_LIST.search(str(constraint.sqltext))
            if match and match.group(1) == column.name:
                return match.group(2)
    return None


def _typed_value(column: sa.Column) -> Any:
    kind = column.type
    if isinstance(kind, sa.Uuid):
        return uuid.uuid4()
    if isinstance(kind, sa.Boolean):
        return False
    if isinstance(kind, sa.Integer):
        return 0
    if isinstance(kind, sa.Numeric):
        return Decimal(0)
    if isinstance(kind, sa.DateTime):
        return datetime.now(UTC)
    if isinstance(kind, sa.Date):
        return datetime.now(ZoneInfo("Asia/Kolkata")).date()
    if isinstance(kind, JSONB):
        return {}
    if isinstance(kind, INET):
        return "127.0.0.1"
    if isinstance(kind, sa.String):
        return uuid.uuid4().hex[: kind.length or 32]
    raise AssertionError(f"no sample value for {column.table.name}.{column.name} ({kind}): add to OVERRIDES")
