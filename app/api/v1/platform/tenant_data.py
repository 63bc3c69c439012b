"""The tenant's data, out (issue 13 §3; app/services/platform/tenant_data.py): the full export, its
list and its download link, and a user's own data. All of them work while the subscription is
locked (reads always do; the export's POST is declared `allow_locked`): taking one's data away must
never need a payment."""

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi import Path as PathParam
from fastapi.responses import StreamingResponse

from app.api.deps import PUBLIC, ContextDep, CurrentUser, PaginationDep, RequireRole, SessionDep
from app.models.identity.user import User, UserRole
from app.schemas.common import Page, problem_responses
from app.schemas.platform.tenant_data import TenantExportRead, UserDataExport
from app.services.platform import tenant_data

router = APIRouter(tags=["tenant data"], responses=problem_responses(401, 422))

# The owner, even on a locked subscription (the locked-account mail promises "export everything").
ExportOwner = Annotated[User, Depends(RequireRole(UserRole.owner, allow_locked=True))]
Token = Annotated[str, PathParam(description="The token of the mailed link.")]


@router.post(
    "/tenants/me/export",
    response_model=TenantExportRead,
    status_code=202,
    responses=problem_responses(403, 429),
)
async def request_export(user: ExportOwner, session: SessionDep, ctx: ContextDep) -> TenantExportRead:
    """Start a full export of the business's data (202). The worker builds a zip (every record as
    JSON Lines, the spreadsheets as CSV, every issued document's PDF) and mails the requester a
    download link that expires after TENANT_EXPORT_TTL_HOURS. One at a time: while one is pending or
    running, this answers that one. At most TENANT_EXPORT_DAILY_LIMIT a day (429)."""
    row, _created = await tenant_data.request(session, ctx, user)
    return TenantExportRead.model_validate(row)


@router.get("/tenants/me/exports", response_model=Page[TenantExportRead], responses=problem_responses(403))
async def list_exports(
    _: ExportOwner,
    session: SessionDep,
    page: PaginationDep,
    status: Annotated[Literal["pending", "running", "done", "failed", "expired"] | None, Query()] = None,
) -> Page[TenantExportRead]:
    """The business's full exports, newest first."""
    rows, next_cursor = await tenant_data.list_page(session, limit=page.limit, cursor=page.cursor, status=status)
    return Page[TenantExportRead](items=[TenantExportRead.model_validate(r) for r in rows], next_cursor=next_cursor)


@router.get("/tenants/me/exports/{export_id}", response_model=TenantExportRead, responses=problem_responses(403, 404))
async def read_export(export_id: uuid.UUID, _: ExportOwner, session: SessionDep) -> TenantExportRead:
    """One export's status."""
    return TenantExportRead.model_validate(await tenant_data.get(session, export_id))


@router.get(
    "/exports/{token}",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
            "description": "The zip.",
        },
        **problem_responses(400, 404, 410),
    },
    openapi_extra=PUBLIC,
)
async def download_export(token: Token, ctx: ContextDep) -> StreamingResponse:
    """The zip of a full export, from the mailed link (no login: the signed token is the key). 400 for
    a token of no link's shape, 404 for a link this server did not make; 410 once it expired (the zip
    is deleted then)."""
    download = await tenant_data.open_download(ctx, token)
    return StreamingResponse(
        tenant_data.chunks(ctx.db, download),
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{download.filename}"',
            "Content-Length": str(download.size_bytes),
            "Digest": f"sha-256={tenant_data.sha256_base64(download.sha256)}",
            "Cache-Control": "private, no-store",
            "Referrer-Policy": "no-referrer",
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.get("/users/me/export", response_model=UserDataExport)
async def export_my_data(user: CurrentUser, session: SessionDep, ctx: ContextDep) -> UserDataExport:
    """The caller's own data as JSON: profile, login sessions, invitations sent, email changes and
    their audit entries (what they did). Any signed-in user; the business's data is the full export's."""
    return UserDataExport.model_validate(await tenant_data.user_export(session, ctx, user))
