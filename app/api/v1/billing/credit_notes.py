import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, status

from app.api.batch import id_list
from app.api.deps import ContextDep, CurrentUser, PaginationDep, SessionDep, WriterUser
from app.api.fields import Selection, field_selection, respond
from app.api.idempotency import IdempotentDep
from app.models.billing.credit_note import CreditNote
from app.repositories.billing.credit_notes import CreditNoteFilters, CreditNoteRepository
from app.repositories.billing.display_names import DisplayNameRepository
from app.schemas.billing.business_fields import IsoDate
from app.schemas.billing.credit_notes import CreditNoteCreate, CreditNotePage, CreditNoteRead, CreditNoteSort
from app.schemas.common import problem_responses
from app.schemas.documents.document_mail import DeliveryPage, DeliveryRead, SendRequest
from app.services.billing import credit_notes
from app.services.documents import document_mail

router = APIRouter(prefix="/credit-notes", tags=["credit notes"], responses=problem_responses(401, 422))
Fields = Annotated[Selection, Depends(field_selection(CreditNoteRead))]
# 400: a rule the schema cannot state (dated before the invoice, zero quantity, a line named twice);
# 404: the invoice, or a line named in the body, does not exist here;
# 409: the invoice is a draft or void, the credit exceeds what remains uncredited of a line or of the
# invoice, `full` on an invoice credited before, or an Idempotency-Key clash.
WRITE_ERRORS = problem_responses(400, 403, 404, 409)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=CreditNoteRead, responses=WRITE_ERRORS)
async def create_credit_note(
    body: CreditNoteCreate, _: WriterUser, session: SessionDep, ctx: ContextDep, idempotent: IdempotentDep
) -> Any:
    """Credit an issued invoice, in full (`"full": true`: the exact negation of the invoice) or by
    lines (units at the line's price, or a taxable value off it). Tax follows the original line's
    rate and the invoice's supply type. Its own number series; records the invoice's number and
    date (Rule 53). Reduces the invoice's balance and the customer's. Supports `Idempotency-Key`."""

    async def create() -> CreditNoteRead:
        return await _read(session, await credit_notes.create(session, ctx, body=body))

    return await idempotent(201, create)


@router.get("", response_model=CreditNotePage, responses=problem_responses(400))
async def list_credit_notes(
    _: CurrentUser,
    session: SessionDep,
    fields: Fields,
    page: PaginationDep,
    invoice_id: uuid.UUID | None = None,
    customer_id: uuid.UUID | None = None,
    company_id: uuid.UUID | None = None,
    date_from: Annotated[IsoDate | None, Query(alias="from", description="Credit note date on or after.")] = None,
    date_to: Annotated[IsoDate | None, Query(alias="to", description="Credit note date on or before.")] = None,
    ids: Annotated[list[uuid.UUID] | None, Depends(id_list)] = None,
    lines: Annotated[bool, Query(description="Include each credit note's lines.")] = False,
    sort: Annotated[CreditNoteSort, Query()] = "-credit_note_date",
) -> Any:
    filters = CreditNoteFilters(invoice_id, customer_id, company_id, date_from, date_to, ids)
    rows, next_cursor = await CreditNoteRepository(session).list_page(
        filters, limit=page.limit, cursor=page.cursor, sort=sort, with_lines=lines
    )
    items = [CreditNoteRead.of(note, with_lines=lines, names=(customer, company)) for note, customer, company in rows]
    return respond(CreditNotePage(items=items, next_cursor=next_cursor), fields)


@router.get("/{credit_note_id:uuid}", response_model=CreditNoteRead, responses=problem_responses(404))
async def read_credit_note(credit_note_id: uuid.UUID, _: CurrentUser, session: SessionDep, fields: Fields) -> Any:
    return respond(await _read(session, await credit_notes.get(session, credit_note_id)), fields)


async def _read(session: SessionDep, note: CreditNote) -> CreditNoteRead:
    names = await DisplayNameRepository(session).parties(note.customer_id, note.company_id)
    return CreditNoteRead.of(note, names=names)


# --- mail to the customer (issue 10 §2) -----------------------------------------------------------
# 404: no such credit note here; 422 `no-recipient`; 429 `mail-rate-limited`.
SEND_ERRORS = problem_responses(403, 404, 409, 429)


@router.post(
    "/{credit_note_id:uuid}/send",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=DeliveryRead,
    responses=SEND_ERRORS,
)
async def send_credit_note(
    credit_note_id: uuid.UUID,
    body: SendRequest,
    _: WriterUser,
    session: SessionDep,
    ctx: ContextDep,
    idempotent: IdempotentDep,
) -> Any:
    """Email the credit note to the customer, its PDF attached (as `POST /invoices/{id}/send`).
    Supports `Idempotency-Key`."""

    async def send() -> DeliveryRead:
        row = await document_mail.send_credit_note(session, ctx, credit_note_id, body)
        return DeliveryRead.of(row, max_attempts=ctx.settings.mail_max_attempts)

    return await idempotent(202, send)


@router.get("/{credit_note_id:uuid}/deliveries", response_model=DeliveryPage, responses=problem_responses(404))
async def credit_note_deliveries(
    credit_note_id: uuid.UUID, _: CurrentUser, session: SessionDep, ctx: ContextDep, page: PaginationDep
) -> DeliveryPage:
    """Each mail about the credit note, newest first (as `GET /invoices/{id}/deliveries`)."""
    await credit_notes.get(session, credit_note_id)
    return await document_mail.deliveries(
        session, ctx, "credit_note_id", credit_note_id, limit=page.limit, cursor=page.cursor
    )
