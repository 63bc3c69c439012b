import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, status

from app.api.batch import id_list
from app.api.deps import ContextDep, CurrentUser, PaginationDep, SessionDep, WriterUser
from app.api.fields import Selection, field_selection, respond
from app.api.idempotency import IdempotentDep
from app.models.billing.customer import Customer
from app.repositories.billing.customers import CustomerFilters, CustomerRepository
from app.repositories.billing.display_names import DisplayNameRepository
from app.schemas.billing.business_fields import IsoDate
from app.schemas.billing.customers import (
    CustomerCreate,
    CustomerDeletion,
    CustomerRead,
    CustomerSort,
    CustomerUpdate,
    to_columns,
)
from app.schemas.billing.ledger import LedgerRead
from app.schemas.common import QUERY_TEXT, Page, problem_responses
from app.schemas.documents.document_mail import DeliveryPage, DeliveryRead, StatementSendRequest
from app.services.billing import customers
from app.services.billing import ledger as ledger_service
from app.services.documents import document_mail

router = APIRouter(prefix="/customers", tags=["customers"], responses=problem_responses(401, 422))
Fields = Annotated[Selection, Depends(field_selection(CustomerRead))]
# 400: a rule the schema cannot state (GSTIN check character, PAN vs GSTIN, billing state);
# 404: the customer, or a client type / account manager named in the body, does not exist here;
# 409: a company's walk-in customer (counter sales) cannot be edited or removed.
WRITE_ERRORS = problem_responses(400, 403, 404, 409)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=CustomerRead, responses=WRITE_ERRORS)
async def create_customer(body: CustomerCreate, _: WriterUser, session: SessionDep, ctx: ContextDep) -> CustomerRead:
    return await _read(session, await customers.create(session, ctx, values=to_columns(body)))


async def _read(session: SessionDep, customer: Customer) -> CustomerRead:
    refs = await DisplayNameRepository(session).customer_refs(customer.client_type_id, customer.account_manager_id)
    return CustomerRead.of(customer, refs)


@router.get("", response_model=Page[CustomerRead], responses=problem_responses(400))
async def list_customers(
    _: CurrentUser,
    session: SessionDep,
    fields: Fields,
    page: PaginationDep,
    q: Annotated[
        str | None,
        Query(min_length=1, max_length=100, pattern=QUERY_TEXT, description="Part of name, GSTIN, email or phone."),
    ] = None,
    client_type_id: uuid.UUID | None = None,
    account_manager_id: uuid.UUID | None = None,
    has_balance: Annotated[bool | None, Query(description="true: balance ≠ 0; false: balance = 0.")] = None,
    archived: Annotated[bool, Query(description="true lists archived customers instead of active ones.")] = False,
    walk_in: Annotated[
        bool, Query(description="true lists the companies' walk-in customers (counter sales) instead of the others.")
    ] = False,
    ids: Annotated[list[uuid.UUID] | None, Depends(id_list)] = None,
    sort: Annotated[CustomerSort, Query()] = "name",
):
    """Customers, filtered, searched (`q`) or read in a batch (`ids`); `count=true` adds the total."""
    filters = CustomerFilters(q, client_type_id, account_manager_id, has_balance, archived, ids, walk_in)
    rows, next_cursor = await CustomerRepository(session).list_page(
        filters, limit=page.limit, cursor=page.cursor, sort=sort
    )
    items = [CustomerRead.of(customer, (client_type, manager)) for customer, client_type, manager in rows]
    return respond(Page[CustomerRead](items=items, next_cursor=next_cursor), fields)


@router.get("/{customer_id:uuid}", response_model=CustomerRead, responses=problem_responses(404))
async def read_customer(customer_id: uuid.UUID, _: CurrentUser, session: SessionDep, fields: Fields):
    return respond(await _read(session, await customers.get(session, customer_id)), fields)


@router.patch("/{customer_id:uuid}", response_model=CustomerRead, responses=WRITE_ERRORS)
async def update_customer(
    customer_id: uuid.UUID, body: CustomerUpdate, _: WriterUser, session: SessionDep, ctx: ContextDep
) -> CustomerRead:
    changes = to_columns(body)
    return await _read(session, await customers.update(session, ctx, customer_id, changes=changes))


