"""Spreadsheet exports (CSV and XLSX) of invoices, credit notes, receipts, customers, a customer's
ledger, products and stock levels, streamed with constant memory.

`EXPORTS` names each resource's exporter; `stream(session, ctx, resource, fmt, filters)` yields
the file's bytes. The rows come from a server-side cursor in the session's transaction (one
snapshot: a REPEATABLE READ or single-statement read sees one state of the data) a batch at a
time (app.repositories.documents.exports.BATCH_ROWS), each batch written and dropped before the
next is fetched; the formatting runs in a worker thread so a large export does not stall the
event loop. `check` validates the filters (400/404) before a response starts: the API calls it
first, since once the first byte is sent an error can no longer change the status.
"""

import asyncio
import uuid
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.context import Context
from app.core.errors import NotFound, RuleViolation
from app.domain.statuses import InvoiceStatus, ReceiptStatus
from app.repositories.billing.companies import CompanyRepository
from app.repositories.billing.customers import CustomerRepository
from app.repositories.documents import exports as queries
from app.repositories.documents.exports import ExportRepository, RowFilters, Statement
from app.services.billing.ledger import check_day, report_range
from app.services.documents.export_formats import WRITERS, Column, Writer

FORMATS = tuple(WRITERS)
# The longest from..to span an export accepts: ten years (a GST record is kept six to eight).
MAX_SPAN_DAYS = 3660
ACTIVE_OR_ARCHIVED = frozenset({"active", "archived"})


@dataclass(frozen=True)
class ExportFilters:
    """What an export keeps. Every default keeps everything (the tenant's full export uses
    `ExportFilters()`). `date_from`/`date_to` bound the document date (inclusive); `status` is the
    resource's status (invoices: draft, issued, partially_paid, paid, void; receipts: active, void;
    customers and products: active, archived); `lines`: one row per document line."""

    date_from: date | None = None
    date_to: date | None = None
    status: str | None = None
    company_id: uuid.UUID | None = None
    customer_id: uuid.UUID | None = None
    lines: bool = False


@dataclass(frozen=True)
class Prepared:
    """An export's statement, and the rows written before it (the ledger's balance brought forward)."""

    statement: Statement
    head: list[tuple[Any, ...]] = field(default_factory=list)


Query = Callable[[AsyncSession, Context, ExportFilters], Awaitable[Prepared]]


@dataclass(frozen=True)
class Exporter:
    title: str  # the file name's stem and the sheet's name
    columns: tuple[Column, ...]
    query: Query
    line_columns: tuple[Column, ...] | None = None  # with lines=true; None: no lines
    statuses: frozenset[str] = frozenset()
    dated: bool = False  # from/to apply
    by_company: bool = False
    by_customer: bool = False
    needs_customer: bool = False

    def columns_for(self, filters: ExportFilters) -> tuple[Column, ...]:
        return self.line_columns if filters.lines and self.line_columns else self.columns


def _row_filters(f: ExportFilters) -> RowFilters:
    return RowFilters(f.date_from, f.date_to, f.status, f.company_id, f.customer_id)


def _plain(build: Callable[[RowFilters], Statement]) -> Query:
    async def query(_session: AsyncSession, _ctx: Context, f: ExportFilters) -> Prepared:
        return Prepared(build(_row_filters(f)))

    return query


def _with_lines(build: Callable[..., Statement]) -> Query:
    async def query(_session: AsyncSession, _ctx: Context, f: ExportFilters) -> Prepared:
        return Prepared(build(_row_filters(f), lines=f.lines))

    return query


async def _ledger(session: AsyncSession, ctx: Context, f: ExportFilters) -> Prepared:
    assert f.customer_id is not None  # check() requires it
    start, end = report_range(f.date_from, f.date_to, today=ctx.today)
    found = await ExportRepository(session).ledger_statement(f.customer_id, date_from=start, date_to=end)
    if found is None:
        raise NotFound("Customer not found.", code="customer-not-found")
    brought_forward, statement = found
    opening = (start, "opening_balance", None, None, "Balance brought forward", None, None, brought_forward)
    return Prepared(statement, [opening])


def _money(key: str, header: str) -> Column:
    return Column(key, header, "money")


