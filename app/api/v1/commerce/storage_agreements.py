"""/storage-agreements: a customer's goods stored by a company for a monthly rent (issue 12 §4).
Owners, admins and accountants write; every member reads. The rent itself is invoiced by the
scheduled job (app.services.commerce.storage_rent), not by a route."""

import uuid
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, status

from app.api.deps import ContextDep, CurrentUser, PaginationDep, SessionDep, WriterUser
from app.api.fields import Selection, field_selection, respond
from app.api.idempotency import IdempotentDep
from app.repositories.commerce.storage import (
    AgreementFilters,
    StorageAgreementRepository,
    StorageMovementRepository,
    StorageRentPeriodRepository,
)
from app.schemas.commerce.storage import (
    AgreementStatus,
    GoodsReceiptCreate,
    GoodsReleaseCreate,
    HoldingRead,
    HoldingsRead,
    RentPeriodRead,
    RentPeriodsRead,
    StorageAgreementCreate,
    StorageAgreementEnd,
    StorageAgreementRead,
    StorageMovementRead,
    StorageMovementsRead,
)
from app.schemas.common import Page, problem_responses
from app.services.commerce import storage_agreements

router = APIRouter(prefix="/storage-agreements", tags=["storage"], responses=problem_responses(401, 422))
Fields = Annotated[Selection, Depends(field_selection(StorageAgreementRead))]
MovementFields = Annotated[Selection, Depends(field_selection(StorageMovementRead))]
AGREEMENT = "/{storage_agreement_id:uuid}"
# 400: a date outside what the agreement allows, a quantity finer than the product's unit, a first
# receipt without a value; 404: the agreement, its company, customer or a product; 409: see each route.
WRITE_ERRORS = problem_responses(400, 403, 404, 409)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=StorageAgreementRead, responses=WRITE_ERRORS)
async def create_storage_agreement(
    body: StorageAgreementCreate, _: WriterUser, session: SessionDep, ctx: ContextDep
) -> StorageAgreementRead:
    """Storage of a customer's goods by a company, rent billed each period in arrears on the billing
    day (one tax invoice per agreement and period, SAC 996729, GST at `gst_rate`: 18 %, or 0 for exempt
    storage on a bill of supply). A company that charges GST needs that rate among its tax rates in force
    (409 `storage-gst-rate-missing`)."""
    agreement = await storage_agreements.create(session, ctx, body=body)
    return StorageAgreementRead.model_validate(agreement)


@router.get("", response_model=Page[StorageAgreementRead], responses=problem_responses(400))
async def list_storage_agreements(
    _: CurrentUser,
    session: SessionDep,
    fields: Fields,
    page: PaginationDep,
    customer_id: uuid.UUID | None = None,
    company_id: uuid.UUID | None = None,
    status: Annotated[AgreementStatus | None, Query()] = None,
) -> Any:
    """Newest first."""
    rows, next_cursor = await StorageAgreementRepository(session).list_page(
        AgreementFilters(customer_id, company_id, status), limit=page.limit, cursor=page.cursor
    )
    items = [StorageAgreementRead.model_validate(row) for row in rows]
    return respond(Page[StorageAgreementRead](items=items, next_cursor=next_cursor), fields)


@router.get(AGREEMENT, response_model=StorageAgreementRead, responses=problem_responses(404))
async def read_storage_agreement(
    storage_agreement_id: uuid.UUID, _: CurrentUser, session: SessionDep, fields: Fields
) -> Any:
    agreement = await storage_agreements.get(session, storage_agreement_id)
    return respond(StorageAgreementRead.model_validate(agreement), fields)


@router.post(AGREEMENT + "/end", response_model=StorageAgreementRead, responses=WRITE_ERRORS)
async def end_storage_agreement(
    storage_agreement_id: uuid.UUID, body: StorageAgreementEnd, _: WriterUser, session: SessionDep, ctx: ContextDep
) -> StorageAgreementRead:
    """No more goods come in (409 `storage-goods-held` while any is held; `storage-agreement-ended`
    if ended already). The periods up to the end date are still billed on their billing days."""
    agreement = await storage_agreements.end(session, ctx, storage_agreement_id, body=body)
    return StorageAgreementRead.model_validate(agreement)


