"""GET /stock/alerts: the open low-stock alerts."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from app.api.deps import CurrentUser, PaginationDep, SessionDep
from app.repositories.catalog.stock_alerts import AlertFilters, StockAlertRepository
from app.schemas.catalog.stock_transfers import AlertSort, StockAlertRead
from app.schemas.common import Page, problem_responses

router = APIRouter(prefix="/stock", tags=["stock"], responses=problem_responses(401, 422))


@router.get("/alerts", response_model=Page[StockAlertRead], responses=problem_responses(400))
async def list_alerts(
    _: CurrentUser,
    session: SessionDep,
    page: PaginationDep,
    company_id: uuid.UUID | None = None,
    product_id: uuid.UUID | None = None,
    sort: Annotated[AlertSort, Query(description="By when the alert opened (oldest first by default).")] = "opened_at",
) -> Page[StockAlertRead]:
    """The open low-stock alerts: products whose available quantity at a company went to or below
    their reorder level and has not come back above it (one alert per crossing; archived products
    are left out). Owners and admins also get them mailed once a day."""
    rows, next_cursor = await StockAlertRepository(session).open_page(
        AlertFilters(company_id, product_id), limit=page.limit, cursor=page.cursor, sort=sort
    )
    items = [
        StockAlertRead(
            id=row[0].id,
            product_id=row[0].product_id,
            product_name=row.product_name,
            sku=row.sku,
            unit=row.unit,
            company_id=row[0].company_id,
            company_name=row.trade_name or row.legal_name,
            company_gstin=row.gstin,
            on_hand=row.on_hand,
            available=row.available,
            available_at_open=row[0].available_at_open,
            reorder_level=row[0].reorder_level,
            reorder_quantity=row.reorder_quantity,
            opened_at=row[0].opened_at,
        )
        for row in rows
    ]
    return Page[StockAlertRead](items=items, next_cursor=next_cursor)
