"""Open low-stock alerts as people read them: each with its product, its company and the level now.
Opened and closed by the stock ledger (app.services.catalog.stock); read here for GET /stock/alerts and the
daily digest (app.services.catalog.stock_digest)."""

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, Select, and_, func, select

from app.models.billing.business import Company
from app.models.catalog.product import Product
from app.models.catalog.stock import StockAlert, StockLevel
from app.repositories.base import SortKey, TenantRepository

SORTS = {
    "opened_at": SortKey(StockAlert.opened_at),
    "-opened_at": SortKey(StockAlert.opened_at, descending=True),
}
# What a listed alert carries beside the alert itself.
COLUMNS = (
    Product.name.label("product_name"),
    Product.sku,
    Product.unit,
    Product.reorder_quantity,
    Company.legal_name,
    Company.trade_name,
    Company.gstin,
    StockLevel.on_hand,
    StockLevel.available,
)


@dataclass(frozen=True)
class AlertFilters:
    company_id: uuid.UUID | None = None
    product_id: uuid.UUID | None = None


class StockAlertRepository(TenantRepository[StockAlert]):
    """Open alerts of products that are not archived (an archived product is not sold or bought
    any more: its alert is noise), joined to their product, company and level in one statement."""

    model = StockAlert

    def _open(self) -> Select[*tuple[Any, ...]]:
        return (
            select(StockAlert, *COLUMNS)
            .join(Product, and_(Product.tenant_id == StockAlert.tenant_id, Product.id == StockAlert.product_id))
            .join(Company, and_(Company.tenant_id == StockAlert.tenant_id, Company.id == StockAlert.company_id))
            .join(
                StockLevel,
                and_(
                    StockLevel.tenant_id == StockAlert.tenant_id,
                    StockLevel.product_id == StockAlert.product_id,
                    StockLevel.company_id == StockAlert.company_id,
                ),
            )
            .where(StockAlert.closed_at.is_(None), Product.is_archived.is_(False))
        )

    async def open_page(
        self, filters: AlertFilters, *, limit: int, cursor: str | None, sort: str
    ) -> tuple[list[Row[Any]], str | None]:
        """A page of rows (alert, product_name, sku, unit, reorder_quantity, legal_name, trade_name,
        gstin, on_hand, available)."""
        stmt = self._open()
        if filters.company_id is not None:
            stmt = stmt.where(StockAlert.company_id == filters.company_id)
        if filters.product_id is not None:
            stmt = stmt.where(StockAlert.product_id == filters.product_id)
        rows, next_cursor = await self.page(stmt, limit=limit, cursor=cursor, sort=SORTS[sort])
        return list(rows), next_cursor

    async def open_for_digest(self, *, limit: int) -> list[Row[Any]]:
        """Up to `limit` open alerts, by company, then product name (what a digest lists)."""
        stmt = self._open().order_by(Company.legal_name, Company.id, Product.name_lower, StockAlert.id).limit(limit)
        return list((await self.session.execute(stmt)).all())

    async def count_open(self) -> int:
        stmt = self._open().with_only_columns(func.count(), maintain_column_froms=True)
        return int((await self.session.execute(stmt)).scalar_one())
