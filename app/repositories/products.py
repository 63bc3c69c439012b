"""Products and their categories: every query of the catalogue."""

import uuid
from collections.abc import Collection

from sqlalchemy import select

from app.models.product import Product
from app.repositories.base import TenantRepository


class ProductRepository(TenantRepository[Product]):
    model = Product

    async def get_many(self, ids: Collection[uuid.UUID]) -> dict[uuid.UUID, Product]:
        """The bound tenant's products among `ids` (missing ones are absent from the answer)."""
        if not ids:
            return {}
        stmt = select(Product).where(Product.id.in_(list(ids)))
        return {product.id: product for product in (await self.session.execute(stmt)).scalars()}

    async def by_barcode(self, barcodes: Collection[str]) -> Product | None:
        """The product carrying one of `barcodes` (the spellings of one code), archived or not."""
        stmt = select(Product).where(Product.barcode.in_(list(barcodes))).limit(1)
        return (await self.session.execute(stmt)).scalar_one_or_none()
