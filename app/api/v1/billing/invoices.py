import uuid
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response, status

from app.api.batch import id_list
from app.api.deps import ContextDep, CurrentUser, PaginationDep, SessionDep, WriterUser
from app.api.fields import Selection, field_selection, respond
from app.api.idempotency import IdempotentDep
from app.repositories.billing.invoices import InvoiceFilters, InvoiceRepository
from app.schemas.billing.business_fields import IsoDate
from app.schemas.billing.invoices import (
    InvoiceCreate,
    InvoiceIn,
    InvoicePage,
    InvoiceRead,
    InvoiceSort,
    InvoiceStatus,
    ShippingBillRequest,
    VoidRequest,
)
from app.schemas.common import QUERY_TEXT, problem_responses
from app.schemas.documents.document_mail import DeliveryPage, DeliveryRead, InvoiceSendRequest
from app.schemas.documents.share_links import ShareLinkCreate, ShareLinkCreated, ShareLinkList, ShareLinkRead
from app.services.billing import invoicing
from app.services.documents import document_mail, share_links

router = APIRouter(prefix="/invoices", tags=["invoices"], responses=problem_responses(401, 422))
Fields = Annotated[Selection, Depends(field_selection(InvoiceRead))]
# 400: a rule the schema cannot state (rate not in force, discount over the value, archived party);
# 404: the invoice, or a company / customer / service type named in the body, does not exist here;
# 409: the invoice's state forbids it (issued invoices are immutable), or an Idempotency-Key clash.
WRITE_ERRORS = problem_responses(400, 403, 404, 409)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=InvoiceRead, responses=WRITE_ERRORS)
async def create_invoice(
    body: InvoiceCreate, _: WriterUser, session: SessionDep, ctx: ContextDep, idempotent: IdempotentDep
) -> Any:
    """A draft, or an issued invoice with `"issue": true`. Supports `Idempotency-Key`."""

    async def create() -> InvoiceRead:
        invoice = await invoicing.create(session, ctx, body=body, issue=body.issue)
        return InvoiceRead.of(invoice, today=ctx.today)

    return await idempotent(201, create)


@router.get("", response_model=InvoicePage, responses=problem_responses(400))
async def list_invoices(
    _: CurrentUser,
    session: SessionDep,
    ctx: ContextDep,
    fields: Fields,
    page: PaginationDep,
    status_: Annotated[InvoiceStatus | None, Query(alias="status")] = None,
    customer_id: uuid.UUID | None = None,
    company_id: uuid.UUID | None = None,
    date_from: Annotated[IsoDate | None, Query(alias="from", description="Invoice date on or after.")] = None,
    date_to: Annotated[IsoDate | None, Query(alias="to", description="Invoice date on or before.")] = None,
    due_before: Annotated[IsoDate | None, Query(description="Due date before this day.")] = None,
    overdue: Annotated[bool | None, Query(description="true: issued, unpaid and past the due date.")] = None,
    number: Annotated[
        str | None, Query(min_length=1, max_length=16, pattern=QUERY_TEXT, description="Part of the number.")
    ] = None,
    q: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=100,
            pattern=QUERY_TEXT,
            description="Search: the number, the customer's name or the customer's GSTIN starts with this "
            "(case-insensitive).",
        ),
    ] = None,
    ids: Annotated[list[uuid.UUID] | None, Depends(id_list)] = None,
    lines: Annotated[bool, Query(description="Include each invoice's lines.")] = False,
    sort: Annotated[InvoiceSort, Query()] = "-invoice_date",
) -> Any:
    """Invoices, filtered, searched (`q`) or read in a batch (`ids`); `count=true` adds the total."""
    today = ctx.today
    filters = InvoiceFilters(
        status_, customer_id, company_id, date_from, date_to, due_before, number=number, q=q, ids=ids
    )
    if overdue:
        filters = InvoiceFilters(**{**vars(filters), "overdue_on": today})
    rows, next_cursor = await InvoiceRepository(session).list_page(
        filters, limit=page.limit, cursor=page.cursor, sort=sort, with_lines=lines
    )
    items = [InvoiceRead.of(row, today=today, with_lines=lines) for row in rows]
    return respond(InvoicePage(items=items, next_cursor=next_cursor), fields)


