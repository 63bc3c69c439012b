import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, status

from app.api.batch import id_list
from app.api.deps import ContextDep, CurrentUser, PaginationDep, SessionDep, WriterUser
from app.api.fields import Selection, field_selection, respond
from app.api.idempotency import IdempotentDep
from app.repositories.billing.display_names import DisplayNameRepository
from app.repositories.billing.receipts import ReceiptFilters, ReceiptRepository
from app.schemas.billing.business_fields import IsoDate
from app.schemas.billing.receipts import (
    AllocateRequest,
    AllocationRead,
    PaymentMode,
    ReceiptCreate,
    ReceiptPage,
    ReceiptRead,
    ReceiptSort,
    ReceiptStatus,
    ReceiptVoid,
)
from app.schemas.common import problem_responses
from app.schemas.documents.document_mail import DeliveryPage, DeliveryRead, SendRequest
from app.services.billing import receipts
from app.services.billing.receipts import Allocated
from app.services.documents import document_mail

router = APIRouter(prefix="/receipts", tags=["receipts"], responses=problem_responses(401, 422))
Fields = Annotated[Selection, Depends(field_selection(ReceiptRead))]
# 400: an invoice of another customer or company, the same invoice twice, an archived party;
# 404: the receipt, or a customer / company / invoice named in the body, does not exist here;
# 409: a draft or void invoice, more than the invoice's balance or the receipt's remainder, a void
# receipt, or an Idempotency-Key clash.
WRITE_ERRORS = problem_responses(400, 403, 404, 409)


async def _read(session: SessionDep, result: Allocated) -> ReceiptRead:
    allocations = [AllocationRead.of(allocation, number) for allocation, number in result.allocations]
    receipt = result.receipt
    names = await DisplayNameRepository(session).parties(receipt.customer_id, receipt.company_id)
    return ReceiptRead.of(receipt, allocations, names=names)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ReceiptRead, responses=WRITE_ERRORS)
async def create_receipt(
    body: ReceiptCreate, _: WriterUser, session: SessionDep, ctx: ContextDep, idempotent: IdempotentDep
) -> Any:
    """Record money received, numbered from the company's receipt series, optionally applied to the
    customer's issued invoices at once. The customer's balance drops by the whole amount; what is
    not allocated is their advance. Supports `Idempotency-Key`."""

    async def create() -> ReceiptRead:
        return await _read(session, await receipts.create(session, ctx, body=body))

    return await idempotent(201, create)


@router.post("/{receipt_id:uuid}/allocate", response_model=ReceiptRead, responses=WRITE_ERRORS)
async def allocate_receipt(
    receipt_id: uuid.UUID,
    body: AllocateRequest,
    _: WriterUser,
    session: SessionDep,
    ctx: ContextDep,
    idempotent: IdempotentDep,
) -> Any:
    """Apply more of the receipt's unallocated amount to invoices; all or nothing. Supports `Idempotency-Key`."""

    async def allocate() -> ReceiptRead:
        return await _read(session, await receipts.allocate(session, ctx, receipt_id, allocations=body.allocations))

    return await idempotent(200, allocate)


@router.get("", response_model=ReceiptPage, responses=problem_responses(400))
async def list_receipts(
    _: CurrentUser,
    session: SessionDep,
    fields: Fields,
    page: PaginationDep,
    customer_id: uuid.UUID | None = None,
    company_id: uuid.UUID | None = None,
    date_from: Annotated[IsoDate | None, Query(alias="from", description="Receipt date on or after.")] = None,
    date_to: Annotated[IsoDate | None, Query(alias="to", description="Receipt date on or before.")] = None,
    mode: PaymentMode | None = None,
    status_: Annotated[ReceiptStatus | None, Query(alias="status")] = None,
    unallocated: Annotated[
        bool | None, Query(description="true: active with an unallocated remainder; false: fully allocated.")
    ] = None,
    ids: Annotated[list[uuid.UUID] | None, Depends(id_list)] = None,
    sort: Annotated[ReceiptSort, Query()] = "-receipt_date",
) -> Any:
    filters = ReceiptFilters(customer_id, company_id, date_from, date_to, mode, status_, unallocated, ids)
    rows, next_cursor = await ReceiptRepository(session).list_page(
        filters, limit=page.limit, cursor=page.cursor, sort=sort
    )
    items = [ReceiptRead.of(receipt, names=(customer, company)) for receipt, customer, company in rows]
    return respond(ReceiptPage(items=items, next_cursor=next_cursor), fields)


@router.get("/{receipt_id:uuid}", response_model=ReceiptRead, responses=problem_responses(404))
async def read_receipt(receipt_id: uuid.UUID, _: CurrentUser, session: SessionDep, fields: Fields) -> Any:
    """The receipt with its allocations."""
    return respond(await _read(session, await receipts.read(session, receipt_id)), fields)


@router.post("/{receipt_id:uuid}/void", response_model=ReceiptRead, responses=WRITE_ERRORS)
async def void_receipt(
    receipt_id: uuid.UUID, body: ReceiptVoid, _: WriterUser, session: SessionDep, ctx: ContextDep
) -> ReceiptRead:
    """Cancel a receipt: its allocations are released (invoice balances and statuses go back), the
    customer owes its amount again; the number stays taken. The receipt of an online payment (a
    link's or an order's) is not voided (409 `receipt-of-online-payment`): refund that money."""
    return await _read(session, await receipts.void(session, ctx, receipt_id, reason=body.reason))


# --- mail to the customer (issue 10 §2) -----------------------------------------------------------
# 404: no such receipt here; 409: a void receipt; 422 `no-recipient`; 429 `mail-rate-limited`.
SEND_ERRORS = problem_responses(403, 404, 409, 429)


@router.post(
    "/{receipt_id:uuid}/send", status_code=status.HTTP_202_ACCEPTED, response_model=DeliveryRead, responses=SEND_ERRORS
)
async def send_receipt(
    receipt_id: uuid.UUID,
    body: SendRequest,
    _: WriterUser,
    session: SessionDep,
    ctx: ContextDep,
    idempotent: IdempotentDep,
) -> Any:
    """Email the receipt voucher to the customer, its PDF attached (as `POST /invoices/{id}/send`).
    Supports `Idempotency-Key`."""

    async def send() -> DeliveryRead:
        row = await document_mail.send_receipt(session, ctx, receipt_id, body)
        return DeliveryRead.of(row, max_attempts=ctx.settings.mail_max_attempts)

    return await idempotent(202, send)


@router.get("/{receipt_id:uuid}/deliveries", response_model=DeliveryPage, responses=problem_responses(404))
async def receipt_deliveries(
    receipt_id: uuid.UUID, _: CurrentUser, session: SessionDep, ctx: ContextDep, page: PaginationDep
) -> DeliveryPage:
    """Each mail about the receipt, newest first (as `GET /invoices/{id}/deliveries`)."""
    await receipts.get(session, receipt_id)
    return await document_mail.deliveries(session, ctx, "receipt_id", receipt_id, limit=page.limit, cursor=page.cursor)
