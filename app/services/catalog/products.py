"""Products: the catalogue's goods. Lookups every other part uses (invoices, sales, stock) and the
writes of /products (each audited in the same transaction).

Rules of a product record: the unit is a GST UQC and its reorder level/quantity carry no more
decimals than the unit allows; the barcode passes its check digit (a UPC-A is kept in its EAN-13
form); the GST rate sent is one of the tenant's rates in force today (a rate closed later does not
invalidate the product: it is checked when sent); with an MRP, the price with tax may not exceed
it; the SKU is unique case-insensitively and the barcode unique, per tenant (409). The unit cannot
change once an invoice line or a stock movement uses the product (quantities recorded in it would
change meaning). Archived products do not count against the plan's product limit; restoring one
takes a place again (402 when the plan has none left).
"""

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.context import Context
from app.core.errors import Conflict, NotFound, RuleViolation
from app.domain import uqc
from app.domain.errors import DomainError, RuleBroken
from app.domain.product_codes import check_hsn, check_mrp, normalize_barcode
from app.models.catalog.product import Product
from app.repositories.catalog.products import ProductFilters, ProductRepository
from app.services.billing import tax_rates
from app.services.billing.rules import as_problem
from app.services.catalog import product_categories, stock
from app.services.platform import audit, entitlements

FIELDS = [
    "name",
    "sku",
    "barcode",
    "description",
    "category_id",
    "hsn_code",
    "unit",
    "sale_price",
    "price_includes_tax",
    "mrp",
    "purchase_cost",
    "gst_rate",
    "track_stock",
    "reorder_level",
    "reorder_quantity",
]
AUDITED = [*FIELDS, "is_archived"]
DEFAULTS: dict[str, Any] = dict.fromkeys(FIELDS) | {"price_includes_tax": False, "track_stock": True}
PRICE_FIELDS = {"sale_price", "price_includes_tax", "mrp", "gst_rate"}
QUANTITY_FIELDS = ("reorder_level", "reorder_quantity")


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


def barcode_spellings(barcode: str) -> tuple[str, ...]:
    """The stored form of `barcode` (UPC-A as EAN-13); empty when it is no valid barcode."""
    try:
        return (normalize_barcode(barcode),)
    except RuleBroken:
        return ()


async def by_barcode(session: AsyncSession, barcode: str) -> Product:
    """The product with this barcode (as scanned: a UPC-A read as 12 or 13 digits is found either
    way), archived or not; 404 when none (an invalid barcode cannot be any product's)."""
    spellings = barcode_spellings(barcode)
    product = await ProductRepository(session).by_barcode(spellings) if spellings else None
    if product is None:
        raise _not_found("No product has this barcode.")
    return product


def filters(
    *,
    q: str | None,
    category_id: uuid.UUID | None,
    low: bool | None,
    archived: bool,
    ids: list[uuid.UUID] | None,
) -> ProductFilters:
    """The list's filters; `q` is also read as a barcode (exact match) when it is one."""
    q = q.strip() if q else None
    return ProductFilters(q or None, barcode_spellings(q) if q else (), category_id, low, archived, ids)


async def list_page(
    session: AsyncSession, f: ProductFilters, *, limit: int, cursor: str | None, sort: str
) -> tuple[list[Product], str | None]:
    return await ProductRepository(session).list_page(f, limit=limit, cursor=cursor, sort=sort)


async def create(session: AsyncSession, ctx: Context, *, values: dict[str, Any]) -> Product:
    checked = await _checked(session, ctx, DEFAULTS | values, sent=set(values))
    await entitlements.require(session, ctx, entitlements.Limit.products)
    product = Product(**checked)
    await _save(session, product, new=True)
    await _audit(session, "product.created", product, before=None)
    return product


