"""Email verification: a single-use token mailed at sign-up (and on request)."""

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.context import Context
from app.core.errors import InvalidSingleUseToken
from app.core.security import new_opaque_token, tenant_of_opaque_token, token_digest
from app.core.tenancy import bind_tenant
from app.models.identity.auth import EmailVerification
from app.models.identity.user import User
from app.models.platform.tenant import Tenant
from app.repositories.identity.tokens import SingleUseTokenRepository
from app.repositories.identity.users import UserRepository
from app.services.identity.rate_limit import Limit, consume
from app.services.platform import audit, mail, tenants


async def bind_token_tenant(session: AsyncSession, token: str) -> None:
    """Bind the tenant a single-use token carries in its first bytes, before its hash is looked up."""
    tenant_id = tenant_of_opaque_token(token)
    if tenant_id is None:
        raise InvalidSingleUseToken()
    await bind_tenant(session, tenant_id)


async def send(session: AsyncSession, ctx: Context, user: User, tenant: Tenant) -> None:
    now = ctx.now
    repo = SingleUseTokenRepository(session, EmailVerification)
    await repo.expire_for_user(user.id, now)
    token = new_opaque_token(user.tenant_id)
    hours = ctx.settings.verification_token_hours
    await repo.add(
        EmailVerification(user_id=user.id, token_hash=token_digest(token), expires_at=now + timedelta(hours=hours))
    )
    await mail.enqueue(
        session,
        ctx,
        to=user.email,
        template="verify_email",
        full_name=user.full_name,
        business_name=tenant.business_name,
        hours=hours,
        link=f"{ctx.settings.email_link_base}/verify-email?token={token}",
    )


async def resend(session: AsyncSession, ctx: Context, user: User) -> None:
    if user.email_verified_at is not None:
        return
    s = ctx.settings
    await consume(
        session, [Limit("verify:user", str(user.id), s.reset_limit_per_email, s.reset_window_seconds)], ctx.now
    )
    await send(session, ctx, user, await tenants.get_own(session, user))
    await audit.record(session, action="user.verification_resent", entity_type="user", entity_id=user.id)


async def verify(session: AsyncSession, ctx: Context, *, token: str) -> User:
    await bind_token_tenant(session, token)
    now = ctx.now
    redeemed = await SingleUseTokenRepository(session, EmailVerification).redeem(token_digest(token), now)
    if redeemed is None:
        raise InvalidSingleUseToken()
    user = await UserRepository(session).get(redeemed.user_id)
    if user is None:  # the token's user is gone (users are never deleted: not expected)
        raise InvalidSingleUseToken()
    audit.set_actor(session, user.id)
    user.email_verified_at = now
    await audit.record(session, action="user.email_verified", entity_type="user", entity_id=user.id)
    return user
