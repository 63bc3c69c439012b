import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, status

from app.api.deps import ContextDep, CurrentUser, ManagerUser, PaginationDep, SessionDep
from app.api.fields import Selection, field_selection, respond
from app.schemas.billing.business_fields import IsoDate
from app.schemas.billing.tax_rates import TaxRateCreate, TaxRateRead, TaxRateRevision, TaxRateUpdate
from app.schemas.common import Page, problem_responses
from app.services.billing import tax_rates

router = APIRouter(prefix="/tax-rates", tags=["tax rates"], responses=problem_responses(401, 422))
Fields = Annotated[Selection, Depends(field_selection(TaxRateRead))]
Sort = Literal["rate", "-rate", "effective_from", "-effective_from", "created_at", "-created_at"]


@router.get("", response_model=Page[TaxRateRead])
async def list_tax_rates(
    _: CurrentUser,
    session: SessionDep,
    page: PaginationDep,
    fields: Fields,
    as_of: Annotated[IsoDate | None, Query(description="Only the rates in force on this day.")] = None,
    sort: Annotated[Sort, Query()] = "rate",
) -> Any:
    rows, next_cursor = await tax_rates.list_page(session, limit=page.limit, cursor=page.cursor, sort=sort, as_of=as_of)
    result = Page[TaxRateRead](items=[TaxRateRead.model_validate(r) for r in rows], next_cursor=next_cursor)
    return respond(result, fields)


@router.get("/{tax_rate_id:uuid}", response_model=TaxRateRead, responses=problem_responses(404))
async def read_tax_rate(tax_rate_id: uuid.UUID, _: CurrentUser, session: SessionDep, fields: Fields) -> Any:
    return respond(TaxRateRead.model_validate(await tax_rates.get(session, tax_rate_id)), fields)


@router.post(
    "", status_code=status.HTTP_201_CREATED, response_model=TaxRateRead, responses=problem_responses(400, 403, 409)
)
async def create_tax_rate(body: TaxRateCreate, _: ManagerUser, session: SessionDep) -> TaxRateRead:
    """A new rate (the same rate may not be in force twice on any day)."""
    created = await tax_rates.create(session, **body.model_dump())
    return TaxRateRead.model_validate(created)


@router.patch("/{tax_rate_id:uuid}", response_model=TaxRateRead, responses=problem_responses(400, 403, 404, 409))
async def update_tax_rate(
    tax_rate_id: uuid.UUID, body: TaxRateUpdate, _: ManagerUser, session: SessionDep, ctx: ContextDep
) -> TaxRateRead:
    """Rename or close a rate. Rates are never deleted: documents keep the rate in force for them."""
    changes = body.model_dump(exclude_unset=True)
    updated = await tax_rates.update(session, ctx, tax_rate_id, changes=changes)
    return TaxRateRead.model_validate(updated)


@router.post(
    "/{tax_rate_id:uuid}/revisions",
    status_code=status.HTTP_201_CREATED,
    response_model=TaxRateRead,
    responses=problem_responses(400, 403, 404, 409),
)
async def revise_tax_rate(
    tax_rate_id: uuid.UUID, body: TaxRateRevision, _: ManagerUser, session: SessionDep, ctx: ContextDep
) -> TaxRateRead:
    """Change a rate from a date: a new row from `effective_from`; the old one closes the day before."""
    new = await tax_rates.revise(session, ctx, tax_rate_id, **body.model_dump())
    return TaxRateRead.model_validate(new)
