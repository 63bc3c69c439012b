"""Products and their categories: every query of the catalogue.

Search (`q`) under row-level security: only leakproof operators become index conditions (migration
0013), so each arm is a range or an equality on a plain column of an index led by tenant_id: the
name's and the SKU's lower-cased prefix (`starts_with` on name_lower / sku_lower, text_pattern_ops)
and the barcode's exact value. All three are on the one table, so an OR of them is a BitmapOr of
three index ranges (tests/db/test_product_search_plan.py checks the plan as the application role)."""

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
    delete,
    exists,
    func,
    literal,
    not_,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql.dml import Delete

from app.models.billing.invoice import InvoiceLine
from app.models.catalog.product import Product, ProductCategory
from app.models.catalog.stock import StockLevel, StockMovement
from app.repositories.base import SortKey, TenantRepository, starts_with

UNIQUE_VIOLATION = "23505"
FOREIGN_KEY_VIOLATION = "23503"

PRODUCT_SORTS = {
    "name": SortKey(Product.name_lower),
    "-name": SortKey(Product.name_lower, descending=True),
    "sku": SortKey(Product.sku_lower),
    "-sku": SortKey(Product.sku_lower, descending=True),
    "created_at": SortKey(Product.created_at),
    "-created_at": SortKey(Product.created_at, descending=True),
    "sale_price": SortKey(Product.sale_price),
    "-sale_price": SortKey(Product.sale_price, descending=True),
}
CATEGORY_SORTS = {
    "name": SortKey(ProductCategory.name_lower),
    "-name": SortKey(ProductCategory.name_lower, descending=True),
    "created_at": SortKey(ProductCategory.created_at),
    "-created_at": SortKey(ProductCategory.created_at, descending=True),
}


def _sqlstate(exc: IntegrityError) -> str | None:
    return getattr(exc.orig, "sqlstate", None)


async def _delete_unless_referenced(session: AsyncSession, stmt: Delete, obj: object) -> bool:
    """Run the DELETE of `obj`'s row in a savepoint; False (nothing changed) if a row refers to it."""
    try:
        async with session.begin_nested():
            await session.execute(stmt.execution_options(synchronize_session=False))
    except IntegrityError as exc:
        if _sqlstate(exc) == FOREIGN_KEY_VIOLATION:
            return False
        raise
    session.expunge(obj)
    return True


def _constraint(exc: IntegrityError) -> str | None:
    """The name of the constraint or unique index PostgreSQL names in the error."""
    orig = exc.orig
    driver = getattr(orig, "__cause__", None) or orig
    name = getattr(driver, "constraint_name", None) or getattr(orig, "constraint_name", None)
    return name if isinstance(name, str) else None


@dataclass(frozen=True)
class ProductFilters:
    q: str | None = None
    barcodes: tuple[str, ...] = ()  # the stored spellings of `q` when it reads as a barcode
    category_id: uuid.UUID | None = None
    low: bool | None = None
    archived: bool = False
    ids: list[uuid.UUID] | None = None


def _subtree(tenant_id: uuid.UUID, root_id: uuid.UUID) -> Any:
    """A recursive CTE of (id, depth): `root_id` and every category below it (at most 3 levels)."""
    tree = (
        select(ProductCategory.id, ProductCategory.depth)
        .where(ProductCategory.id == root_id)
        .cte("subtree", recursive=True)
    )
    child = aliased(ProductCategory)
    return tree.union_all(
        select(child.id, child.depth).where(child.tenant_id == tenant_id, child.parent_id == tree.c.id)
    )


class ProductCategoryRepository(TenantRepository[ProductCategory]):
    model = ProductCategory

    async def lock_tree(self) -> None:
        """A transaction-scoped advisory lock on the bound tenant's category tree: writes to the
        tree queue, so two moves can never make a cycle or a 4th level between them."""
        key = f"{self.tenant_id}:product_categories"
        await self.session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": key})

    async def get_shared(self, id_: uuid.UUID) -> ProductCategory | None:
        """The category, locked against deletion until the transaction ends (a product is put in it)."""
        stmt = select(ProductCategory).where(ProductCategory.id == id_).with_for_update(key_share=True)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def subtree_ids(self, root_id: uuid.UUID) -> set[uuid.UUID]:
        tree = _subtree(self.tenant_id, root_id)
        return set((await self.session.execute(select(tree.c.id))).scalars())

    async def subtree_bottom(self, root_id: uuid.UUID) -> int:
        """The deepest depth in the sub-tree of `root_id` (its own depth when it has no children;
        0 when there is no such category here)."""
        tree = _subtree(self.tenant_id, root_id)
        bottom = (await self.session.execute(select(func.max(tree.c.depth)))).scalar_one()
        return int(bottom or 0)

    async def move(self, category: ProductCategory, parent_id: uuid.UUID | None, depth: int) -> bool:
        """Put `category` under `parent_id` at `depth`, its sub-tree shifted by as many levels, in
        one statement (each row's CHECKs hold after it). False (nothing changed) when the new
        parent already has a category of that name."""
        shift = depth - category.depth
        tree = _subtree(self.tenant_id, category.id)
        stmt = (
            update(ProductCategory)
            .where(ProductCategory.tenant_id == self.tenant_id, ProductCategory.id.in_(select(tree.c.id)))
            .values(
                depth=ProductCategory.depth + shift,
                parent_id=_parent_after_move(category.id, parent_id),
                updated_at=func.now(),
            )
            .execution_options(synchronize_session=False)
        )
        try:
            async with self.session.begin_nested():
                await self.session.execute(stmt)
        except IntegrityError as exc:
            if _sqlstate(exc) != UNIQUE_VIOLATION:
                raise
            return False
        await self.session.refresh(category)
        return True

    async def save(self, category: ProductCategory, *, new: bool) -> bool:
        """Insert or flush in a savepoint: False if the name is taken under the parent (nothing written)."""
        try:
            async with self.session.begin_nested():
                if new:
                    category.tenant_id = self.tenant_id
                    self.session.add(category)
                await self.session.flush()
        except IntegrityError as exc:
            if _sqlstate(exc) != UNIQUE_VIOLATION:
                raise
            return False
        return True

    async def has_children(self, category_id: uuid.UUID) -> bool:
        stmt = select(exists().where(ProductCategory.parent_id == category_id))
        return bool((await self.session.execute(stmt)).scalar_one())

    async def has_products(self, category_id: uuid.UUID) -> bool:
        stmt = select(exists().where(Product.category_id == category_id))
        return bool((await self.session.execute(stmt)).scalar_one())

    async def try_delete(self, category: ProductCategory) -> bool:
        """Delete in a savepoint; False (nothing changed) if a category or product refers to it."""
        condition = (ProductCategory.tenant_id == self.tenant_id, ProductCategory.id == category.id)
        return await _delete_unless_referenced(self.session, delete(ProductCategory).where(*condition), category)

    async def list_page(
        self, *, parent_id: uuid.UUID | None, roots: bool, limit: int, cursor: str | None, sort: str
    ) -> tuple[list[ProductCategory], str | None]:
        stmt = select(ProductCategory)
        if parent_id is not None:
            stmt = stmt.where(ProductCategory.parent_id == parent_id)
        if roots:
            stmt = stmt.where(ProductCategory.parent_id.is_(None))
        return await self.page(stmt, limit=limit, cursor=cursor, sort=CATEGORY_SORTS[sort])

    async def all(self) -> list[ProductCategory]:
        """Every category of the tenant (the tree view), by depth then name."""
        stmt = select(ProductCategory).order_by(ProductCategory.depth, ProductCategory.name_lower, ProductCategory.id)
        return list((await self.session.execute(stmt)).scalars())