@router.post(
    AGREEMENT + "/receipts",
    status_code=status.HTTP_201_CREATED,
    response_model=StorageMovementsRead,
    responses=WRITE_ERRORS,
)
async def receive_goods(
    storage_agreement_id: uuid.UUID,
    body: GoodsReceiptCreate,
    _: WriterUser,
    session: SessionDep,
    ctx: ContextDep,
    idempotent: IdempotentDep,
) -> Any:
    """The customer's goods into storage (a ledger of their own: not the shop's stock). 409:
    `storage-agreement-ended`, `storage-period-billed`, `storage-movement-out-of-order`,
    `storage-value-mismatch`, `storage-value-too-large` (one product's goods worth ₹10^13 or more),
    `storage-too-many-products`, `product-archived`. Supports `Idempotency-Key`."""

    async def operation() -> StorageMovementsRead:
        movements = await storage_agreements.receive(session, ctx, storage_agreement_id, body=body)
        return StorageMovementsRead(movements=[StorageMovementRead.of(m) for m in movements])

    return await idempotent(201, operation)


@router.post(
    AGREEMENT + "/releases",
    status_code=status.HTTP_201_CREATED,
    response_model=StorageMovementsRead,
    responses=WRITE_ERRORS,
)
async def release_goods(
    storage_agreement_id: uuid.UUID,
    body: GoodsReleaseCreate,
    _: WriterUser,
    session: SessionDep,
    ctx: ContextDep,
    idempotent: IdempotentDep,
) -> Any:
    """The customer's goods handed back, all lines or none: more than held is 409
    `storage-insufficient-goods` naming the lines (also `storage-period-billed`,
    `storage-movement-out-of-order`). Supports `Idempotency-Key`."""

    async def operation() -> StorageMovementsRead:
        movements = await storage_agreements.release(session, ctx, storage_agreement_id, body=body)
        return StorageMovementsRead(movements=[StorageMovementRead.of(m) for m in movements])

    return await idempotent(201, operation)


@router.get(AGREEMENT + "/holdings", response_model=HoldingsRead, responses=problem_responses(404))
async def list_holdings(storage_agreement_id: uuid.UUID, _: CurrentUser, session: SessionDep) -> HoldingsRead:
    """What the agreement holds now, per product, with the declared value."""
    items = [HoldingRead.of(h, p) for h, p in await storage_agreements.holdings(session, storage_agreement_id)]
    return HoldingsRead(items=items, total_value=sum((i.value for i in items), Decimal("0.00")))


@router.get(AGREEMENT + "/movements", response_model=Page[StorageMovementRead], responses=problem_responses(400, 404))
async def list_storage_movements(
    storage_agreement_id: uuid.UUID,
    _: CurrentUser,
    session: SessionDep,
    fields: MovementFields,
    page: PaginationDep,
    product_id: uuid.UUID | None = None,
) -> Any:
    """Goods received and released under the agreement, newest first."""
    await storage_agreements.get(session, storage_agreement_id)
    rows, next_cursor = await StorageMovementRepository(session).list_page(
        storage_agreement_id, product_id, limit=page.limit, cursor=page.cursor
    )
    items = [StorageMovementRead.of(row) for row in rows]
    return respond(Page[StorageMovementRead](items=items, next_cursor=next_cursor), fields)


@router.get(AGREEMENT + "/periods", response_model=RentPeriodsRead, responses=problem_responses(404))
async def list_rent_periods(storage_agreement_id: uuid.UUID, _: CurrentUser, session: SessionDep) -> RentPeriodsRead:
    """The periods billed, newest first, each with its invoice (none when nothing was stored)."""
    await storage_agreements.get(session, storage_agreement_id)
    rows = await StorageRentPeriodRepository(session).of_agreement(storage_agreement_id)
    return RentPeriodsRead(items=[RentPeriodRead.model_validate(row) for row in rows])