@router.get("/{invoice_id:uuid}", response_model=InvoiceRead, responses=problem_responses(404))
async def read_invoice(invoice_id: uuid.UUID, _: CurrentUser, session: SessionDep, ctx: ContextDep, fields: Fields):
    return respond(InvoiceRead.of(await invoicing.get(session, invoice_id), today=ctx.today), fields)


@router.put("/{invoice_id:uuid}", response_model=InvoiceRead, responses=WRITE_ERRORS)
async def replace_draft(
    invoice_id: uuid.UUID, body: InvoiceIn, _: WriterUser, session: SessionDep, ctx: ContextDep
) -> InvoiceRead:
    """Replace a draft's content (lines included). Issued invoices answer 409."""
    return InvoiceRead.of(await invoicing.replace(session, ctx, invoice_id, body=body), today=ctx.today)


@router.delete("/{invoice_id:uuid}", status_code=status.HTTP_204_NO_CONTENT, responses=WRITE_ERRORS)
async def delete_draft(invoice_id: uuid.UUID, _: WriterUser, session: SessionDep) -> Response:
    """Delete a draft. An issued invoice is voided instead, never deleted (409)."""
    await invoicing.delete(session, invoice_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{invoice_id:uuid}/issue", response_model=InvoiceRead, responses=WRITE_ERRORS)
async def issue_invoice(
    invoice_id: uuid.UUID, _: WriterUser, session: SessionDep, ctx: ContextDep, idempotent: IdempotentDep
) -> Any:
    """Assign the next number of the company's series for the invoice date's financial year and
    freeze the invoice. The draft is computed again first with today's GST settings, company and
    customer (rates allowed, date window, round-off, document type), so what is issued follows the
    rules in force at issue. Supports `Idempotency-Key`."""

    async def issue() -> InvoiceRead:
        return InvoiceRead.of(await invoicing.issue(session, ctx, invoice_id), today=ctx.today)

    return await idempotent(200, issue)


@router.post("/{invoice_id:uuid}/void", response_model=InvoiceRead, responses=WRITE_ERRORS)
async def void_invoice(
    invoice_id: uuid.UUID, body: VoidRequest, _: WriterUser, session: SessionDep, ctx: ContextDep
) -> InvoiceRead:
    """Cancel an issued invoice with nothing applied to it; its number is kept, never reused."""
    invoice = await invoicing.void(session, ctx, invoice_id, reason=body.reason)
    return InvoiceRead.of(invoice, today=ctx.today)


@router.put("/{invoice_id:uuid}/shipping-bill", response_model=InvoiceRead, responses=WRITE_ERRORS)
async def record_shipping_bill(
    invoice_id: uuid.UUID, body: ShippingBillRequest, _: WriterUser, session: SessionDep, ctx: ContextDep
) -> InvoiceRead:
    """Record an issued export's shipping bill (number, date, optionally the port) when customs gives
    it, after the invoice. It changes no tax; the PDF prints it from then on. Only exports (422),
    not drafts or void invoices (409); dated on or after the invoice."""
    invoice = await invoicing.record_shipping_bill(session, ctx, invoice_id, body=body)
    return InvoiceRead.of(invoice, today=ctx.today)


# --- mail to the customer (issue 10 §2) -----------------------------------------------------------
# 404: no such invoice here; 409: a draft or a void invoice; 422 `no-recipient`: no `to` and the
# customer has no email; 429 `mail-rate-limited`: the tenant's hourly customer-mail allowance is used.
SEND_ERRORS = problem_responses(403, 404, 409, 429)


@router.post(
    "/{invoice_id:uuid}/send", status_code=status.HTTP_202_ACCEPTED, response_model=DeliveryRead, responses=SEND_ERRORS
)
async def send_invoice(
    invoice_id: uuid.UUID,
    body: InvoiceSendRequest,
    _: WriterUser,
    session: SessionDep,
    ctx: ContextDep,
    idempotent: IdempotentDep,
) -> Any:
    """Email the invoice to the customer (default: the customer's email), its PDF attached and a
    fresh share link to its public page (`share_link: false` for none). Queued
    in this request's transaction and delivered after it (retried with backoff when the mail server
    fails): 202 with the delivery, whose state `GET /invoices/{id}/deliveries` follows. Supports
    `Idempotency-Key` (a replay sends nothing more)."""

    async def send() -> DeliveryRead:
        row = await document_mail.send_invoice(session, ctx, invoice_id, body)
        return DeliveryRead.of(row, max_attempts=ctx.settings.mail_max_attempts)

    return await idempotent(202, send)


@router.get("/{invoice_id:uuid}/deliveries", response_model=DeliveryPage, responses=problem_responses(404))
async def invoice_deliveries(
    invoice_id: uuid.UUID, _: CurrentUser, session: SessionDep, ctx: ContextDep, page: PaginationDep
) -> DeliveryPage:
    """Each mail about the invoice (sent, payment reminders), newest first: recipients, subject,
    state (queued, sent, failed), attempts, the last failure's reason and the timestamps."""
    await invoicing.get(session, invoice_id)
    return await document_mail.deliveries(session, ctx, "invoice_id", invoice_id, limit=page.limit, cursor=page.cursor)


# Share links: a public page of the invoice (GET /p/<token>, app/api/public.py) and its WhatsApp message.
SHARE_ERRORS = problem_responses(400, 403, 404, 409)


@router.post(
    "/{invoice_id:uuid}/share",
    status_code=status.HTTP_201_CREATED,
    response_model=ShareLinkCreated,
    responses=SHARE_ERRORS,
)
async def share_invoice(
    invoice_id: uuid.UUID,
    _: WriterUser,
    session: SessionDep,
    ctx: ContextDep,
    body: ShareLinkCreate | None = None,
) -> ShareLinkCreated:
    """A new link to the invoice's public page (no login), with a WhatsApp link carrying it. The
    link's token appears in this answer only. Drafts and void invoices cannot be shared (409)."""
    days = body.expires_in_days if body is not None else None
    link = await share_links.create(session, ctx, invoice_id, ttl=timedelta(days=days) if days else None)
    return ShareLinkCreated(id=link.id, url=link.url, expires_at=link.expires_at, whatsapp_url=link.whatsapp_url)


@router.get("/{invoice_id:uuid}/share", response_model=ShareLinkList, responses=problem_responses(404))
async def list_share_links(
    invoice_id: uuid.UUID, _: CurrentUser, session: SessionDep, ctx: ContextDep
) -> ShareLinkList:
    """The invoice's active links (not revoked, not expired), newest first, with their view counts."""
    links = await share_links.active(session, ctx, invoice_id)
    return ShareLinkList(items=[ShareLinkRead.model_validate(link) for link in links])


@router.delete(
    "/{invoice_id:uuid}/share", status_code=status.HTTP_204_NO_CONTENT, responses=problem_responses(403, 404)
)
async def revoke_share_links(
    invoice_id: uuid.UUID,
    _: WriterUser,
    session: SessionDep,
    ctx: ContextDep,
    link_id: Annotated[
        uuid.UUID | None,
        Query(description="Revoke only this link (404 if the invoice has no link with this id)."),
    ] = None,
) -> Response:
    """Revoke the invoice's active links, or the one `link_id`: each then opens the same "not found"
    page as a wrong link. Revoking a link that is revoked or expired already changes nothing."""
    await share_links.revoke(session, ctx, invoice_id, link_id=link_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
