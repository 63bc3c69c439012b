"""The business event log (owner and admin): what happened, in the order it was written, the
source for analytics and for checking what the webhooks were sent."""

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from app.api.deps import ManagerUser, PaginationDep, SessionDep
from app.schemas.common import IsoDateTime, Page, problem_responses
from app.schemas.platform.events import BusinessEventRead
from app.services.platform import event_log

router = APIRouter(prefix="/events", tags=["events"], responses=problem_responses(401, 403, 422))
EventTypeQuery = Annotated[
    str | None,
    Query(
        alias="type",
        max_length=60,
        pattern=r"^[a-z_]+(\.[a-z_]+)+$",
        description="An event type (README, Business events), e.g. invoice.issued; an unknown one is a 400.",
    ),
]


@router.get("", response_model=Page[BusinessEventRead], responses=problem_responses(400))
async def list_events(
    _: ManagerUser,
    session: SessionDep,
    page: PaginationDep,
    event_type: EventTypeQuery = None,
    resource_type: Annotated[str | None, Query(max_length=40, pattern=r"^[a-z_]+$")] = None,
    resource_id: uuid.UUID | None = None,
    date_from: Annotated[IsoDateTime | None, Query(alias="from", description="Occurred at or after.")] = None,
    date_to: Annotated[IsoDateTime | None, Query(alias="to", description="Occurred before.")] = None,
    sort: Annotated[Literal["seq", "-seq"], Query(description="By the order written; newest first.")] = "-seq",
) -> Page[BusinessEventRead]:
    """The tenant's business events, newest first by default. `from` is inclusive, `to` exclusive
    (`to` before `from`: 400)."""
    rows, next_cursor = await event_log.list_events(
        session,
        limit=page.limit,
        cursor=page.cursor,
        event_type=event_type,
        resource_type=resource_type,
        resource_id=resource_id,
        date_from=date_from,
        date_to=date_to,
        descending=sort.startswith("-"),
    )
    return Page[BusinessEventRead](items=[BusinessEventRead.model_validate(r) for r in rows], next_cursor=next_cursor)
