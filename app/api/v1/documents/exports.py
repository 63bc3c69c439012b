"""Spreadsheet exports: GET /invoices/export, /credit-notes/export, /receipts/export,
/customers/export, /customers/{id}/ledger/export, /products/export and /stock/levels/export, as
CSV (UTF-8 with a BOM) or XLSX. Every member of the tenant may read them, as the lists; another
tenant's (or an unknown) company or customer is a 404.

The filters are checked in the request's transaction, so a bad one is a 400/404 before any byte
is sent; the rows are then streamed from a read of their own (the request's session has
committed by the time the body is sent). Columns: README, "Exports"."""

import logging
import uuid
from typing import Annotated, Any, Literal

import anyio
from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse
from starlette.requests import ClientDisconnect
from starlette.types import Message, Receive, Scope, Send

from app.api.deps import ContextDep, CurrentUser, SessionDep
from app.api.pdf_responses import content_disposition
from app.domain.statuses import InvoiceStatus, ReceiptStatus
from app.schemas.billing.business_fields import IsoDate
from app.schemas.common import problem_responses
from app.services.documents import exports
from app.services.documents.exports import ExportFilters

log = logging.getLogger(__name__)
router = APIRouter(responses=problem_responses(401, 422))
Format = Annotated[Literal["csv", "xlsx"], Query(alias="format", description="csv (UTF-8 with a BOM) or xlsx.")]
DateFrom = Annotated[IsoDate | None, Query(alias="from", description="Document date on or after.")]
DateTo = Annotated[IsoDate | None, Query(alias="to", description="Document date on or before.")]
Lines = Annotated[bool, Query(description="One row per line instead of one per document.")]
Kept = Annotated[Literal["active", "archived"] | None, Query(alias="status", description="Active or archived only.")]


class ExportResponse(StreamingResponse):
    """A stream whose generator is closed when the response ends, however it ends: a client gone
    mid-download leaves Starlette's loop suspended at a `yield`, and the generator (holding the
    export's transaction, cursor and pooled connection) would otherwise wait for the garbage
    collector, which terminates the connection instead of returning it to the pool."""

    media_type = "text/csv; charset=utf-8"
    send_timeout: float | None = None  # a client that takes no chunk for this long is dropped

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        timeout = self.send_timeout

        async def send_in_time(message: Message) -> None:
            with anyio.fail_after(timeout):
                await send(message)

        try:
            await super().__call__(scope, receive, send if timeout is None else send_in_time)
        except (TimeoutError, ClientDisconnect):
            # A reader that stalled (under ASGI spec 2.4 Starlette turns the TimeoutError, an OSError,
            # into ClientDisconnect) or left: the response is abandoned (the server closes the
            # connection); the export's transaction and connection are given back below.
            log.info("export abandoned: the client left or took no data for %s s", timeout)
        finally:
            close = getattr(self.body_iterator, "aclose", None)
            if close is not None:
                with anyio.CancelScope(shield=True):  # the rollback runs even when the request is cancelled
                    await close()


RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The file, streamed (attachment).",
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
                "schema": {"type": "string", "format": "binary"}
            },
        },
        "headers": {
            "Content-Disposition": {
                "description": 'attachment; filename="<resource>-<today>.<csv|xlsx>"',
                "schema": {"type": "string"},
            }
        },
    },
    **problem_responses(400, 404),
}


async def _export(
    session: SessionDep, ctx: ContextDep, resource: str, fmt: str, filters: ExportFilters
) -> ExportResponse:
    await exports.check(session, ctx, resource, fmt, filters)
    name = exports.file_name(resource, fmt, today=ctx.today)
    disposition = content_disposition(name).replace("inline", "attachment", 1)
    response = ExportResponse(
        exports.stream_detached(ctx, resource, fmt, filters),
        media_type=exports.media_type(fmt),
        headers={"Content-Disposition": disposition, "Cache-Control": "private, no-store"},
    )
    response.send_timeout = ctx.settings.export_send_timeout_seconds
    return response