DOCUMENT_PARTIES = (
    Column("company", "Company"),
    Column("company_gstin", "Company GSTIN"),
    Column("customer", "Customer"),
    Column("customer_gstin", "Customer GSTIN"),
    Column("place_of_supply", "Place of supply"),
    Column("supply_type", "Supply type"),
)
TAX_LINE = (
    Column("gst_rate", "GST rate %", "rate"),
    _money("taxable_value", "Line taxable value"),
    _money("cgst", "Line CGST"),
    _money("sgst", "Line SGST"),
    _money("utgst", "Line UTGST"),
    _money("igst", "Line IGST"),
    _money("line_total", "Line total"),
)
INVOICE_HEAD = (
    Column("number", "Invoice number"),
    Column("invoice_date", "Invoice date", "date"),
    Column("due_date", "Due date", "date"),
    Column("status", "Status"),
    Column("document_type", "Document type"),
    *DOCUMENT_PARTIES,
    Column("reverse_charge", "Reverse charge", "bool"),
)
INVOICE_LINE = (
    Column("line", "Line", "int"),
    Column("description", "Description"),
    Column("hsn_sac", "HSN/SAC"),
    Column("quantity", "Quantity", "quantity"),
    Column("unit", "Unit"),
    Column("unit_price", "Unit price", "price"),
    _money("discount", "Discount"),
    *TAX_LINE,
)
INVOICE_TAIL = (
    _money("invoice_taxable_value", "Taxable value"),
    _money("invoice_cgst", "CGST"),
    _money("invoice_sgst", "SGST"),
    _money("invoice_utgst", "UTGST"),
    _money("invoice_igst", "IGST"),
    _money("invoice_tax_total", "Tax total"),
    _money("round_off", "Round off"),
    _money("total", "Total"),
    _money("amount_paid", "Paid"),
    _money("amount_credited", "Credited"),
    _money("balance_due", "Balance due"),
    Column("id", "Invoice id", "id"),
)
NOTE_HEAD = (
    Column("number", "Credit note number"),
    Column("credit_note_date", "Credit note date", "date"),
    Column("invoice_number", "Invoice number"),
    Column("invoice_date", "Invoice date", "date"),
    *DOCUMENT_PARTIES,
    Column("reason", "Reason"),
    Column("is_full", "Full credit", "bool"),
)
NOTE_LINE = (
    Column("line", "Line", "int"),
    Column("description", "Description"),
    Column("hsn_sac", "HSN/SAC"),
    Column("quantity", "Quantity", "quantity"),
    *TAX_LINE,
)
NOTE_TAIL = (
    _money("note_taxable_value", "Taxable value"),
    _money("note_cgst", "CGST"),
    _money("note_sgst", "SGST"),
    _money("note_utgst", "UTGST"),
    _money("note_igst", "IGST"),
    _money("note_tax_total", "Tax total"),
    _money("round_off", "Round off"),
    _money("total", "Total"),
    Column("id", "Credit note id", "id"),
)

