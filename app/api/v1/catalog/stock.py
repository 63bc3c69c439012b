"""/stock (levels), /stock/receipts, /stock/adjustments, /stock/documents, /products/{id}/movements
and /inventory-settings: the stock ledger (issue 11 §2). Receipts and adjustments are written by
owners, admins and accountants; the settings by owners and admins; every member reads."""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, status

from app.api.deps import ContextDep, CurrentUser, ManagerUser, PaginationDep, SessionDep, WriterUser
from app.api.fields import Selection, field_selection, respond
from app.api.idempotency import IdempotentDep
from app.repositories.catalog.stock import (
    DocumentFilters,
    LevelFilters,
    MovementFilters,
    StockLevelListRepository,
    StockMovementRepository,
)
from app.schemas.billing.business_fields import IsoDate
from app.schemas.catalog.stock import (
    DocumentKind,
    InventorySettingsRead,
    InventorySettingsUpdate,
    MovementKind,
    MovementRead,
    StockAdjustmentCreate,
    StockDocumentRead,
    StockLevelRead,
    StockReceiptCreate,
)
from app.schemas.common import QUERY_TEXT, Page, problem_responses
from app.services.catalog import inventory_settings, products, stock_documents

router = APIRouter(prefix="/stock", tags=["stock"], responses=problem_responses(401, 422))
movements_router = APIRouter(prefix="/products", tags=["stock"], responses=problem_responses(401, 422))
settings_router = APIRouter(prefix="/inventory-settings", tags=["stock"], responses=problem_responses(401, 422))
LevelFields = Annotated[Selection, Depends(field_selection(StockLevelRead))]
DocumentFields = Annotated[Selection, Depends(field_selection(StockDocumentRead))]
MovementFields = Annotated[Selection, Depends(field_selection(MovementRead))]
# 400: a date in the future, an invalid supplier GSTIN, a product that does not track stock;
# 404: the company or a product; 409: not enough stock (adjustments), an Idempotency-Key in flight;
# 422: a quantity with more decimals than the product's unit allows.
WRITE_ERRORS = problem_responses(400, 403, 404, 409)


@settings_router.get("", response_model=InventorySettingsRead)
async def read_inventory_settings(
    _: CurrentUser, session: SessionDep, fields: Annotated[Selection, Depends(field_selection(InventorySettingsRead))]
) -> Any:
    """Whether stock may go below zero (off by default)."""
    return respond(InventorySettingsRead.model_validate(await inventory_settings.get(session)), fields)


@settings_router.put("", response_model=InventorySettingsRead, responses=problem_responses(403, 409))
async def update_inventory_settings(
    body: InventorySettingsUpdate, _: ManagerUser, session: SessionDep
) -> InventorySettingsRead:
    """Owners and admins only. `allow_negative_stock: true` lets sales go ahead without stock
    (for shops that sell before entering purchases); turning it off while some level is below
    zero (or holds more reserved than on hand) is 409 `negative-stock-exists`, naming them."""
    updated = await inventory_settings.update(session, allow_negative_stock=body.allow_negative_stock)
    return InventorySettingsRead.model_validate(updated)


@router.get("", response_model=Page[StockLevelRead], responses=problem_responses(400))
async def list_stock(
    _: CurrentUser,
    session: SessionDep,
    fields: LevelFields,
    page: PaginationDep,
    company_id: uuid.UUID | None = None,
    product_id: uuid.UUID | None = None,
    category_id: Annotated[uuid.UUID | None, Query(description="The category or any below it.")] = None,
    low: Annotated[bool | None, Query(description="true: available at or below the reorder level.")] = None,
    q: Annotated[
        str | None, Query(min_length=1, max_length=100, pattern=QUERY_TEXT, description="Start of name or SKU.")
    ] = None,
):
    """Stock levels, one per (product, company) that ever had stock, by product name."""
    filters = LevelFilters(company_id, product_id, category_id, low, q)
    rows, next_cursor = await StockLevelListRepository(session).list_page(filters, limit=page.limit, cursor=page.cursor)
    items = [StockLevelRead.of(level, product) for level, product in rows]
    return respond(Page[StockLevelRead](items=items, next_cursor=next_cursor), fields)


