"""Inviting users into a tenant, listing and revoking invitations, and accepting one.

An invitation counts against the plan's users limit while it is pending. It stops working when it
is revoked, when its inviter is deactivated or can no longer grant its role (demoted), and accept
checks the inviter again. Only a verified email may invite (a never-verified registration could
be someone else's address).
"""

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.context import Context
from app.core.errors import Conflict, InvalidSingleUseToken, NotFound
from app.core.security import hash_password, new_opaque_token, token_digest
from app.models.base import new_id
from app.models.identity.auth import UserInvitation
from app.models.identity.user import User
from app.repositories.identity.invitations import InvitationRepository
from app.repositories.identity.tokens import SingleUseTokenRepository
from app.repositories.identity.users import IdentityRepository, UserRepository
from app.services.identity.rate_limit import Limit, consume
from app.services.identity.sessions import TokenPair, issue
from app.services.identity.users import USER_FIELDS, ensure_may_grant, may_grant, require_verified
from app.services.identity.verification import bind_token_tenant
from app.services.platform import audit, entitlements, mail, tenants


def _email_taken() -> Conflict:
    return Conflict("A user with this email already exists.", code="email-taken")


def invite_limits(ctx: Context, inviter: User) -> list[Limit]:
    s = ctx.settings
    return [Limit("invite:tenant", str(inviter.tenant_id), s.invite_limit_per_tenant, s.invite_window_seconds)]


async def invite(session: AsyncSession, ctx: Context, inviter: User, *, email: str, role: str) -> UserInvitation:
    """Invite `email`. An address registered in another tenant is answered exactly as a free one
    (201, same body): only its mail differs (it says the address already has an account), so no
    tenant can learn whether an address is registered elsewhere. A member of this tenant is a 409."""
    require_verified(inviter, "invite users")
    ensure_may_grant(inviter, role)
    email = email.lower()
    now = ctx.now
    await consume(session, invite_limits(ctx, inviter), now)
    identity = await IdentityRepository(session).find(email)
    if identity is not None and identity.tenant_id == inviter.tenant_id:
        raise _email_taken()  # a member here: the inviter can list the users anyway
    repo = InvitationRepository(session)
    await repo.expire_pending(now, email=email)  # a new invitation replaces an earlier one
    await entitlements.require(session, ctx, entitlements.Limit.active_users)
    token = new_opaque_token(inviter.tenant_id)
    days = ctx.settings.invite_token_days
    invitation = await repo.add(
        UserInvitation(
            email=email,
            role=role,
            invited_by=inviter.id,
            token_hash=token_digest(token),
            expires_at=now + timedelta(days=days),
        )
    )
    tenant = await tenants.get_own(session, inviter)
    await audit.record(
        session,
        action="user.invited",
        entity_type="user_invitation",
        entity_id=invitation.id,
        after={"email": email, "role": role},
    )
    context: dict[str, Any] = {"inviter": inviter.full_name, "business_name": tenant.business_name, "role": role}
    if identity is not None:  # registered in another tenant: say so to the address, not to the inviter
        await mail.enqueue(session, ctx, to=email, template="invitation_existing_account", **context)
        return invitation
    await mail.enqueue(
        session,
        ctx,
        to=email,
        template="invitation",
        days=days,
        link=f"{ctx.settings.email_link_base}/accept-invite?token={token}",
        **context,
    )
    return invitation


async def list_page(
    session: AsyncSession, ctx: Context, *, limit: int, cursor: str | None, descending: bool, pending_only: bool
) -> tuple[list[UserInvitation], str | None]:
    return await InvitationRepository(session).list_page(
        limit=limit, cursor=cursor, descending=descending, pending_at=ctx.now if pending_only else None
    )


async def revoke(session: AsyncSession, ctx: Context, actor: User, invitation_id: uuid.UUID) -> UserInvitation:
    """Revoke a pending invitation (its link stops working). An admin cannot revoke an owner invitation."""
    repo = InvitationRepository(session)
    invitation = await repo.get(invitation_id)
    if invitation is None:
        raise NotFound("Invitation not found.")
    ensure_may_grant(actor, invitation.role)
    revoked = await repo.revoke(invitation_id, ctx.now)
    if revoked is None:
        raise Conflict("Only a pending invitation can be revoked.", code="invitation-not-pending")
    await session.refresh(invitation)
    await audit.record(
        session,
        action="user.invitation_revoked",
        entity_type="user_invitation",
        entity_id=invitation.id,
        after={"email": invitation.email, "role": invitation.role},
    )
    return invitation


async def accept(session: AsyncSession, ctx: Context, *, token: str, full_name: str, password: str) -> TokenPair:
    """Create the invited user (email counts as verified: the token came by mail) and log in."""
    await bind_token_tenant(session, token)
    now = ctx.now
    invitation = await SingleUseTokenRepository(session, UserInvitation).redeem(token_digest(token), now)
    if invitation is None:
        raise InvalidSingleUseToken()
    inviter = await UserRepository(session).get(invitation.invited_by)
    if inviter is None or not inviter.is_active or not may_grant(inviter, invitation.role):
        raise InvalidSingleUseToken()  # the inviter was deactivated or demoted since: the invitation lapsed
    await entitlements.require(session, ctx, entitlements.Limit.active_users)  # checked again: others may have joined
    user_id = new_id()
    if not await IdentityRepository(session).claim(invitation.email, invitation.tenant_id, user_id):
        raise _email_taken()
    audit.set_actor(session, user_id)
    user = await UserRepository(session).add(
        User(
            id=user_id,
            email=invitation.email,
            full_name=full_name,
            role=invitation.role,
            email_verified_at=now,
            password_hash=await hash_password(password, ctx.settings.bcrypt_rounds),
        )
    )
    await audit.record(
        session, action="user.joined", entity_type="user", entity_id=user.id, after=audit.snapshot(user, USER_FIELDS)
    )
    pair, _ = await issue(session, ctx, user)
    return pair
