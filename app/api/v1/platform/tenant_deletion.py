"""Deleting the tenant (issue 13 §3): close it now, cancel within the window; the purge is the
scheduler's (app.services.platform.tenant_deletion)."""

from typing import Annotated

from fastapi import APIRouter, Depends, status

from app.api.deps import PUBLIC, ContextDep, RequireRole, SessionDep
from app.models.identity.user import User, UserRole
from app.models.platform.tenant import Tenant
from app.schemas.common import problem_responses
from app.schemas.platform.tenant_deletion import (
    TenantDeleteRequest,
    TenantDeletionCancelRequest,
    TenantDeletionRead,
)
from app.services.platform import tenant_deletion

router = APIRouter(prefix="/tenants", tags=["tenants"], responses=problem_responses(401, 422))

# The owner, even on a locked subscription: leaving must not need paying first.
OwnerEvenLocked = Annotated[User, Depends(RequireRole(UserRole.owner, allow_locked=True))]


def _read(tenant: Tenant) -> TenantDeletionRead:
    return TenantDeletionRead(
        status="open" if tenant.closed_at is None else "closed",
        closed_at=tenant.closed_at,
        purge_after=tenant.purge_after,
    )


@router.post(
    "/me/delete",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=TenantDeletionRead,
    responses=problem_responses(400, 403, 429),
)
async def delete_my_tenant(
    body: TenantDeleteRequest, user: OwnerEvenLocked, session: SessionDep, ctx: ContextDep
) -> TenantDeletionRead:
    """Close the business now and delete all its data after TENANT_DELETION_GRACE_DAYS (30).

    Needs the owner's current password (400 `wrong-password`) and the business name typed exactly
    (400 `confirmation-mismatch`); either wrong changes nothing. Then every session of every user
    ends, logins and token refreshes answer 403 `tenant-closed`, pending invitations end, and the
    active owners are mailed a link to cancel (POST /tenants/deletion/cancel). After the window the scheduled
    purge keeps the issued tax invoices and credit notes for the period CGST s.36 requires (README,
    "Deleting a tenant") and deletes every other row. Export your data first (POST /tenants/me/export).
    """
    tenant = await tenant_deletion.close(session, ctx, user, password=body.password, confirmation=body.confirmation)
    return _read(tenant)


@router.post(
    "/deletion/cancel",
    response_model=TenantDeletionRead,
    responses=problem_responses(400, 409, 429),
    openapi_extra=PUBLIC,
)
async def cancel_tenant_deletion(
    body: TenantDeletionCancelRequest, session: SessionDep, ctx: ContextDep
) -> TenantDeletionRead:
    """Reopen a closed business within its window: the token of the mailed link AND the password of
    one of its owners (400 `invalid-token` / `wrong-password`; 409 `deletion-window-over` after
    `purge_after`). Sessions stay ended: sign in again."""
    return _read(await tenant_deletion.cancel(session, ctx, token=body.token, password=body.password))
