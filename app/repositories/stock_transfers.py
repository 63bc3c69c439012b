"""Stock documents of kind `transfer` (app.services.stock_transfers)."""

import uuid

from sqlalchemy import exists, select

from app.models.stock import StockDocument
from app.repositories.base import TenantRepository


class StockTransferRepository(TenantRepository[StockDocument]):
    model = StockDocument

    async def invoices_a_transfer(self, invoice_id: uuid.UUID) -> bool:
        """Whether `invoice_id` is the tax invoice of a stock transfer."""
        stmt = select(exists().where(StockDocument.kind == "transfer", StockDocument.invoice_id == invoice_id))
        return bool((await self.session.execute(stmt)).scalar_one())
