"""Routes for the business configuration's simple entities, built from one description each:
list (filters, search, sort, keyset pages, `fields=`), read, create, update, delete-or-keep.
The routes stay thin: they parse, call app/services/billing/simple_lists.py and shape the answer."""

import inspect
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, status

from app.api.batch import id_list
from app.api.deps import ContextDep, CurrentUser, ManagerUser, PaginationDep, SessionDep, declare_payment_required
from app.api.fields import Selection, field_selection, respond
from app.schemas.billing.business_fields import Removal
from app.schemas.common import QUERY_TEXT, Page, RequestBody, SelectableRead, problem_responses
from app.services.billing import simple_lists as service
from app.services.billing.simple_lists import Catalog


@dataclass(frozen=True)
class Resource:
    catalog: Catalog
    path: str
    tag: str
    id_name: str
    create: type[RequestBody]
    update: type[RequestBody]
    read: type[SelectableRead]
    flag: str
    flag_column: str
    flag_default: bool | None = None
    search_help: str = "name"


def named_param(name: str, annotation: Any, default: Any = inspect.Parameter.empty) -> Callable[..., Any]:
    """A dependency reading one parameter whose name is only known at runtime (path ids, filters)."""

    async def value(**kwargs: Any) -> Any:
        return kwargs[name]

    parameter = inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation)
    value.__signature__ = inspect.Signature([parameter])
    return value


def _camel(words: str) -> str:
    return "".join(word.capitalize() for word in words.replace("-", "_").split("_"))


def operation_ids(res: Resource) -> dict[str, str]:
    """One name per operation of each resource (`listClientTypes`, `getClientType` ...): the
    factory's route functions share their names across resources."""
    one, many = _camel(res.catalog.entity), _camel(res.path.strip("/"))
    return {
        "list": f"list{many}",
        "get": f"get{one}",
        "create": f"create{one}",
        "update": f"update{one}",
        "delete": f"delete{one}",
    }


def crud_router(res: Resource) -> APIRouter:
    router = APIRouter(prefix=res.path, tags=[res.tag], responses=problem_responses(401, 422))
    _list_route(router, res)
    _read_route(router, res)
    _write_routes(router, res)
    declare_payment_required(router)
    return router


def _list_route(router: APIRouter, res: Resource) -> None:
    cat, read = res.catalog, res.read
    sorts = sorted(f"{sign}{key}" for key in cat.sorts for sign in ("", "-"))
    flag_help = f"Filter on `{res.flag}`" + ("." if res.flag_default is None else f" (default {res.flag_default}).")
    flag = named_param(res.flag, Annotated[bool | None, Query(description=flag_help)], res.flag_default)
    sort_default = next(iter(cat.sorts))

    @router.get("", response_model=Page[read], summary=f"List {cat.label}s", operation_id=operation_ids(res)["list"])
    async def list_items(
        _: CurrentUser,
        session: SessionDep,
        page: PaginationDep,
        fields: Annotated[Selection, Depends(field_selection(read))],
        flag_value: Annotated[bool | None, Depends(flag)],
        search: Annotated[
            str | None,
            Query(
                min_length=1,
                max_length=100,
                pattern=QUERY_TEXT,
                description=f"Case-insensitive, in {res.search_help}.",
            ),
        ] = None,
        ids: Annotated[list[uuid.UUID] | None, Depends(id_list)] = None,
        sort: Annotated[Literal[*sorts], Query()] = sort_default,
    ) -> Any:
        # A batch read (`ids`) is not narrowed by the flag's default (archived rows are included).
        batch_default = ids is not None and flag_value == res.flag_default
        rows, next_cursor = await service.list_page(
            session,
            cat,
            limit=page.limit,
            cursor=page.cursor,
            sort=sort,
            search=search,
            flags={} if batch_default else {res.flag_column: flag_value},
            ids=ids,
        )
        return respond(Page[read](items=[read.model_validate(r) for r in rows], next_cursor=next_cursor), fields)


def _read_route(router: APIRouter, res: Resource) -> None:
    cat, read = res.catalog, res.read
    item_id = named_param(res.id_name, uuid.UUID)

    @router.get(
        f"/{{{res.id_name}:uuid}}",
        response_model=read,
        responses=problem_responses(404),
        summary=f"Read a {cat.label}",
        operation_id=operation_ids(res)["get"],
    )
    async def read_item(
        _: CurrentUser,
        session: SessionDep,
        id_: Annotated[uuid.UUID, Depends(item_id)],
        fields: Annotated[Selection, Depends(field_selection(read))],
    ) -> Any:
        return respond(read.model_validate(await service.get(session, cat, id_)), fields)


def _write_routes(router: APIRouter, res: Resource) -> None:
    cat, read, create_body, update_body = res.catalog, res.read, res.create, res.update
    item_id = named_param(res.id_name, uuid.UUID)
    one = f"/{{{res.id_name}:uuid}}"

    @router.post(
        "",
        status_code=status.HTTP_201_CREATED,
        response_model=read,
        responses=problem_responses(400, 403, 409),
        summary=f"Create a {cat.label}",
        operation_id=operation_ids(res)["create"],
    )
    async def create_item(body: create_body, _: ManagerUser, session: SessionDep, ctx: ContextDep) -> Any:
        created = await service.create(session, ctx, cat, body.model_dump())
        return read.model_validate(created)

    @router.patch(
        one,
        response_model=read,
        responses=problem_responses(400, 403, 404, 409),
        summary=f"Update a {cat.label}",
        operation_id=operation_ids(res)["update"],
    )
    async def update_item(
        body: update_body,
        _: ManagerUser,
        session: SessionDep,
        ctx: ContextDep,
        id_: Annotated[uuid.UUID, Depends(item_id)],
    ) -> Any:
        changes = body.model_dump(exclude_unset=True)
        updated = await service.update(session, ctx, cat, id_, changes)
        return read.model_validate(updated)

    @router.delete(
        one,
        response_model=Removal[read],
        responses=problem_responses(403, 404),
        summary=f"Delete a {cat.label} ({res.catalog.kept_as} instead if documents refer to it)",
        operation_id=operation_ids(res)["delete"],
    )
    async def delete_item(_: ManagerUser, session: SessionDep, id_: Annotated[uuid.UUID, Depends(item_id)]) -> Any:
        outcome, obj = await service.remove(session, cat, id_)
        return Removal[read](outcome=outcome, item=read.model_validate(obj))
