"""Product categories: a tree of at most 3 levels (e.g. Grocery > Staples > Rice).

Every write to the tree takes the tenant's tree lock first (a transaction-scoped advisory lock),
so concurrent moves cannot build a cycle or a 4th level between them. A move re-checks the depth of
the whole sub-tree it carries and shifts it in one statement. A category is deleted only when it has
no sub-categories and no products (409 otherwise: move or delete them first); archived products
count, since they still point at it.
"""

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import Conflict, NotFound
from app.domain import categories
from app.domain.errors import DomainError
from app.models.catalog.product import ProductCategory
from app.repositories.catalog.products import ProductCategoryRepository
from app.services.billing.rules import as_problem
from app.services.platform import audit

AUDITED = ["name", "parent_id", "depth"]


def not_found(field: str | None = None) -> NotFound:
    """404 `product-category-not-found`; naming the body's `field` when the id came from there."""
    detail = "Product category not found."
    if field is None:
        return NotFound(detail, code="product-category-not-found")
    error = {"loc": ["body", field], "msg": detail, "type": "product-category-not-found"}
    return NotFound(detail, code="product-category-not-found", errors=[error])


async def get(session: AsyncSession, category_id: uuid.UUID, *, for_update: bool = False) -> ProductCategory:
    category = await ProductCategoryRepository(session).get(category_id, for_update=for_update)
    if category is None:
        raise not_found()
    return category


async def referenced(session: AsyncSession, category_id: uuid.UUID, *, field: str = "category_id") -> ProductCategory:
    """A category a product is put in: it exists here (else 404 naming `field`) and stays until the
    transaction ends (a concurrent delete waits, then finds the product)."""
    category = await ProductCategoryRepository(session).get_shared(category_id)
    if category is None:
        raise not_found(field)
    return category


async def _parent_depth(repo: ProductCategoryRepository, parent_id: uuid.UUID | None) -> int:
    if parent_id is None:
        return 0
    parent = await repo.get(parent_id)
    if parent is None:
        raise not_found("parent_id")
    return parent.depth


def _check_depth(depth: int) -> None:
    try:
        categories.check_depth(depth)
    except DomainError as exc:
        raise as_problem(exc) from exc


async def create(session: AsyncSession, *, name: str, parent_id: uuid.UUID | None) -> ProductCategory:
    repo = ProductCategoryRepository(session)
    await repo.lock_tree()
    depth = await _parent_depth(repo, parent_id) + 1
    _check_depth(depth)
    category = ProductCategory(name=name, parent_id=parent_id, depth=depth)
    await _save(repo, category, new=True)
    await _audit(session, "product_category.created", category, before=None)
    return category


async def update(session: AsyncSession, category_id: uuid.UUID, *, changes: dict[str, Any]) -> ProductCategory:
    """Rename and/or move (`parent_id` in `changes`, None = top level)."""
    repo = ProductCategoryRepository(session)
    await repo.lock_tree()
    category = await get(session, category_id, for_update=True)
    before = audit.snapshot(category, AUDITED)
    if "name" in changes:
        category.name = changes["name"]
        await _save(repo, category, new=False)
    if "parent_id" in changes and changes["parent_id"] != category.parent_id:
        await _move(repo, category, changes["parent_id"])
    await _audit(session, "product_category.updated", category, before=before)
    return category


async def _move(repo: ProductCategoryRepository, category: ProductCategory, parent_id: uuid.UUID | None) -> None:
    try:
        categories.check_not_cycle(
            moves_under_itself=parent_id is not None and parent_id in await repo.subtree_ids(category.id)
        )
    except DomainError as exc:
        raise as_problem(exc) from exc
    depth = await _parent_depth(repo, parent_id) + 1
    _check_depth(await repo.subtree_bottom(category.id) - category.depth + depth)
    if not await repo.move(category, parent_id, depth):
        raise _exists()


def _exists() -> Conflict:
    return Conflict("A category with this name already exists under that parent.", code="product-category-exists")


async def _save(repo: ProductCategoryRepository, category: ProductCategory, *, new: bool) -> None:
    if not await repo.save(category, new=new):
        raise _exists()


async def remove(session: AsyncSession, category_id: uuid.UUID) -> ProductCategory:
    repo = ProductCategoryRepository(session)
    await repo.lock_tree()
    category = await get(session, category_id, for_update=True)
    before = audit.snapshot(category, AUDITED)
    if await repo.has_children(category.id):
        raise _not_empty("It has sub-categories: move or delete them first.")
    if await repo.has_products(category.id) or not await repo.try_delete(category):
        raise _not_empty("Products are in it (archived ones too): move them to another category first.")
    await audit.record(
        session, action="product_category.deleted", entity_type="product_category", entity_id=category.id, before=before
    )
    return category


def _not_empty(why: str) -> Conflict:
    return Conflict(f"The category cannot be deleted. {why}", code="product-category-not-empty")


async def list_page(
    session: AsyncSession, *, parent_id: uuid.UUID | None, top_level: bool, limit: int, cursor: str | None, sort: str
) -> tuple[list[ProductCategory], str | None]:
    return await ProductCategoryRepository(session).list_page(
        parent_id=parent_id, roots=top_level, limit=limit, cursor=cursor, sort=sort
    )


@dataclass
class Node:
    category: ProductCategory
    children: list["Node"]


async def tree(session: AsyncSession) -> list[Node]:
    """The whole tree: the top-level categories by name, each with its sub-tree by name."""
    nodes: dict[uuid.UUID, Node] = {}
    roots: list[Node] = []
    for category in await ProductCategoryRepository(session).all():  # by depth: parents come first
        node = nodes[category.id] = Node(category, [])
        if category.parent_id is None:
            roots.append(node)
        else:
            nodes[category.parent_id].children.append(node)
    return roots


async def _audit(
    session: AsyncSession, action: str, category: ProductCategory, *, before: dict[str, Any] | None
) -> None:
    after = audit.snapshot(category, AUDITED)
    await audit.record(
        session, action=action, entity_type="product_category", entity_id=category.id, before=before, after=after
    )
