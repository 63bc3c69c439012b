"""Inviting users into a tenant and accepting an invitation."""

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import Conflict
from app.core.runtime import Runtime
from app.core.security import hash_password, new_opaque_token, tenant_of_opaque_token, token_digest
from app.core.tenancy import bind_tenant
from app.models.auth import UserInvitation
from app.models.base import new_id
from app.models.user import User
from app.repositories.tenants import TenantAccountRepository
from app.repositories.tokens import SingleUseTokenRepository
from app.repositories.users import IdentityRepository, UserRepository
from app.services import audit, entitlements, mail
from app.services.sessions import TokenPair, issue
from app.services.users import USER_FIELDS, ensure_may_grant
from app.services.verification import InvalidToken


def _email_taken() -> Conflict:
    return Conflict("A user with this email already exists.", code="email-taken")


async def invite(session: AsyncSession, rt: Runtime, inviter: User, *, email: str, role: str) -> UserInvitation:
    ensure_may_grant(inviter, role)
    email = email.lower()
    if await IdentityRepository(session).find(email) is not None:
        raise _email_taken()
    await entitlements.require(session, rt, entitlements.Limit.active_users)
    token = new_opaque_token(inviter.tenant_id)
    days = rt.settings.invite_token_days
    invitation = await SingleUseTokenRepository(session, UserInvitation).add(
        UserInvitation(
            email=email,
            role=role,
            invited_by=inviter.id,
            token_hash=token_digest(token),
            expires_at=rt.now() + timedelta(days=days),
        )
    )
    tenant = await TenantAccountRepository(session).get(inviter.tenant_id)
    await audit.record(
        session,
        action="user.invited",
        entity_type="user_invitation",
        entity_id=invitation.id,
        after={"email": email, "role": role},
    )
    await mail.enqueue(
        session,
        rt.db,
        rt.settings,
        to=email,
        template="invitation",
        inviter=inviter.full_name,
        business_name=tenant.business_name,
        role=role,
        days=days,
        link=f"{rt.settings.email_link_base}/accept-invite?token={token}",
    )
    return invitation


async def accept(session: AsyncSession, rt: Runtime, *, token: str, full_name: str, password: str) -> TokenPair:
    """Create the invited user (email counts as verified: the token came by mail) and log in."""
    tenant_id = tenant_of_opaque_token(token)
    if tenant_id is None:
        raise InvalidToken()
    await bind_tenant(session, tenant_id)
    now = rt.now()
    invitation = await SingleUseTokenRepository(session, UserInvitation).redeem(token_digest(token), now)
    if invitation is None:
        raise InvalidToken()
    await entitlements.require(session, rt, entitlements.Limit.active_users)  # checked again: others may have joined
    user_id = new_id()
    if not await IdentityRepository(session).claim(invitation.email, tenant_id, user_id):
        raise _email_taken()
    audit.set_actor(session, user_id)
    user = await UserRepository(session).add(
        User(
            id=user_id,
            email=invitation.email,
            full_name=full_name,
            role=invitation.role,
            email_verified_at=now,
            password_hash=await hash_password(password, rt.settings.bcrypt_rounds),
        )
    )
    await audit.record(
        session, action="user.joined", entity_type="user", entity_id=user.id, after=audit.snapshot(user, USER_FIELDS)
    )
    pair, _ = await issue(session, rt, user)
    return pair
