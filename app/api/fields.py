"""Partial responses: `?fields=a,b,c` on reads returns only those fields (and `id`).

The allowed names are spelled out as a pattern in the OpenAPI spec, so a client (or a fuzzer)
sees exactly what is valid. Read schemas of such resources derive from `SelectableRead`, which
documents its properties without requiring them, since a selection may leave any of them out.
"""

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from app.schemas.common import Page

Selection = set[str] | None


def field_selection(model: type[BaseModel]) -> Callable[..., Selection]:
    """A dependency parsing `fields` against model's field names: `Depends(field_selection(X))`."""
    names = "|".join(sorted([*model.model_fields, *model.model_computed_fields]))
    pattern = f"^({names})(,({names}))*$"

    async def selected(
        fields: Annotated[
            str | None, Query(max_length=2000, pattern=pattern, description="Fields to return, comma-separated.")
        ] = None,
    ) -> Selection:
        return None if fields is None else {*fields.split(","), "id"}

    return selected


def respond(result: BaseModel, fields: Selection) -> Any:
    """The model as is, or only the selected fields (of each item, for a page)."""
    if fields is None:
        return result
    if isinstance(result, Page):
        items = [item.model_dump(mode="json", include=fields) for item in result.items]
        return JSONResponse({**result.model_dump(mode="json", exclude={"items"}), "items": items})
    return JSONResponse(result.model_dump(mode="json", include=fields))