async def update(session: AsyncSession, ctx: Context, product_id: uuid.UUID, *, changes: dict[str, Any]) -> Product:
    """Change the fields sent; `is_archived` archives or restores (restoring counts against the plan)."""
    repo = ProductRepository(session)
    product = await get(session, product_id, for_update=True)
    before = audit.snapshot(product, AUDITED)
    changes = dict(changes)
    archived = changes.pop("is_archived", None)
    if "unit" in changes and changes["unit"] != product.unit and await repo.is_used(product.id):
        raise Conflict(
            "The unit cannot change: invoices or stock movements already count this product in "
            f"{product.unit}. Create a new product for the new unit.",
            code="product-in-use",
        )
    current = {name: getattr(product, name) for name in FIELDS}
    checked = await _checked(session, ctx, current | changes, sent=set(changes))
    stocked = (product.reorder_level, product.track_stock)
    if archived is False and product.is_archived:
        await entitlements.require(session, ctx, entitlements.Limit.products)
    for name in changes:
        setattr(product, name, checked[name])
    if archived is not None:
        product.is_archived = archived
    await _save(session, product, new=False)
    if (product.reorder_level, product.track_stock) != stocked:
        await stock.refresh_alerts(session, ctx, product.id)  # open or close its low-stock alerts
    action = "product.updated"
    if archived is not None and archived != before["is_archived"]:
        action = "product.archived" if archived else "product.restored"
    await _audit(session, action, product, before=before)
    return product


async def remove(session: AsyncSession, product_id: uuid.UUID) -> Product:
    """Delete a product nothing uses; one that documents or stock name is archived instead (409)."""
    repo = ProductRepository(session)
    product = await get(session, product_id, for_update=True)
    before = audit.snapshot(product, AUDITED)
    if await repo.is_used(product.id) or not await repo.try_delete(product):
        raise Conflict(
            "Invoices or stock refer to this product, so it cannot be deleted; archive it instead "
            '(PATCH {"is_archived": true}).',
            code="product-in-use",
        )
    await audit.record(session, action="product.deleted", entity_type="product", entity_id=product.id, before=before)
    return product


async def _save(session: AsyncSession, product: Product, *, new: bool) -> None:
    taken = await ProductRepository(session).save(product, new=new)
    if taken == "sku":
        raise Conflict(
            "Another product has this SKU (SKUs are compared without case).",
            code="duplicate-sku",
            errors=[{"loc": ["body", "sku"], "msg": "SKU taken", "type": "duplicate-sku"}],
        )
    if taken == "barcode":
        raise Conflict(
            "Another product has this barcode.",
            code="duplicate-barcode",
            errors=[{"loc": ["body", "barcode"], "msg": "barcode taken", "type": "duplicate-barcode"}],
        )


async def _checked(session: AsyncSession, ctx: Context, values: dict[str, Any], *, sent: set[str]) -> dict[str, Any]:
    """`values` (the whole record after the change) checked and normalized, or an error."""
    values = dict(values)
    try:
        values["unit"] = uqc.unit(values["unit"]).code
        if "hsn_code" in sent:
            check_hsn(values["hsn_code"])
        if "barcode" in sent and values["barcode"] is not None:
            values["barcode"] = normalize_barcode(values["barcode"])
        if sent & {"unit", *QUANTITY_FIELDS}:
            for field in QUANTITY_FIELDS:
                if values[field] is not None:
                    uqc.check_precision(values["unit"], values[field], field=field)
        if sent & PRICE_FIELDS:
            check_mrp(
                values["sale_price"],
                includes_tax=values["price_includes_tax"],
                gst_rate=values["gst_rate"],
                mrp=values["mrp"],
            )
    except DomainError as exc:
        raise as_problem(exc) from exc
    if "gst_rate" in sent and not await tax_rates.is_in_force(session, values["gst_rate"], ctx.today):
        raise RuleViolation(
            "gst_rate",
            f"{values['gst_rate']}% is not one of your tax rates in force today.",
            code="gst-rate-not-in-force",
        )
    if "category_id" in sent and values["category_id"] is not None:
        await product_categories.referenced(session, values["category_id"])
    return values


async def _audit(session: AsyncSession, action: str, product: Product, *, before: dict[str, Any] | None) -> None:
    after = audit.snapshot(product, AUDITED)
    await audit.record(session, action=action, entity_type="product", entity_id=product.id, before=before, after=after)