@router.delete("/{customer_id:uuid}", response_model=CustomerDeletion, responses=problem_responses(403, 404, 409))
async def delete_customer(customer_id: uuid.UUID, _: WriterUser, session: SessionDep) -> CustomerDeletion:
    """Deleted if nothing refers to the customer; archived (kept, hidden from the default list)
    if documents do. `outcome` says which. A walk-in customer cannot be removed (409)."""
    outcome, customer = await customers.remove(session, customer_id)
    return CustomerDeletion(outcome=outcome, item=await _read(session, customer))


@router.get(
    "/{customer_id:uuid}/ledger",
    response_model=LedgerRead,
    response_model_by_alias=True,
    responses=problem_responses(400, 404),
)
async def customer_ledger(
    customer_id: uuid.UUID,
    _: CurrentUser,
    session: SessionDep,
    ctx: ContextDep,
    date_from: Annotated[
        IsoDate | None, Query(alias="from", description="First day; defaults to the start of the financial year.")
    ] = None,
    date_to: Annotated[IsoDate | None, Query(alias="to", description="Last day; defaults to today (India).")] = None,
    limit: Annotated[int, Query(ge=1, le=500, description="Entries per page (max 500).")] = 100,
    cursor: Annotated[
        str | None,
        Query(max_length=4096, pattern=r"^[A-Za-z0-9_-]+$", description="`next_cursor` of the previous page."),
    ] = None,
) -> LedgerRead:
    """The customer's account (udhaar book) from `from` to `to`: the opening balance at `from`,
    every movement in date order with its running balance, and the closing balance at `to`.

    Invoices (issued, any status but draft) are debits on their date; receipts (void ones too)
    and credit notes are credits on theirs; a void adds the opposite entry on the day it was voided
    (Asia/Kolkata), so what was printed for earlier days never changes.

    Pagination: a shop's range may hold thousands of entries, so entries come in pages of `limit`
    (default 100, max 500) ordered by (date, time recorded, document); pass `next_cursor` back as
    `cursor` for the next page. Each page's running balances continue from the previous page's
    (computed in SQL from everything before the page), and `opening_balance`/`closing_balance` are
    the range's, the same on every page. Any range within 1900-2999 is allowed: the response is bounded by
    `limit`; the SQL reads one customer's documents through indexes on (tenant_id, customer_id, date)."""
    start, end = ledger_service.report_range(date_from, date_to, today=ctx.today)
    return await ledger_service.ledger(session, customer_id, date_from=start, date_to=end, limit=limit, cursor=cursor)


# --- mail to the customer (issue 10 §2) -----------------------------------------------------------
# 400: a bad period; 404: no such customer (or company) here; 422 `no-recipient`;
# 429 `mail-rate-limited`.
SEND_ERRORS = problem_responses(400, 403, 404, 429)


@router.post(
    "/{customer_id:uuid}/statement/send",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=DeliveryRead,
    responses=SEND_ERRORS,
)
async def send_statement(
    customer_id: uuid.UUID,
    body: StatementSendRequest,
    _: WriterUser,
    session: SessionDep,
    ctx: ContextDep,
    idempotent: IdempotentDep,
) -> Any:
    """Email the customer's statement of account for `period` (`from` default: the start of the
    financial year; `to` default: today), its PDF attached (as `POST /invoices/{id}/send`).
    Supports `Idempotency-Key`."""

    async def send() -> DeliveryRead:
        row = await document_mail.send_statement(session, ctx, customer_id, body)
        return DeliveryRead.of(row, max_attempts=ctx.settings.mail_max_attempts)

    return await idempotent(202, send)


@router.get("/{customer_id:uuid}/statement/deliveries", response_model=DeliveryPage, responses=problem_responses(404))
async def statement_deliveries(
    customer_id: uuid.UUID, _: CurrentUser, session: SessionDep, ctx: ContextDep, page: PaginationDep
) -> DeliveryPage:
    """Each statement of account mailed to the customer, newest first (as `GET /invoices/{id}/deliveries`)."""
    await customers.get(session, customer_id)
    return await document_mail.deliveries(
        session, ctx, "customer_id", customer_id, limit=page.limit, cursor=page.cursor
    )
