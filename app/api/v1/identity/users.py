import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query, status

from app.api.deps import ClaimsDep, ContextDep, CurrentUser, ManagerUser, PaginationDep, SessionDep
from app.models.identity.user import UserRole
from app.repositories.identity.users import UserRepository
from app.schemas.common import Page, problem_responses
from app.schemas.identity.users import InvitationRead, InviteRequest, UserMeUpdate, UserRead, UserUpdate
from app.services.identity import email_change, invitations, users

router = APIRouter(prefix="/users", tags=["users"], responses=problem_responses(401, 422))


@router.get("/me", response_model=UserRead)
async def read_me(user: CurrentUser) -> UserRead:
    return UserRead.model_validate(user)


@router.patch("/me", response_model=UserRead, responses=problem_responses(400, 429))
async def update_me(
    body: UserMeUpdate, user: CurrentUser, claims: ClaimsDep, session: SessionDep, ctx: ContextDep
) -> UserRead:
    """Change the name at once; a new email only once the new address confirms it (see `email`)."""
    if body.email is not None:
        await email_change.request(
            session,
            ctx,
            user,
            new_email=body.email,
            current_password=body.current_password,
            session_id=claims.session_id,
        )
    updated = await users.update_me(session, user, full_name=body.full_name)
    return UserRead.model_validate(updated)


@router.get("", response_model=Page[UserRead], responses=problem_responses(403))
async def list_users(
    _: ManagerUser,
    session: SessionDep,
    page: PaginationDep,
    role: UserRole | None = None,
    is_active: bool | None = None,
    sort: Annotated[Literal["created_at", "-created_at"], Query()] = "created_at",
) -> Page[UserRead]:
    rows, next_cursor = await UserRepository(session).list_page(
        limit=page.limit, cursor=page.cursor, descending=sort.startswith("-"), role=role, is_active=is_active
    )
    return Page[UserRead](items=[UserRead.model_validate(r) for r in rows], next_cursor=next_cursor)


@router.post(
    "/invite",
    status_code=status.HTTP_201_CREATED,
    response_model=InvitationRead,
    responses=problem_responses(403, 409, 429),
)
async def invite(body: InviteRequest, actor: ManagerUser, session: SessionDep, ctx: ContextDep) -> InvitationRead:
    """Invite an email with a role (owner/admin; only an owner invites an owner). The inviter's email
    must be verified (403 `email-unverified`). Answers the same for an address that has an account in
    another business (that address is mailed that it cannot join); 409 `email-taken` only for a
    member of this business. A pending invitation holds a seat of the plan's users limit (402).
    Rate limited per business (429)."""
    invitation = await invitations.invite(session, ctx, actor, email=body.email, role=body.role)
    return InvitationRead.of(invitation, ctx.now)


@router.get("/invitations", response_model=Page[InvitationRead], responses=problem_responses(403))
async def list_invitations(
    _: ManagerUser,
    session: SessionDep,
    ctx: ContextDep,
    page: PaginationDep,
    pending: Annotated[bool, Query(description="Only the pending ones.")] = False,
    sort: Annotated[Literal["created_at", "-created_at"], Query()] = "-created_at",
) -> Page[InvitationRead]:
    """The business's invitations (owner/admin), newest first by default."""
    rows, next_cursor = await invitations.list_page(
        session, ctx, limit=page.limit, cursor=page.cursor, descending=sort.startswith("-"), pending_only=pending
    )
    now = ctx.now
    return Page[InvitationRead](items=[InvitationRead.of(r, now) for r in rows], next_cursor=next_cursor)


@router.delete(
    "/invitations/{invitation_id:uuid}", response_model=InvitationRead, responses=problem_responses(403, 404, 409)
)
async def revoke_invitation(
    invitation_id: uuid.UUID, actor: ManagerUser, session: SessionDep, ctx: ContextDep
) -> InvitationRead:
    """Revoke a pending invitation: its link stops working and its seat is freed. 409
    `invitation-not-pending` once accepted, revoked or expired; an admin cannot revoke an owner's."""
    return InvitationRead.of(await invitations.revoke(session, ctx, actor, invitation_id), ctx.now)


@router.get("/{user_id:uuid}", response_model=UserRead, responses=problem_responses(403, 404))
async def read_user(user_id: uuid.UUID, _: ManagerUser, session: SessionDep) -> UserRead:
    return UserRead.model_validate(await users.get(session, user_id))


@router.patch("/{user_id:uuid}", response_model=UserRead, responses=problem_responses(403, 404, 409))
async def update_user(
    user_id: uuid.UUID, body: UserUpdate, actor: ManagerUser, session: SessionDep, ctx: ContextDep
) -> UserRead:
    updated = await users.update(session, ctx, actor, user_id, role=body.role, is_active=body.is_active)
    return UserRead.model_validate(updated)


@router.delete("/{user_id:uuid}", response_model=UserRead, responses=problem_responses(403, 404, 409))
async def deactivate_user(user_id: uuid.UUID, actor: ManagerUser, session: SessionDep, ctx: ContextDep) -> UserRead:
    """Deactivate (users are never deleted: the audit trail points at them). Never the last owner."""
    return UserRead.model_validate(await users.deactivate(session, ctx, actor, user_id))