EXPORTS: dict[str, Exporter] = {
    "invoices": Exporter(
        title="invoices",
        columns=(*INVOICE_HEAD, *INVOICE_TAIL),
        line_columns=(*INVOICE_HEAD, *INVOICE_LINE, *INVOICE_TAIL),
        query=_with_lines(queries.invoices),
        statuses=frozenset(InvoiceStatus),
        dated=True,
        by_company=True,
        by_customer=True,
    ),
    "credit_notes": Exporter(
        title="credit-notes",
        columns=(*NOTE_HEAD, *NOTE_TAIL),
        line_columns=(*NOTE_HEAD, *NOTE_LINE, *NOTE_TAIL),
        query=_with_lines(queries.credit_notes),
        dated=True,
        by_company=True,
        by_customer=True,
    ),
    "receipts": Exporter(
        title="receipts",
        columns=(
            Column("number", "Receipt number"),
            Column("receipt_date", "Receipt date", "date"),
            Column("status", "Status"),
            Column("company", "Company"),
            Column("customer", "Customer"),
            Column("customer_gstin", "Customer GSTIN"),
            Column("mode", "Mode"),
            Column("reference", "Reference"),
            _money("amount", "Amount"),
            _money("amount_allocated", "Allocated"),
            _money("amount_refunded", "Refunded"),
            Column("notes", "Notes"),
            Column("void_reason", "Void reason"),
            Column("id", "Receipt id", "id"),
        ),
        query=_plain(queries.receipts),
        statuses=frozenset(ReceiptStatus),
        dated=True,
        by_company=True,
        by_customer=True,
    ),
    "customers": Exporter(
        title="customers",
        columns=(
            Column("name", "Name"),
            Column("gstin", "GSTIN"),
            Column("pan", "PAN"),
            Column("is_sez", "SEZ", "bool"),
            Column("email", "Email"),
            Column("phone", "Phone"),
            Column("billing_address_line1", "Billing address line 1"),
            Column("billing_address_line2", "Billing address line 2"),
            Column("billing_city", "Billing city"),
            Column("billing_state_code", "Billing state code"),
            Column("billing_pincode", "Billing PIN code"),
            Column("shipping_address_line1", "Shipping address line 1"),
            Column("shipping_address_line2", "Shipping address line 2"),
            Column("shipping_city", "Shipping city"),
            Column("shipping_state_code", "Shipping state code"),
            Column("shipping_pincode", "Shipping PIN code"),
            Column("payment_terms_days", "Payment terms (days)", "int"),
            _money("credit_limit", "Credit limit"),
            _money("opening_balance", "Opening balance"),
            _money("balance", "Balance"),
            Column("archived", "Archived", "bool"),
            Column("created_at", "Created at", "datetime"),
            Column("id", "Customer id", "id"),
        ),
        query=_plain(queries.customers),
        statuses=ACTIVE_OR_ARCHIVED,
    ),
    "customer_ledger": Exporter(
        title="ledger",
        columns=(
            Column("entry_date", "Date", "date"),
            Column("type", "Type"),
            Column("document_id", "Document id", "id"),
            Column("number", "Number"),
            Column("description", "Description"),
            _money("debit", "Debit"),
            _money("credit", "Credit"),
            _money("balance", "Balance"),
        ),
        query=_ledger,
        dated=True,
        needs_customer=True,
    ),
    "products": Exporter(
        title="products",
        columns=(
            Column("sku", "SKU"),
            Column("name", "Name"),
            Column("barcode", "Barcode"),
            Column("category", "Category"),
            Column("hsn_code", "HSN code"),
            Column("unit", "Unit"),
            Column("sale_price", "Sale price", "price"),
            Column("price_includes_tax", "Price includes tax", "bool"),
            _money("mrp", "MRP"),
            Column("purchase_cost", "Purchase cost", "price"),
            Column("gst_rate", "GST rate %", "rate"),
            Column("track_stock", "Track stock", "bool"),
            Column("reorder_level", "Reorder level", "quantity"),
            Column("reorder_quantity", "Reorder quantity", "quantity"),
            Column("archived", "Archived", "bool"),
            Column("description", "Description"),
            Column("id", "Product id", "id"),
        ),
        query=_plain(queries.products),
        statuses=ACTIVE_OR_ARCHIVED,
    ),
    "stock_levels": Exporter(
        title="stock-levels",
        columns=(
            Column("sku", "SKU"),
            Column("product", "Product"),
            Column("company", "Company"),
            Column("unit", "Unit"),
            Column("on_hand", "On hand", "quantity"),
            Column("reserved", "Reserved", "quantity"),
            Column("available", "Available", "quantity"),
            Column("reorder_level", "Reorder level", "quantity"),
            Column("updated_at", "Updated at", "datetime"),
            Column("product_id", "Product id", "id"),
            Column("company_id", "Company id", "id"),
        ),
        query=_plain(queries.stock_levels),
        by_company=True,
    ),
}


# The exports `ExportFilters()` answers (every one but the customer ledger, which needs a
# customer_id: a full export leaves it out, or runs it per customer).
TENANT_WIDE: tuple[str, ...] = tuple(name for name, exporter in EXPORTS.items() if not exporter.needs_customer)


def file_name(resource: str, fmt: str, *, today: date) -> str:
    return f"{EXPORTS[resource].title}-{today.isoformat()}.{WRITERS[fmt].extension}"


def media_type(fmt: str) -> str:
    return WRITERS[fmt].media_type


async def check(session: AsyncSession, ctx: Context, resource: str, fmt: str, filters: ExportFilters) -> Exporter:
    """The resource's exporter, once the request is known to be answerable: 400 for a filter the
    resource does not take or a bad range, 404 for a company or customer not in this tenant."""
    exporter = EXPORTS.get(resource)
    if exporter is None:
        raise NotFound("No such export.", code="not-found")
    if fmt not in WRITERS:
        raise RuleViolation("format", f"The format is one of {', '.join(FORMATS)}.", code="invalid-export-filter")
    _check_filters(exporter, filters)
    if filters.company_id is not None and await CompanyRepository(session).get(filters.company_id) is None:
        raise NotFound("No company with this id.", code="company-not-found")
    if filters.customer_id is not None and await CustomerRepository(session).get(filters.customer_id) is None:
        raise NotFound("Customer not found.", code="customer-not-found")
    return exporter


