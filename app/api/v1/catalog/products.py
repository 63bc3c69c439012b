"""/product-categories and /products: the catalogue (issue 11 §1). Writes are configuration
(owner/admin); every member reads."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from app.api.batch import id_list
from app.api.deps import ContextDep, CurrentUser, ManagerUser, PaginationDep, SessionDep
from app.api.fields import Selection, field_selection, respond
from app.domain.uqc import UNITS
from app.models.catalog.product import Product
from app.schemas.catalog.products import (
    CategoryCreate,
    CategoryNode,
    CategoryRead,
    CategorySort,
    CategoryTree,
    CategoryUpdate,
    ProductCreate,
    ProductRead,
    ProductSort,
    ProductUpdate,
    UnitList,
    UnitRead,
)
from app.schemas.common import QUERY_TEXT, Page, problem_responses
from app.services.catalog import product_categories, products
from app.services.catalog.product_categories import Node

categories_router = APIRouter(
    prefix="/product-categories", tags=["product categories"], responses=problem_responses(401, 422)
)
router = APIRouter(prefix="/products", tags=["products"], responses=problem_responses(401, 422))
CategoryFields = Annotated[Selection, Depends(field_selection(CategoryRead))]
Fields = Annotated[Selection, Depends(field_selection(ProductRead))]
# 404: the category / parent named does not exist here; 409: a name taken under that parent, or
# a category with sub-categories or products deleted; 400: a 4th level or a cycle.
CATEGORY_WRITE_ERRORS = problem_responses(400, 403, 404, 409)
# 400: the rules no pattern states (GST rate in force today, barcode check digit, a unit's decimals,
# price above MRP); 402: the plan's product limit; 404: the product or the
# category named; 409: SKU or barcode taken, or the unit of a used product.
WRITE_ERRORS = problem_responses(400, 402, 403, 404, 409)


@categories_router.post(
    "", status_code=status.HTTP_201_CREATED, response_model=CategoryRead, responses=CATEGORY_WRITE_ERRORS
)
async def create_product_category(body: CategoryCreate, _: ManagerUser, session: SessionDep) -> CategoryRead:
    """A category, at the top level or under `parent_id` (at most 3 levels: 400 `category-too-deep`)."""
    category = await product_categories.create(session, name=body.name, parent_id=body.parent_id)
    return CategoryRead.model_validate(category)


@categories_router.get("", response_model=Page[CategoryRead], responses=problem_responses(400))
async def list_product_categories(
    _: CurrentUser,
    session: SessionDep,
    fields: CategoryFields,
    page: PaginationDep,
    parent_id: Annotated[uuid.UUID | None, Query(description="Only the direct sub-categories of this one.")] = None,
    top_level: Annotated[bool, Query(description="true: only the top-level categories.")] = False,
    sort: Annotated[CategorySort, Query()] = "name",
):
    """The categories as a flat list (each with its `parent_id` and `depth`); `GET
    /product-categories/tree` gives them nested."""
    rows, next_cursor = await product_categories.list_page(
        session, parent_id=parent_id, top_level=top_level, limit=page.limit, cursor=page.cursor, sort=sort
    )
    items = [CategoryRead.model_validate(row) for row in rows]
    return respond(Page[CategoryRead](items=items, next_cursor=next_cursor), fields)


def _node(node: Node) -> CategoryNode:
    category = node.category
    return CategoryNode(
        id=category.id, name=category.name, depth=category.depth, children=[_node(c) for c in node.children]
    )


@categories_router.get("/tree", response_model=CategoryTree)
async def product_category_tree(_: CurrentUser, session: SessionDep) -> CategoryTree:
    """Every category, nested: top-level ones by name, each with its sub-categories by name."""
    return CategoryTree(items=[_node(node) for node in await product_categories.tree(session)])


@categories_router.get("/{category_id:uuid}", response_model=CategoryRead, responses=problem_responses(404))
async def read_product_category(category_id: uuid.UUID, _: CurrentUser, session: SessionDep, fields: CategoryFields):
    return respond(CategoryRead.model_validate(await product_categories.get(session, category_id)), fields)


@categories_router.patch("/{category_id:uuid}", response_model=CategoryRead, responses=CATEGORY_WRITE_ERRORS)
async def update_product_category(
    category_id: uuid.UUID, body: CategoryUpdate, _: ManagerUser, session: SessionDep
) -> CategoryRead:
    """Rename, or move with `parent_id` (null: to the top level). A move carries the sub-tree:
    400 `category-too-deep` if any of it would land below level 3, 400 `category-cycle` under itself."""
    changes = {name: getattr(body, name) for name in body.model_fields_set}
    category = await product_categories.update(session, category_id, changes=changes)
    return CategoryRead.model_validate(category)


@categories_router.delete(
    "/{category_id:uuid}", status_code=status.HTTP_204_NO_CONTENT, responses=problem_responses(403, 404, 409)
)
async def delete_product_category(category_id: uuid.UUID, _: ManagerUser, session: SessionDep) -> None:
    """Only an empty category: 409 `product-category-not-empty` while it has sub-categories or
    products (archived ones included)."""
    await product_categories.remove(session, category_id)


# --- products ---------------------------------------------------------------------------------


def _columns(body: ProductCreate | ProductUpdate) -> dict[str, object]:
    return {name: getattr(body, name) for name in body.model_fields_set}


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ProductRead, responses=WRITE_ERRORS)
async def create_product(body: ProductCreate, _: ManagerUser, session: SessionDep, ctx: ContextDep) -> ProductRead:
    product = await products.create(session, ctx, values=_columns(body))
    return ProductRead.model_validate(product)


@router.get("/units", response_model=UnitList)
async def list_product_units(_: CurrentUser) -> UnitList:
    """The GST unit quantity codes (UQC) a product's `unit` takes, with the decimal places a
    quantity in each may carry (0: whole units such as NOS or PCS; 3: KGS, LTR, MTR ...)."""
    return UnitList(
        items=[UnitRead(code=u.code, description=u.description, decimals=u.decimals) for u in UNITS.values()]
    )


@router.get("", response_model=Page[ProductRead], responses=problem_responses(400))
async def list_products(
    _: CurrentUser,
    session: SessionDep,
    fields: Fields,
    page: PaginationDep,
    q: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=100,
            pattern=QUERY_TEXT,
            description="Search: the name or the SKU starting with this (case-insensitive), or the exact barcode "
            "(a UPC-A as 12 or 13 digits).",
        ),
    ] = None,
    category_id: Annotated[
        uuid.UUID | None, Query(description="Products in this category or any of its sub-categories.")
    ] = None,
    low: Annotated[
        bool | None,
        Query(
            description="true: tracked products with a reorder level whose stock (any company) is at or below it, "
            "or that have no stock yet; false: the others."
        ),
    ] = None,
    archived: Annotated[bool, Query(description="true lists archived products instead of active ones.")] = False,
    ids: Annotated[list[uuid.UUID] | None, Depends(id_list)] = None,
    sort: Annotated[ProductSort, Query()] = "name",
):
    """Products, searched (`q`), filtered or read in a batch (`ids`); `count=true` adds the total.
    Search and the default order use indexes led by the tenant, so they stay instant with 100,000
    products."""
    f = products.filters(q=q, category_id=category_id, low=low, archived=archived, ids=ids)
    rows, next_cursor = await products.list_page(session, f, limit=page.limit, cursor=page.cursor, sort=sort)
    items = [ProductRead.model_validate(row) for row in rows]
    return respond(Page[ProductRead](items=items, next_cursor=next_cursor), fields)


@router.get("/{product_id:uuid}", response_model=ProductRead, responses=problem_responses(404))
async def read_product(product_id: uuid.UUID, _: CurrentUser, session: SessionDep, fields: Fields):
    return respond(ProductRead.model_validate(await products.get(session, product_id)), fields)


@router.patch("/{product_id:uuid}", response_model=ProductRead, responses=WRITE_ERRORS)
async def update_product(
    product_id: uuid.UUID, body: ProductUpdate, _: ManagerUser, session: SessionDep, ctx: ContextDep
) -> ProductRead:
    """Change the fields sent. `{"is_archived": true}` archives (kept for the documents that name
    it, hidden from the default list); `false` restores it (402 when the plan's limit is reached)."""
    product: Product = await products.update(session, ctx, product_id, changes=_columns(body))
    return ProductRead.model_validate(product)


@router.delete("/{product_id:uuid}", status_code=status.HTTP_204_NO_CONTENT, responses=problem_responses(403, 404, 409))
async def delete_product(product_id: uuid.UUID, _: ManagerUser, session: SessionDep) -> None:
    """Delete a product no invoice line or stock movement names; otherwise 409 `product-in-use`:
    archive it instead (PATCH `{"is_archived": true}`)."""
    await products.remove(session, product_id)