def _parent_after_move(moved: uuid.UUID, parent_id: uuid.UUID | None) -> ColumnElement[Any]:
    """The moved category takes its new parent (NULL: top level); the rows below it keep theirs."""
    new_parent = literal(parent_id, ProductCategory.parent_id.type)
    return case((ProductCategory.id == moved, new_parent), else_=ProductCategory.parent_id)


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

    async def save(self, product: Product, *, new: bool) -> str | None:
        """Insert or flush in a savepoint: None when written, else the unique key that is taken
        ("sku" or "barcode"; nothing written)."""
        try:
            async with self.session.begin_nested():
                if new:
                    product.tenant_id = self.tenant_id
                    self.session.add(product)
                await self.session.flush()
        except IntegrityError as exc:
            if _sqlstate(exc) != UNIQUE_VIOLATION:
                raise
            return "barcode" if _constraint(exc) == "uq_products_tenant_id_barcode" else "sku"
        return None

    async def is_used(self, product_id: uuid.UUID) -> bool:
        """Whether an invoice line or a stock movement names the product."""
        lines = exists().where(InvoiceLine.product_id == product_id)
        movements = exists().where(StockMovement.product_id == product_id)
        return bool((await self.session.execute(select(or_(lines, movements)))).scalar_one())

    async def try_delete(self, product: Product) -> bool:
        """Delete in a savepoint; False (nothing changed) if anything refers to the product."""
        condition = (Product.tenant_id == self.tenant_id, Product.id == product.id)
        return await _delete_unless_referenced(self.session, delete(Product).where(*condition), product)

    async def list_page(
        self, filters: ProductFilters, *, limit: int, cursor: str | None, sort: str
    ) -> tuple[list[Product], str | None]:
        """A page of products. A batch read (`ids`) returns archived ones too, unless `archived=true`
        asks for them alone (as customers)."""
        stmt = select(Product).where(*self._conditions(filters))
        return await self.page(stmt, limit=limit, cursor=cursor, sort=PRODUCT_SORTS[sort])

    def search_statement(self, filters: ProductFilters) -> Select[Product]:
        """The list's statement before paging (what EXPLAIN reads in the tests)."""
        return select(Product).where(*self._conditions(filters))

    def _conditions(self, f: ProductFilters) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = []
        if f.ids is not None:
            conditions.append(Product.id.in_(f.ids))
        if f.ids is None or f.archived:
            conditions.append(Product.is_archived.is_(f.archived))
        if f.q:
            conditions.append(_search(f.q, f.barcodes))
        if f.category_id is not None:
            tree = _subtree(self.tenant_id, f.category_id)
            conditions.append(Product.category_id.in_(select(tree.c.id)))
        if f.low is not None:
            conditions.append(_low() if f.low else not_(_low()))
        return conditions


def _search(q: str, barcodes: tuple[str, ...]) -> ColumnElement[bool]:
    """Name or SKU starting with `q` (case-insensitive), or the barcode `q` reads as."""
    lowered = q.lower()
    branches = [starts_with(Product.name_lower, lowered), starts_with(Product.sku_lower, lowered)]
    if barcodes:
        branches.append(Product.barcode.in_(barcodes))
    return or_(*branches)


def _low() -> ColumnElement[bool]:
    """A product with a reorder level whose stock is at or below it: a level row (any company) with
    `available <= reorder_level`, or no level row at all (nothing was ever received: 0 in stock)."""
    level = aliased(StockLevel)
    at_or_below = exists().where(
        level.tenant_id == Product.tenant_id, level.product_id == Product.id, level.available <= Product.reorder_level
    )
    any_level = exists().where(level.tenant_id == Product.tenant_id, level.product_id == Product.id)
    return and_(Product.track_stock.is_(True), Product.reorder_level.is_not(None), or_(at_or_below, not_(any_level)))
