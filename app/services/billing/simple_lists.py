"""Create, read, update and delete-or-keep for the business configuration's simple entities.

Each entity is described once by a `Catalog`; the functions here do the rest the same way for
all of them: tenant-scoped reads, a business-rule hook, a 409 on a taken unique key, an audit
row with before/after in the same transaction, and a delete that keeps the row (archived or
deactivated) when documents still refer to it.
"""

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.context import Context
from app.core.errors import Conflict, NotFound
from app.repositories.base import M, SortKey
from app.repositories.billing.simple_lists import CatalogRepository
from app.services.platform import audit

# (session, the request's context (its `today` in India), the entity with the changes applied, the
# fields the client sent)
Check = Callable[[AsyncSession, Context, Any, dict[str, Any]], Awaitable[None]]
Outcome = Literal["deleted", "archived", "deactivated"]


async def no_check(session: AsyncSession, ctx: Context, obj: Any, changes: dict[str, Any]) -> None:
    return None


@dataclass(frozen=True)
class Catalog(Generic[M]):
    model: type[M]
    entity: str
    label: str
    fields: list[str]
    search_columns: Sequence[str]
    sorts: dict[str, str]
    kept_as: Literal["archived", "deactivated"] = "deactivated"
    check: Check = no_check
    conflict: str = "A {label} with this name already exists."

    def sort_key(self, sort: str) -> SortKey:
        return SortKey(getattr(self.model, self.sorts[sort.lstrip("-")]), sort.startswith("-"))

    def keep(self, obj: M) -> None:
        """Archive or deactivate: the flag is named by `kept_as` (the models share no such attribute)."""
        if self.kept_as == "archived":
            setattr(obj, "is_archived", True)  # noqa: B010
        else:
            setattr(obj, "is_active", False)  # noqa: B010


def _repo(session: AsyncSession, catalog: Catalog[M]) -> CatalogRepository[M]:
    return CatalogRepository(session, catalog.model)


async def list_page(
    session: AsyncSession,
    catalog: Catalog[M],
    *,
    limit: int,
    cursor: str | None,
    sort: str,
    search: str | None,
    flags: dict[str, bool | None],
    ids: list[uuid.UUID] | None = None,
) -> tuple[list[M], str | None]:
    model = catalog.model
    where = [getattr(model, name).is_(value) for name, value in flags.items() if value is not None]
    if ids is not None:
        where.append(model.id.in_(ids))
    return await _repo(session, catalog).list_page(
        limit=limit,
        cursor=cursor,
        sort=catalog.sort_key(sort),
        search=search,
        search_columns=[getattr(model, c) for c in catalog.search_columns],
        where=where,
    )


async def get(session: AsyncSession, catalog: Catalog[M], item_id: uuid.UUID) -> M:
    obj = await _repo(session, catalog).get(item_id)
    if obj is None:
        raise NotFound(f"{catalog.label.capitalize()} not found.")
    return obj


async def create(session: AsyncSession, ctx: Context, catalog: Catalog[M], values: dict[str, Any]) -> M:
    obj = catalog.model(**values)
    await catalog.check(session, ctx, obj, values)
    await _save(session, catalog, obj, new=True)
    await _audit(session, catalog, obj, "created", None, audit.snapshot(obj, catalog.fields))
    return obj


async def update(
    session: AsyncSession, ctx: Context, catalog: Catalog[M], item_id: uuid.UUID, changes: dict[str, Any]
) -> M:
    obj = await get(session, catalog, item_id)
    before = audit.snapshot(obj, catalog.fields)
    for name, value in changes.items():
        setattr(obj, name, value)
    await catalog.check(session, ctx, obj, changes)
    await _save(session, catalog, obj, new=False)
    await _audit(session, catalog, obj, "updated", before, audit.snapshot(obj, catalog.fields))
    return obj


async def remove(session: AsyncSession, catalog: Catalog[M], item_id: uuid.UUID) -> tuple[Outcome, M]:
    """Delete; if documents refer to it (PostgreSQL refuses with a foreign-key violation), keep it
    archived or deactivated instead."""
    obj = await get(session, catalog, item_id)
    before = audit.snapshot(obj, catalog.fields)
    if await _repo(session, catalog).delete(obj):
        await _audit(session, catalog, obj, "deleted", before, None)
        return "deleted", obj
    catalog.keep(obj)
    await session.flush()
    await _audit(session, catalog, obj, catalog.kept_as, before, audit.snapshot(obj, catalog.fields))
    return catalog.kept_as, obj


async def _save(session: AsyncSession, catalog: Catalog[M], obj: M, *, new: bool) -> None:
    if not await _repo(session, catalog).save(obj, new=new):
        raise Conflict(catalog.conflict.format(label=catalog.label), code=f"{catalog.entity.replace('_', '-')}-exists")


async def _audit(
    session: AsyncSession,
    catalog: Catalog[M],
    obj: M,
    action: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    await audit.record(
        session,
        action=f"{catalog.entity}.{action}",
        entity_type=catalog.entity,
        entity_id=obj.id,
        before=before,
        after=after,
    )