def _check_filters(exporter: Exporter, f: ExportFilters) -> None:
    def refuse(name: str) -> RuleViolation:
        return RuleViolation(name, f"This export has no `{name}` filter.", code="invalid-export-filter")

    if f.status is not None and f.status not in exporter.statuses:
        if not exporter.statuses:
            raise refuse("status")
        allowed = ", ".join(sorted(exporter.statuses))
        raise RuleViolation("status", f"The status is one of {allowed}.", code="invalid-export-filter")
    if f.company_id is not None and not exporter.by_company:
        raise refuse("company_id")
    if f.customer_id is not None and not (exporter.by_customer or exporter.needs_customer):
        raise refuse("customer_id")
    if exporter.needs_customer and f.customer_id is None:
        raise RuleViolation("customer_id", "This export needs a customer.", code="invalid-export-filter")
    if f.lines and exporter.line_columns is None:
        raise refuse("lines")
    if (f.date_from is not None or f.date_to is not None) and not exporter.dated:
        raise refuse("from" if f.date_from is not None else "to")
    if f.date_from is not None:
        check_day("from", f.date_from)
    if f.date_to is not None:
        check_day("to", f.date_to)
    if f.date_from is not None and f.date_to is not None:
        if f.date_to < f.date_from:
            raise RuleViolation("to", "`to` is before `from`.", code="invalid-date-range")
        if (f.date_to - f.date_from).days >= MAX_SPAN_DAYS:
            raise RuleViolation(
                "to", f"An export spans at most {MAX_SPAN_DAYS} days; split it.", code="export-range-too-long"
            )


async def stream(
    session: AsyncSession, ctx: Context, resource: str, fmt: str, filters: ExportFilters
) -> AsyncGenerator[bytes]:
    """The export's file, chunk by chunk (a chunk per batch of rows; XLSX: its zip at the end, in
    64 KiB chunks). Raises what `check` raises before the first chunk. The session's tenant
    scopes the rows; the caller owns the transaction (a read of one snapshot)."""
    exporter = await check(session, ctx, resource, fmt, filters)
    prepared = await exporter.query(session, ctx, filters)
    columns = exporter.columns_for(filters)
    writer = WRITERS[fmt](exporter.title, columns)
    keys = [c.key for c in columns]
    try:
        if head := writer.header():
            yield head
        if prepared.head:
            yield await asyncio.to_thread(writer.rows, prepared.head)
        async with aclosing(ExportRepository(session).batches(prepared.statement)) as batches:
            async for batch in batches:
                rows = [_pick(row._mapping, keys) for row in batch]
                del batch
                chunk = await asyncio.to_thread(writer.rows, rows)
                del rows  # one batch in memory at a time: none is held while the next is fetched
                if chunk:
                    yield chunk
                del chunk
        file = await asyncio.to_thread(writer.finish)
        if file is not None:
            with file:
                while chunk := await asyncio.to_thread(file.read, 64 * 1024):
                    yield chunk
    finally:
        writer.close()


async def stream_detached(ctx: Context, resource: str, fmt: str, filters: ExportFilters) -> AsyncGenerator[bytes]:
    """`stream` in a read of its own, in ctx's tenant: the API's, whose request session has
    committed before the body is sent. It holds a pooled connection while the client downloads."""
    if ctx.tenant_id is None:
        raise RuntimeError("an export needs a tenant")
    async with (
        ctx.db.transaction(ctx.tenant_id) as session,
        aclosing(stream(session, ctx, resource, fmt, filters)) as chunks,
    ):
        async for chunk in chunks:
            yield chunk


def _pick(mapping: Any, keys: Sequence[str]) -> tuple[Any, ...]:
    return tuple(mapping[key] for key in keys)


__all__ = [
    "EXPORTS",
    "FORMATS",
    "TENANT_WIDE",
    "ExportFilters",
    "Exporter",
    "Writer",
    "check",
    "stream",
    "stream_detached",
]
