"""Sign-up, login, refresh-token rotation and logout."""

import uuid
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.context import Context
from app.core.database import independent_session
from app.core.errors import Unauthorized
from app.core.security import (
    hash_password,
    successor_refresh_token,
    tenant_of_opaque_token,
    token_digest,
    verify_password,
)
from app.core.tenancy import bind_tenant
from app.models.base import new_id
from app.models.identity.auth import AuthSession
from app.models.identity.user import User, UserRole
from app.models.platform.tenant import Tenant
from app.repositories.identity.sessions import SessionRepository
from app.repositories.identity.users import IdentityRepository, UserRepository
from app.repositories.platform.tenants import TenantAccountRepository
from app.services.billing import business_defaults
from app.services.identity import verification
from app.services.identity.rate_limit import Limit, allow, consume, refund, reserve
from app.services.identity.sessions import TokenPair, ensure_tenant_open, issue, reissue
from app.services.identity.users import USER_FIELDS
from app.services.platform import audit, mail, subscriptions, usage

TENANT_FIELDS = ["name", "business_name", "contact_email", "contact_phone", "trial_start_date", "trial_end_date"]


def invalid_credentials() -> Unauthorized:
    return Unauthorized("Invalid email or password.", code="invalid-credentials")


def _invalid_refresh() -> Unauthorized:
    return Unauthorized("The refresh token is not valid.", code="invalid-refresh-token")


async def register(
    session: AsyncSession,
    ctx: Context,
    *,
    email: str,
    password: str,
    full_name: str,
    business_name: str,
    phone: str | None,
) -> None:
    """Create tenant + owner and start the trial (app.services.platform.subscriptions); for a taken email,
    mail its owner instead.

    Both paths hash the password, so they take the same time and answer the same.
    """
    email = email.lower()
    await consume(session, register_limits(ctx, email, session.info.get("ip")), ctx.now)
    password_hash = await hash_password(password, ctx.settings.bcrypt_rounds)
    tenant_id, user_id = new_id(), new_id()
    identities = IdentityRepository(session)
    if await identities.find(email) is not None:
        await _mail_existing_account(session, ctx, email)
        return
    await bind_tenant(session, tenant_id)  # an address is claimed for the bound tenant only (migration 0009)
    if not await identities.claim(email, tenant_id, user_id):
        return  # lost a race with a registration of the same address a moment ago: it answers the same
    audit.set_actor(session, user_id)
    tenant = await TenantAccountRepository(session).add(
        Tenant(
            id=tenant_id,
            name=business_name,
            business_name=business_name,
            contact_email=email,
            contact_phone=phone,
        )
    )
    subscription = await subscriptions.start_trial(session, ctx, tenant)  # sets the tenant's trial_* fields too
    await usage.open_first_periods(session, ctx, subscription)
    user = await UserRepository(session).add(
        User(id=user_id, email=email, full_name=full_name, password_hash=password_hash, role=UserRole.owner)
    )
    await audit.record(
        session,
        action="tenant.created",
        entity_type="tenant",
        entity_id=tenant.id,
        after=audit.snapshot(tenant, TENANT_FIELDS),
    )
    await audit.record(
        session, action="user.created", entity_type="user", entity_id=user.id, after=audit.snapshot(user, USER_FIELDS)
    )
    await business_defaults.seed(session)
    await verification.send(session, ctx, user, tenant)


async def _mail_existing_account(session: AsyncSession, ctx: Context, email: str) -> None:
    identity = await IdentityRepository(session).find(email)
    if identity is None:
        return
    await bind_tenant(session, identity.tenant_id)
    user = await UserRepository(session).get(identity.user_id)
    if user is None or not user.is_active:
        return
    await audit.record(session, action="auth.registration_repeated", entity_type="user", entity_id=user.id)
    s = ctx.settings
    if not await allow(session, Limit("register:mail", email, 1, s.register_window_seconds), ctx.now):
        return  # one "already registered" mail per window is enough
    await mail.enqueue(
        session,
        ctx,
        to=user.email,
        template="already_registered",
        full_name=user.full_name,
        reset_link=f"{ctx.settings.email_link_base}/forgot-password",
    )


def login_limits(ctx: Context, email: str, ip: str | None) -> list[Limit]:
    """Failed logins are counted per (email, IP) pair, per IP, and per email with a higher ceiling:
    a stranger's failures use up their own pair's attempts, so they cannot lock the owner out from
    one address; only many addresses together reach the email's ceiling."""
    s = ctx.settings
    ip = ip or "unknown"
    return [
        Limit("login:email-ip", f"{email.lower()}|{ip}", s.login_limit_per_email_ip, s.login_window_seconds),
        Limit("login:email", email.lower(), s.login_limit_per_email, s.login_window_seconds),
        Limit("login:ip", ip, s.login_limit_per_ip, s.login_window_seconds),
    ]


def register_limits(ctx: Context, email: str, ip: str | None) -> list[Limit]:
    s = ctx.settings
    return [
        Limit("register:email", email.lower(), s.register_limit_per_email, s.register_window_seconds),
        Limit("register:ip", ip or "unknown", s.register_limit_per_ip, s.register_window_seconds),
    ]


