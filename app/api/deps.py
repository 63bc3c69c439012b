"""Dependencies shared by the routers: session, runtime, the request's context, current user, roles
(and the locked subscription check for writes), pagination.

Dependencies are `async def`: FastAPI runs a plain `def` in a worker thread, a costly hop.
"""

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.context import Context
from app.core.counting import COUNT_CAP, open_count
from app.core.database import get_session
from app.core.errors import Forbidden, Unauthorized
from app.core.runtime import Runtime
from app.core.security import AccessClaims
from app.core.tenancy import bind_tenant
from app.models.identity.user import User, UserRole
from app.repositories.identity.sessions import SessionRepository
from app.schemas.common import problem_responses
from app.services.platform import audit, subscriptions

# scope="function": the session commits when the route returns, before the response is sent.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


async def get_runtime(request: Request) -> Runtime:
    return request.app.state.runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_context(request: Request, rt: RuntimeDep) -> Context:
    """The request's one context: its single `now` (the app's clock, read once), and the tenant and
    user of the verified token when there is one. FastAPI builds it once per request, so every
    dependency and the route share it (and its memo: the locked check runs once)."""
    claims: AccessClaims | None = request.scope.get("state", {}).get("auth")
    if claims is None:
        return rt.context()
    return rt.context(tenant_id=claims.tenant_id, actor_id=claims.user_id)


ContextDep = Annotated[Context, Depends(get_context)]


# Declared for OpenAPI (the Swagger "Authorize" button); TenantContextMiddleware verifies the token.
oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


async def get_claims(request: Request, _: Annotated[str | None, Depends(oauth2_scheme)]) -> AccessClaims:
    claims = request.scope.get("state", {}).get("auth")
    if claims is None:
        raise Unauthorized("A valid bearer token is required.")
    return claims


ClaimsDep = Annotated[AccessClaims, Depends(get_claims)]


async def get_current_user(session: SessionDep, claims: ClaimsDep) -> User:
    """Bind the token's tenant, then load the user: active, and its session not logged out."""
    await bind_tenant(session, claims.tenant_id)
    user = await SessionRepository(session).active_user(claims.user_id, claims.session_id)
    if user is None:
        raise Unauthorized("The session has ended; log in again.")
    audit.set_actor(session, user.id)
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class RequireRole:
    """`Depends(RequireRole(UserRole.owner, UserRole.admin))`: the user, if their role is allowed.

    On a write (any method but GET/HEAD/OPTIONS) it also refuses a locked subscription (402
    `subscription-locked`, hard_lock mode after grace): every route that writes tenant data goes
    through here. Auth routes and PATCH /users/me (one's own profile) do not, so they keep working.
    `allow_locked=True` skips the lock check: for billing and upgrade (`BillingUser`), which must keep
    working on a locked subscription since paying is how it is unlocked.
    """

    def __init__(self, *roles: UserRole, allow_locked: bool = False) -> None:
        self.roles = {r.value for r in roles}
        self.allow_locked = allow_locked

    async def __call__(self, request: Request, user: CurrentUser, session: SessionDep, ctx: ContextDep) -> User:
        if user.role not in self.roles:
            raise Forbidden("Your role does not allow this.", code="role-forbidden")
        if request.method not in SAFE_METHODS and not self.allow_locked:
            await subscriptions.ensure_writable(session, ctx)
        return user


def _checks_roles(dependant: Dependant) -> bool:
    return any(_refuses_locked(d.call) or _checks_roles(d) for d in dependant.dependencies)


def _refuses_locked(call: object) -> bool:
    return isinstance(call, RequireRole) and not call.allow_locked


def declare_payment_required(router: APIRouter) -> None:
    """Document 402 on the router's writes behind RequireRole (locked subscription, plan limit).
    Call it on a router that holds its routes, before including it elsewhere."""
    for route in router.routes:
        if isinstance(route, APIRoute) and route.methods - SAFE_METHODS and _checks_roles(route.dependant):
            route.responses.setdefault(402, problem_responses(402)[402])


# `openapi_extra=PUBLIC` marks an operation that needs no bearer token. Every other operation states
# its roles in the spec (`x-roles` and its description), derived from its RequireRole/CurrentUser
# dependency by declare_roles; tests/security/test_role_matrix.py tries each one with every role.
PUBLIC = {"x-public": True}


def required_roles(dependant: Dependant) -> list[str] | None:
    """The roles a route admits: its RequireRole's, every role for any signed-in user, None if it
    asks for no user (public)."""
    for dep in dependant.dependencies:
        if isinstance(dep.call, RequireRole):
            return [role.value for role in UserRole if role.value in dep.call.roles]
    for dep in dependant.dependencies:
        if dep.call is get_current_user:
            return [role.value for role in UserRole]
        inner = required_roles(dep)
        if inner is not None:
            return inner
    return None


def declare_roles(router: APIRouter) -> None:
    """Put each operation's roles in the spec: `x-roles` and a line of its description."""
    for route in _api_routes(router):
        extra = route.openapi_extra or {}
        roles = required_roles(route.dependant)
        if roles is None:
            note = "Public: no bearer token." if extra.get("x-public") else None
        else:
            route.openapi_extra = {**extra, "x-roles": roles}
            note = f"Roles: {', '.join(roles)}."
        if note and note not in (route.description or ""):
            route.description = f"{route.description}\n\n{note}" if route.description else note


def _api_routes(router: APIRouter):
    for route in router.routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):  # a router included in this one
            yield from _api_routes(route.original_router)


OwnerUser = Annotated[User, Depends(RequireRole(UserRole.owner))]
ManagerUser = Annotated[User, Depends(RequireRole(UserRole.owner, UserRole.admin))]
WriterUser = Annotated[User, Depends(RequireRole(UserRole.owner, UserRole.admin, UserRole.accountant))]
# Owner/admin, answered even when the subscription is locked: paying for a plan is how it unlocks.
BillingUser = Annotated[User, Depends(RequireRole(UserRole.owner, UserRole.admin, allow_locked=True))]
# The owner, answered even when locked: the subscription's own settings (cancel/resume answer 409 there).
BillingOwner = Annotated[User, Depends(RequireRole(UserRole.owner, allow_locked=True))]


@dataclass(frozen=True)
class Pagination:
    limit: int
    cursor: str | None
    count: bool = False


async def get_pagination(
    limit: Annotated[int, Query(ge=1, le=100, description="Page size (max 100).")] = 20,
    cursor: Annotated[
        str | None,
        Query(max_length=4096, pattern=r"^[A-Za-z0-9_-]+$", description="`next_cursor` of the previous page."),
    ] = None,
    count: Annotated[
        bool,
        Query(description=f"true: the page also carries `total` (matches over all pages, capped at {COUNT_CAP:,})."),
    ] = False,
) -> Pagination:
    open_count(count)
    return Pagination(limit=limit, cursor=cursor, count=count)


PaginationDep = Annotated[Pagination, Depends(get_pagination)]
