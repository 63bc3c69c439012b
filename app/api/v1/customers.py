import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from app.api.deps import CurrentUser, PaginationDep, SessionDep, WriterUser
from app.api.fields import Selection, field_selection, respond
from app.repositories.customers import CustomerFilters, CustomerRepository
from app.schemas.common import NO_CONTROL_CHARS, Page, problem_responses
from app.schemas.customers import (
    CustomerCreate,
    CustomerDeletion,
    CustomerRead,
    CustomerSort,
    CustomerUpdate,
    to_columns,
)
from app.services import customers

router = APIRouter(prefix="/customers", tags=["customers"], responses=problem_responses(401, 422))
Fields = Annotated[Selection, Depends(field_selection(CustomerRead))]
# 400: a rule the schema cannot state (GSTIN check character, PAN vs GSTIN, billing state);
# 404: the customer, or a client type / account manager named in the body, does not exist here.
WRITE_ERRORS = problem_responses(400, 403, 404, 409)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=CustomerRead, responses=WRITE_ERRORS)
async def create_customer(body: CustomerCreate, _: WriterUser, session: SessionDep) -> CustomerRead:
    return CustomerRead.of(await customers.create(session, values=to_columns(body)))


@router.get("", response_model=Page[CustomerRead], responses=problem_responses(400))
async def list_customers(
    _: CurrentUser,
    session: SessionDep,
    fields: Fields,
    page: PaginationDep,
    q: Annotated[
        str | None,
        Query(
            min_length=1, max_length=100, pattern=NO_CONTROL_CHARS, description="Part of name, GSTIN, email or phone."
        ),
    ] = None,
    client_type_id: uuid.UUID | None = None,
    account_manager_id: uuid.UUID | None = None,
    has_balance: Annotated[bool | None, Query(description="true: balance ≠ 0; false: balance = 0.")] = None,
    archived: Annotated[bool, Query(description="true lists archived customers instead of active ones.")] = False,
    sort: Annotated[CustomerSort, Query()] = "name",
):
    filters = CustomerFilters(q, client_type_id, account_manager_id, has_balance, archived)
    rows, next_cursor = await CustomerRepository(session).list_page(
        filters, limit=page.limit, cursor=page.cursor, sort=sort
    )
    return respond(Page[CustomerRead](items=[CustomerRead.of(r) for r in rows], next_cursor=next_cursor), fields)


@router.get("/{customer_id:uuid}", response_model=CustomerRead, responses=problem_responses(404))
async def read_customer(customer_id: uuid.UUID, _: CurrentUser, session: SessionDep, fields: Fields):
    return respond(CustomerRead.of(await customers.get(session, customer_id)), fields)


@router.patch("/{customer_id:uuid}", response_model=CustomerRead, responses=WRITE_ERRORS)
async def update_customer(
    customer_id: uuid.UUID, body: CustomerUpdate, _: WriterUser, session: SessionDep
) -> CustomerRead:
    changes = to_columns(body)
    return CustomerRead.of(await customers.update(session, customer_id, changes=changes))


@router.delete("/{customer_id:uuid}", response_model=CustomerDeletion, responses=problem_responses(403, 404, 409))
async def delete_customer(customer_id: uuid.UUID, _: WriterUser, session: SessionDep) -> CustomerDeletion:
    """Deleted if nothing refers to the customer; archived (kept, hidden from the default list)
    if documents do. `outcome` says which."""
    outcome, customer = await customers.remove(session, customer_id)
    return CustomerDeletion(outcome=outcome, item=CustomerRead.of(customer))
