"""Changing a user's login email: the current password, a confirmation by the new address, a
notice (with a cancel link) to the old one. Until the new address confirms, the old one logs in.

The answer to a request is the same whether or not the new address already has an account (in
this tenant or another): that address is mailed what happened instead, so the API never tells
anyone which addresses are registered.
"""

import uuid
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.context import Context
from app.core.errors import Conflict, InvalidSingleUseToken
from app.core.security import new_opaque_token, token_digest
from app.models.identity.auth import EmailChange, EmailVerification, PasswordReset
from app.models.identity.user import User
from app.repositories.identity.email_changes import EmailChangeRepository
from app.repositories.identity.sessions import SessionRepository
from app.repositories.identity.tokens import SingleUseTokenRepository
from app.repositories.identity.users import IdentityRepository, UserRepository
from app.services.identity import passwords
from app.services.identity.rate_limit import Limit, consume
from app.services.identity.users import USER_FIELDS
from app.services.identity.verification import bind_token_tenant
from app.services.platform import audit, mail


async def request(
    session: AsyncSession,
    ctx: Context,
    user: User,
    *,
    new_email: str,
    current_password: str | None,
    session_id: uuid.UUID,
) -> None:
    """Start a change (the caller's email stays as it is). The same email again is no change."""
    await passwords.check_current(session, ctx, user, current_password)
    new_email = new_email.lower()
    if new_email == user.email:
        return
    now, s = ctx.now, ctx.settings
    await consume(
        session, [Limit("email-change:user", str(user.id), s.reset_limit_per_email, s.reset_window_seconds)], now
    )
    repo = EmailChangeRepository(session)
    await repo.cancel_pending_for_user(user.id, now)
    token, cancel_token = new_opaque_token(user.tenant_id), new_opaque_token(user.tenant_id)
    current = await SessionRepository(session).get(session_id)
    hours = s.email_change_token_hours
    change = await repo.add(
        EmailChange(
            user_id=user.id,
            old_email=user.email,
            new_email=new_email,
            token_hash=token_digest(token),
            cancel_token_hash=token_digest(cancel_token),
            requested_by_family_id=current.family_id if current else None,
            expires_at=now + timedelta(hours=hours),
        )
    )
    await audit.record(
        session,
        action="user.email_change_requested",
        entity_type="user",
        entity_id=user.id,
        after={"change_id": str(change.id), "new_email": new_email},
    )
    links = s.email_link_base
    if await IdentityRepository(session).find(new_email) is None:
        await mail.enqueue(
            session,
            ctx,
            to=new_email,
            template="email_change_confirm",
            full_name=user.full_name,
            hours=hours,
            link=f"{links}/confirm-email-change?token={token}",
        )
    else:
        await mail.enqueue(
            session, ctx, to=new_email, template="email_change_taken", reset_link=f"{links}/forgot-password"
        )
    await mail.enqueue(
        session,
        ctx,
        to=user.email,
        template="email_change_notice",
        full_name=user.full_name,
        new_email=new_email,
        hours=hours,
        cancel_link=f"{links}/cancel-email-change?token={cancel_token}",
    )


async def confirm(session: AsyncSession, ctx: Context, *, token: str) -> User:
    """The new address confirms: it becomes the login email (verified), the global email map
    follows, links mailed to the old address die, and every other session is logged out."""
    await bind_token_tenant(session, token)
    now = ctx.now
    change = await EmailChangeRepository(session).confirm(token_digest(token), now)
    if change is None:
        raise InvalidSingleUseToken()
    user = await UserRepository(session).get(change.user_id)
    if user is None or not user.is_active or user.email != change.old_email:
        raise InvalidSingleUseToken()
    if not await IdentityRepository(session).rename(change.old_email, change.new_email):
        raise Conflict("This email address already belongs to an account.", code="email-taken")
    audit.set_actor(session, user.id)
    before = audit.snapshot(user, USER_FIELDS)
    user.email = change.new_email
    user.email_verified_at = now
    await session.flush()
    # one call per model: the repository's type variable is constrained to each model, not their union
    await SingleUseTokenRepository(session, EmailVerification).expire_for_user(user.id, now)
    await SingleUseTokenRepository(session, PasswordReset).expire_for_user(user.id, now)
    await SessionRepository(session).revoke_user(user.id, now, except_family=change.requested_by_family_id)
    await audit.record(
        session,
        action="user.email_changed",
        entity_type="user",
        entity_id=user.id,
        before=before,
        after=audit.snapshot(user, USER_FIELDS),
    )
    await mail.enqueue(
        session,
        ctx,
        to=change.old_email,
        template="email_changed",
        full_name=user.full_name,
        new_email=change.new_email,
    )
    return user


async def cancel(session: AsyncSession, ctx: Context, *, token: str) -> None:
    """The old address reports a change it did not ask for: the change dies and every session of
    the user is logged out (whoever asked knew the password: the mail says to choose a new one)."""
    await bind_token_tenant(session, token)
    now = ctx.now
    change = await EmailChangeRepository(session).cancel(token_digest(token), now)
    if change is None:
        raise InvalidSingleUseToken()
    audit.set_actor(session, change.user_id)
    await SessionRepository(session).revoke_user(change.user_id, now)
    await audit.record(
        session,
        action="user.email_change_cancelled",
        entity_type="user",
        entity_id=change.user_id,
        after={"change_id": str(change.id), "new_email": change.new_email},
    )
