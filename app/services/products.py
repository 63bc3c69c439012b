"""Products: the catalogue's goods. Lookups every other part uses (invoices, sales, stock) and the
writes of /products (each audited in the same transaction)."""

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import NotFound
from app.domain.errors import RuleBroken
from app.domain.product_codes import normalize_barcode
from app.models.product import Product
from app.repositories.products import ProductRepository


def _not_found(detail: str = "Product not found.") -> NotFound:
    return NotFound(detail, code="product-not-found")


async def get(session: AsyncSession, product_id: uuid.UUID, *, for_update: bool = False) -> Product:
    product = await ProductRepository(session).get(product_id, for_update=for_update)
    if product is None:
        raise _not_found()
    return product


async def get_many(session: AsyncSession, ids: set[uuid.UUID]) -> dict[uuid.UUID, Product]:
    """Every product of `ids` (archived ones too: the caller decides), or 404 naming the missing."""
    found = await ProductRepository(session).get_many(ids)
    missing = sorted(str(id_) for id_ in ids - set(found))
    if missing:
        raise NotFound(f"Product not found: {', '.join(missing)}.", code="product-not-found", missing=missing)
    return found


def barcode_spellings(barcode: str) -> list[str]:
    """The stored form of `barcode` (UPC-A as EAN-13); empty when it is no valid barcode."""
    try:
        return [normalize_barcode(barcode)]
    except RuleBroken:
        return []


async def by_barcode(session: AsyncSession, barcode: str) -> Product:
    """The product with this barcode (as scanned: a UPC-A read as 12 or 13 digits is found either
    way), archived or not; 404 when none (an invalid barcode cannot be any product's)."""
    spellings = barcode_spellings(barcode)
    product = await ProductRepository(session).by_barcode(spellings) if spellings else None
    if product is None:
        raise _not_found("No product has this barcode.")
    return product
