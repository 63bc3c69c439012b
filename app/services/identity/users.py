"""Users of a tenant: profile, roles, deactivation. A tenant always keeps an active owner."""

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.context import Context
from app.core.errors import Conflict, Forbidden, NotFound
from app.models.identity.user import User, UserRole
from app.repositories.identity.invitations import InvitationRepository
from app.repositories.identity.sessions import SessionRepository
from app.repositories.identity.users import UserRepository
from app.services.platform import audit, entitlements

USER_FIELDS = ["email", "full_name", "role", "is_active", "email_verified_at"]


MANAGERS = (UserRole.owner, UserRole.admin)


def may_grant(actor: User, role: str) -> bool:
    """An active owner grants any role, an active admin any but owner; nobody else grants."""
    return actor.is_active and actor.role in MANAGERS and (role != UserRole.owner or actor.role == UserRole.owner)


def ensure_may_grant(actor: User, role: str) -> None:
    """Only an owner may hand out (or take away) the owner role."""
    if not may_grant(actor, role):
        raise Forbidden("Only an owner can grant the owner role.", code="owner-only")


def require_verified(user: User, action: str) -> None:
    """Inviting and paying need a verified email: a never-verified account may be a squatter on
    someone else's address (it registered it, never proved it reads its mail)."""
    if user.email_verified_at is None:
        raise Forbidden(f"Verify your email address before you {action}.", code="email-unverified")


async def get(session: AsyncSession, user_id: uuid.UUID) -> User:
    user = await UserRepository(session).get(user_id)
    if user is None:
        raise NotFound("User not found.")
    return user


async def update_me(session: AsyncSession, user: User, *, full_name: str | None) -> User:
    """The caller's own profile. The login email changes through app.services.identity.email_change."""
    if full_name is None or full_name == user.full_name:
        return user
    before = audit.snapshot(user, USER_FIELDS)
    user.full_name = full_name
    await session.flush()
    await audit.record(
        session,
        action="user.updated",
        entity_type="user",
        entity_id=user.id,
        before=before,
        after=audit.snapshot(user, USER_FIELDS),
    )
    return user


async def update(
    session: AsyncSession, ctx: Context, actor: User, user_id: uuid.UUID, *, role: str | None, is_active: bool | None
) -> User:
    repo = UserRepository(session)
    await repo.lock_owners()
    user = await get(session, user_id)
    if UserRole.owner in (user.role, role):
        ensure_may_grant(actor, UserRole.owner)
    if is_active and not user.is_active:
        await entitlements.require(session, ctx, entitlements.Limit.active_users)
    before = audit.snapshot(user, USER_FIELDS)
    if role is not None:
        user.role = role
    if is_active is not None:
        user.is_active = is_active
    await session.flush()
    if await repo.count_active_owners() == 0:
        raise Conflict("A tenant must keep at least one active owner.", code="last-owner")
    if not user.is_active:
        await SessionRepository(session).revoke_user(user.id, ctx.now)
    await expire_invitations_from(session, ctx, user)
    await audit.record(
        session,
        action="user.updated",
        entity_type="user",
        entity_id=user.id,
        before=before,
        after=audit.snapshot(user, USER_FIELDS),
    )
    return user


async def expire_invitations_from(session: AsyncSession, ctx: Context, inviter: User) -> None:
    """After `inviter` was deactivated or changed role: end the pending invitations they may no longer grant."""
    refused = [role for role in UserRole if not may_grant(inviter, role)]
    if refused:
        await InvitationRepository(session).expire_pending(ctx.now, invited_by=inviter.id, roles=refused)


async def deactivate(session: AsyncSession, ctx: Context, actor: User, user_id: uuid.UUID) -> User:
    return await update(session, ctx, actor, user_id, role=None, is_active=False)