@router.post("/receipts", status_code=status.HTTP_201_CREATED, response_model=StockDocumentRead, responses=WRITE_ERRORS)
async def create_stock_receipt(
    body: StockReceiptCreate, _: WriterUser, session: SessionDep, ctx: ContextDep, idempotent: IdempotentDep
) -> Any:
    """Goods in from a supplier (several lines, optional cost and the supplier's bill). A line's
    unit cost becomes the product's purchase cost when the receipt is dated today. Supports
    `Idempotency-Key`."""
    return await idempotent(201, lambda: stock_documents.receive(session, ctx, body=body))


@router.post(
    "/adjustments", status_code=status.HTTP_201_CREATED, response_model=StockDocumentRead, responses=WRITE_ERRORS
)
async def create_stock_adjustment(
    body: StockAdjustmentCreate, _: WriterUser, session: SessionDep, ctx: ContextDep, idempotent: IdempotentDep
) -> Any:
    """A count correction with its reason: per product the physical count (`counted`) or a signed
    `change`. A decrease beyond what is available is 409 `insufficient-stock` (unless negative
    stock is allowed), and then nothing is written. Supports `Idempotency-Key`."""
    return await idempotent(201, lambda: stock_documents.adjust(session, ctx, body=body))


@router.get("/documents", response_model=Page[StockDocumentRead], responses=problem_responses(400))
async def list_stock_documents(
    _: CurrentUser,
    session: SessionDep,
    fields: DocumentFields,
    page: PaginationDep,
    kind: DocumentKind | None = None,
    company_id: Annotated[uuid.UUID | None, Query(description="From or to this company.")] = None,
    date_from: Annotated[IsoDate | None, Query(alias="from", description="First document date.")] = None,
    date_to: Annotated[IsoDate | None, Query(alias="to", description="Last document date.")] = None,
):
    """Receipts, adjustments and transfers, newest first (lines on the single read)."""
    stock_documents.check_range(date_from, date_to)
    filters = DocumentFilters(kind, company_id, date_from, date_to)
    rows, next_cursor = await stock_documents.page(session, filters, limit=page.limit, cursor=page.cursor)
    items = [StockDocumentRead.of(document) for document in rows]
    return respond(Page[StockDocumentRead](items=items, next_cursor=next_cursor), fields)


@router.get("/documents/{document_id:uuid}", response_model=StockDocumentRead, responses=problem_responses(404))
async def read_stock_document(document_id: uuid.UUID, _: CurrentUser, session: SessionDep, fields: DocumentFields):
    return respond(await stock_documents.read(session, document_id), fields)


@movements_router.get(
    "/{product_id:uuid}/movements", response_model=Page[MovementRead], responses=problem_responses(400, 404)
)
async def list_product_movements(
    product_id: uuid.UUID,
    _: CurrentUser,
    session: SessionDep,
    fields: MovementFields,
    page: PaginationDep,
    company_id: uuid.UUID | None = None,
    kind: MovementKind | None = None,
    date_from: Annotated[IsoDate | None, Query(alias="from", description="First day (India).")] = None,
    date_to: Annotated[IsoDate | None, Query(alias="to", description="Last day (India).")] = None,
):
    """The product's stock movements, newest first, each with the levels it left."""
    product = await products.get(session, product_id)
    stock_documents.check_range(date_from, date_to)
    start, end = stock_documents.day_bounds(date_from, date_to)
    filters = MovementFilters(product.id, company_id, kind, start, end)
    rows, next_cursor = await StockMovementRepository(session).list_page(filters, limit=page.limit, cursor=page.cursor)
    return respond(Page[MovementRead](items=[MovementRead.of(m) for m in rows], next_cursor=next_cursor), fields)
