import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from app.api.deps import ManagerUser, PaginationDep, SessionDep
from app.repositories.platform.audit import AuditRepository
from app.schemas.common import IsoDateTime, Page, problem_responses
from app.schemas.platform.audit import AuditLogRead

router = APIRouter(prefix="/audit-logs", tags=["audit"], responses=problem_responses(401, 403, 422))


@router.get("", response_model=Page[AuditLogRead])
async def list_audit_logs(
    _: ManagerUser,
    session: SessionDep,
    page: PaginationDep,
    entity_type: Annotated[str | None, Query(max_length=50)] = None,
    entity_id: uuid.UUID | None = None,
    actor_user_id: uuid.UUID | None = None,
    action: Annotated[str | None, Query(max_length=100)] = None,
    date_from: Annotated[IsoDateTime | None, Query(alias="from")] = None,
    date_to: Annotated[IsoDateTime | None, Query(alias="to")] = None,
    sort: Annotated[Literal["at", "-at"], Query()] = "-at",
) -> Page[AuditLogRead]:
    """Newest first by default. `from` is inclusive, `to` exclusive."""
    rows, next_cursor = await AuditRepository(session).list_page(
        limit=page.limit,
        cursor=page.cursor,
        entity_type=entity_type,
        entity_id=entity_id,
        actor_user_id=actor_user_id,
        action=action,
        date_from=date_from,
        date_to=date_to,
        descending=sort.startswith("-"),
    )
    return Page[AuditLogRead](items=[AuditLogRead.model_validate(r) for r in rows], next_cursor=next_cursor)
