"""Forgot / reset / change password. Reset and change revoke refresh tokens."""

import uuid
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.context import Context
from app.core.database import independent_session
from app.core.errors import InvalidSingleUseToken, WrongPassword
from app.core.security import hash_password, new_opaque_token, token_digest, verify_password
from app.core.tenancy import bind_tenant
from app.models.identity.auth import PasswordReset
from app.models.identity.user import User, UserRole
from app.repositories.identity.email_changes import EmailChangeRepository
from app.repositories.identity.invitations import InvitationRepository
from app.repositories.identity.sessions import SessionRepository
from app.repositories.identity.tokens import SingleUseTokenRepository
from app.repositories.identity.users import IdentityRepository, UserRepository
from app.services.identity.rate_limit import Limit, consume, refund, reserve
from app.services.identity.verification import bind_token_tenant
from app.services.platform import audit, mail


async def check_current(session: AsyncSession, ctx: Context, user: User, password: str | None) -> None:
    """The current password, required for every credential change (password, email). Failed
    checks count per user like failed logins, so a stolen access token cannot guess it."""
    if password is None:
        raise WrongPassword("The current password is required for this change.")
    s, now = ctx.settings, ctx.now
    limits = [Limit("password-check:user", str(user.id), s.password_check_limit, s.login_window_seconds)]
    async with independent_session(ctx.db) as counter:
        await reserve(counter, limits, now)
    if not await verify_password(password, user.password_hash, s.bcrypt_rounds):
        raise WrongPassword()
    async with independent_session(ctx.db) as counter:  # a right password never counts, whatever follows
        await refund(counter, limits, now)


async def _notify_changed(session: AsyncSession, ctx: Context, user: User, *, how: str, sessions: str) -> None:
    await mail.enqueue(
        session,
        ctx,
        to=user.email,
        template="password_changed",
        full_name=user.full_name,
        how=how,
        sessions=sessions,
        reset_link=f"{ctx.settings.email_link_base}/forgot-password",
    )


def reset_limits(ctx: Context, email: str, ip: str | None) -> list[Limit]:
    s = ctx.settings
    return [
        Limit("reset:email", email.lower(), s.reset_limit_per_email, s.reset_window_seconds),
        Limit("reset:ip", ip or "unknown", s.reset_limit_per_ip, s.reset_window_seconds),
    ]


async def forgot(session: AsyncSession, ctx: Context, *, email: str) -> None:
    """Mail a reset link if the email belongs to an active user; answer the same either way."""
    now = ctx.now
    await consume(session, reset_limits(ctx, email, session.info.get("ip")), now)
    identity = await IdentityRepository(session).find(email)
    if identity is None:
        return
    await bind_tenant(session, identity.tenant_id)
    user = await UserRepository(session).get(identity.user_id)
    if user is None or not user.is_active:
        return
    repo = SingleUseTokenRepository(session, PasswordReset)
    await repo.expire_for_user(user.id, now)
    token = new_opaque_token(user.tenant_id)
    minutes = ctx.settings.reset_token_minutes
    await repo.add(
        PasswordReset(user_id=user.id, token_hash=token_digest(token), expires_at=now + timedelta(minutes=minutes))
    )
    audit.set_actor(session, user.id)
    await audit.record(session, action="auth.password_reset_requested", entity_type="user", entity_id=user.id)
    await mail.enqueue(
        session,
        ctx,
        to=user.email,
        template="password_reset",
        full_name=user.full_name,
        minutes=minutes,
        link=f"{ctx.settings.email_link_base}/reset-password?token={token}",
    )


async def reset(session: AsyncSession, ctx: Context, *, token: str, new_password: str) -> None:
    await bind_token_tenant(session, token)
    now = ctx.now
    repo = SingleUseTokenRepository(session, PasswordReset)
    redeemed = await repo.redeem(token_digest(token), now)
    if redeemed is None:
        raise InvalidSingleUseToken()
    user = await UserRepository(session).get(redeemed.user_id)
    if user is None or not user.is_active:
        raise InvalidSingleUseToken()
    audit.set_actor(session, user.id)
    user.password_hash = await hash_password(new_password, ctx.settings.bcrypt_rounds)
    await repo.expire_for_user(user.id, now)
    await SessionRepository(session).revoke_user(user.id, now)
    await EmailChangeRepository(session).cancel_pending_for_user(user.id, now)  # asked for with the old password
    await audit.record(session, action="auth.password_reset", entity_type="user", entity_id=user.id)
    await _notify_changed(session, ctx, user, how="reset with a link sent to this address", sessions="all sessions")
    if user.email_verified_at is None:
        await _first_proof_of_address(session, ctx, user)


async def _first_proof_of_address(session: AsyncSession, ctx: Context, user: User) -> None:
    """A reset link came by mail, so redeeming it verifies the address. Until then anyone could have
    registered it (pre-registration takeover): when a never-verified owner resets, everyone else who
    got into the business before the address was proven is deactivated and logged out, and pending
    invitations end. The person who owns the mailbox starts from a business only they can enter."""
    now = ctx.now
    user.email_verified_at = now
    await audit.record(session, action="user.email_verified", entity_type="user", entity_id=user.id)
    if user.role != UserRole.owner:
        return
    others = await UserRepository(session).deactivate_all_but(user.id)
    sessions = SessionRepository(session)
    for other in others:
        await sessions.revoke_user(other, now)
    expired = await InvitationRepository(session).expire_pending(now)
    await audit.record(
        session,
        action="tenant.unverified_owner_reclaimed",
        entity_type="user",
        entity_id=user.id,
        after={"deactivated_users": [str(i) for i in others], "expired_invitations": expired},
    )


async def change(
    session: AsyncSession,
    ctx: Context,
    user: User,
    *,
    session_id: uuid.UUID,
    current_password: str,
    new_password: str,
) -> None:
    """Change the password; every other session of the user is logged out, the address is told."""
    await check_current(session, ctx, user, current_password)
    user.password_hash = await hash_password(new_password, ctx.settings.bcrypt_rounds)
    sessions = SessionRepository(session)
    current = await sessions.get(session_id)
    await sessions.revoke_user(user.id, ctx.now, except_family=current.family_id if current else None)
    await EmailChangeRepository(session).cancel_pending_for_user(user.id, ctx.now)  # asked with the old password
    await audit.record(session, action="auth.password_changed", entity_type="user", entity_id=user.id)
    await _notify_changed(session, ctx, user, how="changed by a signed-in user", sessions="your other sessions")