async def login(session: AsyncSession, ctx: Context, *, email: str, password: str) -> TokenPair:
    """Same status, body and (bcrypt-bound) time for an unknown email and a wrong password."""
    now = ctx.now
    limits = login_limits(ctx, email, session.info.get("ip"))
    async with independent_session(ctx.db) as counter:
        await reserve(counter, limits, now)
    user = await _find_user_by_email(session, email)
    usable_hash = user.password_hash if user is not None and user.is_active else None
    matches = await verify_password(password, usable_hash, ctx.settings.bcrypt_rounds)
    if user is None or not matches:
        raise invalid_credentials()
    await refund(session, limits, now)
    audit.set_actor(session, user.id)
    pair, row = await issue(session, ctx, user)
    await audit.record(session, action="auth.login", entity_type="session", entity_id=row.id)
    return pair


async def _find_user_by_email(session: AsyncSession, email: str) -> User | None:
    identity = await IdentityRepository(session).find(email)
    if identity is None:
        return None
    await bind_tenant(session, identity.tenant_id)
    return await UserRepository(session).get(identity.user_id)


async def refresh(session: AsyncSession, ctx: Context, *, refresh_token: str) -> TokenPair:
    """Rotate: the presented token dies, its successor joins the family. A dead token presented
    again means it was stolen (or replayed): the whole family is revoked, except within the reuse
    grace window (two tabs, a retried request), which gets the same successor again."""
    tenant_id = tenant_of_opaque_token(refresh_token)
    if tenant_id is None:
        raise _invalid_refresh()
    await bind_tenant(session, tenant_id)
    await ensure_tenant_open(session, tenant_id)
    now = ctx.now
    repo = SessionRepository(session)
    digest = token_digest(refresh_token)
    current = await repo.consume(digest, now)  # a concurrent rotation of the same token waits here
    if current is None:
        known = await repo.find_by_hash(digest)
        replayed = await _replay_within_grace(session, ctx, known, refresh_token)
        if replayed is not None:
            return replayed
        await _revoke_family_if_reused(ctx, tenant_id, known)
        raise _invalid_refresh()
    user = await UserRepository(session).get(current.user_id)
    if user is None or not user.is_active:
        raise _invalid_refresh()
    audit.set_actor(session, user.id)
    successor = successor_refresh_token(ctx.settings, refresh_token)
    pair, row = await issue(
        session, ctx, user, family_id=current.family_id, parent_id=current.id, refresh_token=successor
    )
    await repo.set_replaced_by(current.id, row.id)
    await audit.record(
        session, action="auth.refresh", entity_type="session", entity_id=row.id, after={"parent_id": str(current.id)}
    )
    return pair


async def _replay_within_grace(
    session: AsyncSession, ctx: Context, known: AuthSession | None, refresh_token: str
) -> TokenPair | None:
    """The rotated token's own successor again, with a new access token, when the token was rotated
    (not logged out) at most REFRESH_REUSE_GRACE_SECONDS ago and that successor is still the live
    end of the chain. Nothing new is stored: the successor is derived from the presented token."""
    now = ctx.now
    grace = timedelta(seconds=ctx.settings.refresh_reuse_grace_seconds)
    if known is None or known.replaced_by is None or known.revoked_at is None or now - known.revoked_at > grace:
        return None
    successor = await SessionRepository(session).get(known.replaced_by)
    if successor is None or successor.revoked_at is not None or successor.expires_at <= now:
        return None  # the successor was rotated in turn (a second-generation reuse) or logged out
    successor_token = successor_refresh_token(ctx.settings, refresh_token)
    if token_digest(successor_token) != successor.token_hash:
        return None  # JWT_SECRET changed since the rotation
    user = await UserRepository(session).get(successor.user_id)
    if user is None or not user.is_active:
        return None
    audit.set_actor(session, user.id)
    await audit.record(
        session,
        action="auth.refresh_replayed",
        entity_type="session",
        entity_id=successor.id,
        after={"parent_id": str(known.id)},
    )
    return reissue(ctx, user, successor, successor_token)


async def _revoke_family_if_reused(ctx: Context, tenant_id: uuid.UUID, known: AuthSession | None) -> None:
    if known is None or known.revoked_at is None:
        return
    async with independent_session(ctx.db, tenant_id) as side:
        await SessionRepository(side).revoke_family(known.family_id, ctx.now)
        audit.set_actor(side, known.user_id)
        await audit.record(
            side,
            action="auth.refresh_token_reused",
            entity_type="session",
            entity_id=known.id,
            after={"family_id": str(known.family_id)},
        )


async def logout(session: AsyncSession, ctx: Context, *, session_id: uuid.UUID) -> None:
    repo = SessionRepository(session)
    current = await repo.get(session_id)
    if current is None:
        return
    await repo.revoke_family(current.family_id, ctx.now)
    await audit.record(session, action="auth.logout", entity_type="session", entity_id=session_id)