@router.get("/invoices/export", tags=["invoices"], response_class=ExportResponse, responses=RESPONSES)
async def export_invoices(
    _: CurrentUser,
    session: SessionDep,
    ctx: ContextDep,
    fmt: Format = "csv",
    date_from: DateFrom = None,
    date_to: DateTo = None,
    status_: Annotated[InvoiceStatus | None, Query(alias="status")] = None,
    company_id: uuid.UUID | None = None,
    customer_id: uuid.UUID | None = None,
    lines: Lines = False,
) -> StreamingResponse:
    """The invoices (drafts included unless `status` says otherwise), oldest first, amounts in
    rupees; with `lines=true` one row per line, the invoice's columns repeated."""
    filters = ExportFilters(date_from, date_to, status_, company_id, customer_id, lines)
    return await _export(session, ctx, "invoices", fmt, filters)


@router.get("/credit-notes/export", tags=["credit notes"], response_class=ExportResponse, responses=RESPONSES)
async def export_credit_notes(
    _: CurrentUser,
    session: SessionDep,
    ctx: ContextDep,
    fmt: Format = "csv",
    date_from: DateFrom = None,
    date_to: DateTo = None,
    company_id: uuid.UUID | None = None,
    customer_id: uuid.UUID | None = None,
    lines: Lines = False,
) -> StreamingResponse:
    filters = ExportFilters(date_from, date_to, None, company_id, customer_id, lines)
    return await _export(session, ctx, "credit_notes", fmt, filters)


@router.get("/receipts/export", tags=["receipts"], response_class=ExportResponse, responses=RESPONSES)
async def export_receipts(
    _: CurrentUser,
    session: SessionDep,
    ctx: ContextDep,
    fmt: Format = "csv",
    date_from: DateFrom = None,
    date_to: DateTo = None,
    status_: Annotated[ReceiptStatus | None, Query(alias="status")] = None,
    company_id: uuid.UUID | None = None,
    customer_id: uuid.UUID | None = None,
) -> StreamingResponse:
    filters = ExportFilters(date_from, date_to, status_, company_id, customer_id)
    return await _export(session, ctx, "receipts", fmt, filters)


@router.get("/customers/export", tags=["customers"], response_class=ExportResponse, responses=RESPONSES)
async def export_customers(
    _: CurrentUser,
    session: SessionDep,
    ctx: ContextDep,
    fmt: Format = "csv",
    status_: Kept = None,
) -> StreamingResponse:
    """Every customer (active and archived unless `status` says which), by name."""
    return await _export(session, ctx, "customers", fmt, ExportFilters(status=status_))


LEDGER_EXPORT = "/customers/{customer_id:uuid}/ledger/export"


@router.get(LEDGER_EXPORT, tags=["customers"], response_class=ExportResponse, responses=RESPONSES)
async def export_ledger(
    customer_id: uuid.UUID,
    _: CurrentUser,
    session: SessionDep,
    ctx: ContextDep,
    fmt: Format = "csv",
    date_from: Annotated[
        IsoDate | None, Query(alias="from", description="First day; defaults to the start of the financial year.")
    ] = None,
    date_to: Annotated[IsoDate | None, Query(alias="to", description="Last day; defaults to today (India).")] = None,
) -> StreamingResponse:
    """The customer's ledger as GET /customers/{id}/ledger shows it: the balance brought forward,
    then every entry of the period with its debit, credit and running balance."""
    filters = ExportFilters(date_from, date_to, customer_id=customer_id)
    return await _export(session, ctx, "customer_ledger", fmt, filters)


@router.get("/products/export", tags=["products"], response_class=ExportResponse, responses=RESPONSES)
async def export_products(
    _: CurrentUser,
    session: SessionDep,
    ctx: ContextDep,
    fmt: Format = "csv",
    status_: Kept = None,
) -> StreamingResponse:
    """Every product (active and archived unless `status` says which), by SKU."""
    return await _export(session, ctx, "products", fmt, ExportFilters(status=status_))


@router.get("/stock/levels/export", tags=["stock"], response_class=ExportResponse, responses=RESPONSES)
async def export_stock_levels(
    _: CurrentUser,
    session: SessionDep,
    ctx: ContextDep,
    fmt: Format = "csv",
    company_id: uuid.UUID | None = None,
) -> StreamingResponse:
    """Stock on hand, reserved and available per product and company (location), by SKU."""
    return await _export(session, ctx, "stock_levels", fmt, ExportFilters(company_id=company_id))
