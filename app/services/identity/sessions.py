"""Token pairs: a JWT access token plus a rotating opaque refresh token (one `sessions` row)."""

import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.context import Context
from app.core.errors import TenantClosed
from app.core.security import AccessClaims, create_access_token, new_opaque_token, token_digest
from app.models.base import new_id
from app.models.identity.auth import AuthSession
from app.models.identity.user import User
from app.repositories.identity.sessions import SessionRepository
from app.repositories.platform.tenants import TenantAccountRepository


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    token_type: str = "bearer"


async def ensure_tenant_open(session: AsyncSession, tenant_id: uuid.UUID) -> None:
    """403 `tenant-closed` when the (bound) tenant is closed for deletion. The row stays locked (key
    share) until the caller commits, so a closure waits for the session issued after this check and
    revokes it with the rest, or this check waits for the closure and sees it."""
    tenant = await TenantAccountRepository(session).get_shared(tenant_id)
    if tenant is not None and tenant.closed_at is not None:
        raise TenantClosed()


async def issue(
    session: AsyncSession,
    ctx: Context,
    user: User,
    *,
    family_id: uuid.UUID | None = None,
    parent_id: uuid.UUID | None = None,
    refresh_token: str | None = None,
) -> tuple[TokenPair, AuthSession]:
    """A new session row (refresh token: random unless given) and an access token bound to it.
    Refused for a closed tenant (POST /tenants/me/delete): 403 `tenant-closed`."""
    await ensure_tenant_open(session, user.tenant_id)
    now = ctx.now
    refresh_token = refresh_token or new_opaque_token(user.tenant_id)
    row = await SessionRepository(session).add(
        AuthSession(
            id=new_id(),
            user_id=user.id,
            family_id=family_id or new_id(),
            parent_id=parent_id,
            token_hash=token_digest(refresh_token),
            user_agent=session.info.get("user_agent"),
            ip=session.info.get("ip"),
            expires_at=now + timedelta(days=ctx.settings.refresh_token_days),
        )
    )
    return reissue(ctx, user, row, refresh_token), row


def reissue(ctx: Context, user: User, row: AuthSession, refresh_token: str) -> TokenPair:
    """A fresh access token for an existing session row, beside its (known) refresh token."""
    claims = AccessClaims(user_id=user.id, tenant_id=user.tenant_id, role=user.role, session_id=row.id)
    access_token = create_access_token(ctx.settings, claims, ctx.now)
    return TokenPair(access_token, refresh_token, ctx.settings.access_token_minutes * 60)
