import re
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status
from fastapi.responses import RedirectResponse
from fastapi.security import OAuth2PasswordRequestForm

from app.api.deps import PUBLIC, ClaimsDep, ContextDep, CurrentUser, SessionDep
from app.schemas.common import EMAIL_PATTERN, Accepted, problem_responses
from app.schemas.identity.auth import (
    AcceptInviteRequest,
    ChangePasswordRequest,
    EmailRequest,
    LoginRequest,
    OpaqueToken,
    RefreshRequest,
    RegisterRequest,
    ResetPasswordRequest,
    TokenRequest,
    TokenResponse,
)
from app.schemas.identity.users import UserRead
from app.services.identity import auth, email_change, invitations, passwords, verification

router = APIRouter(prefix="/auth", tags=["auth"], responses=problem_responses(422, 429))

REGISTERED = Accepted(detail="If this email can be registered, a verification email is on its way.")
RESET_SENT = Accepted(detail="If this email belongs to an account, a reset link is on its way.")


@router.post("/register", status_code=status.HTTP_202_ACCEPTED, response_model=Accepted, openapi_extra=PUBLIC)
async def register(body: RegisterRequest, session: SessionDep, ctx: ContextDep) -> Accepted:
    """Create a business (tenant) and its owner; the 14-day trial starts now. Answers the same
    whether or not the email is already registered."""
    await auth.register(
        session,
        ctx,
        email=body.email,
        password=body.password,
        full_name=body.full_name,
        business_name=body.business_name,
        phone=body.phone,
    )
    return REGISTERED


@router.post("/login", response_model=TokenResponse, responses=problem_responses(401), openapi_extra=PUBLIC)
async def login(body: LoginRequest, session: SessionDep, ctx: ContextDep) -> TokenResponse:
    pair = await auth.login(session, ctx, email=body.email, password=body.password)
    return TokenResponse(**pair.__dict__)


@router.post("/token", response_model=TokenResponse, responses=problem_responses(401), openapi_extra=PUBLIC)
async def token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()], session: SessionDep, ctx: ContextDep
) -> TokenResponse:
    """OAuth2 password form (username = email), for the Swagger UI "Authorize" button."""
    if not re.match(EMAIL_PATTERN, form.username) or len(form.password) > 200 or "\x00" in form.password:
        raise auth.invalid_credentials()  # the form is unvalidated: answer as for any failed login
    pair = await auth.login(session, ctx, email=form.username.lower(), password=form.password)
    return TokenResponse(**pair.__dict__)


@router.post("/refresh", response_model=TokenResponse, responses=problem_responses(401), openapi_extra=PUBLIC)
async def refresh(body: RefreshRequest, session: SessionDep, ctx: ContextDep) -> TokenResponse:
    pair = await auth.refresh(session, ctx, refresh_token=body.refresh_token)
    return TokenResponse(**pair.__dict__)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, responses=problem_responses(401))
async def logout(user: CurrentUser, claims: ClaimsDep, session: SessionDep, ctx: ContextDep) -> None:
    await auth.logout(session, ctx, session_id=claims.session_id)


@router.post("/verify-email", response_model=UserRead, responses=problem_responses(400), openapi_extra=PUBLIC)
async def verify_email(body: TokenRequest, session: SessionDep, ctx: ContextDep) -> UserRead:
    return UserRead.model_validate(await verification.verify(session, ctx, token=body.token))


@router.get("/verify-email", include_in_schema=False)
async def verify_email_link(token: Annotated[OpaqueToken, Query()]) -> RedirectResponse:
    """Verification links mailed before the pages existed lead to the page. A GET never redeems
    the token (mail scanners open every link): the page's button POSTs it."""
    return RedirectResponse(f"/pages/verify-email?token={token}", status_code=status.HTTP_303_SEE_OTHER)


@router.post(
    "/resend-verification",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Accepted,
    responses=problem_responses(401),
)
async def resend_verification(user: CurrentUser, session: SessionDep, ctx: ContextDep) -> Accepted:
    await verification.resend(session, ctx, user)
    return Accepted(detail="If your email is not verified yet, a new link is on its way.")


@router.post("/forgot-password", status_code=status.HTTP_202_ACCEPTED, response_model=Accepted, openapi_extra=PUBLIC)
async def forgot_password(body: EmailRequest, session: SessionDep, ctx: ContextDep) -> Accepted:
    await passwords.forgot(session, ctx, email=body.email)
    return RESET_SENT


@router.post(
    "/reset-password", status_code=status.HTTP_204_NO_CONTENT, responses=problem_responses(400), openapi_extra=PUBLIC
)
async def reset_password(body: ResetPasswordRequest, session: SessionDep, ctx: ContextDep) -> None:
    """Set a new password with the mailed token; every session of the user is logged out."""
    await passwords.reset(session, ctx, token=body.token, new_password=body.new_password)


@router.post("/change-password", status_code=status.HTTP_204_NO_CONTENT, responses=problem_responses(400, 401))
async def change_password(
    body: ChangePasswordRequest, user: CurrentUser, claims: ClaimsDep, session: SessionDep, ctx: ContextDep
) -> None:
    """Every other session of the user is logged out; this one stays."""
    await passwords.change(
        session,
        ctx,
        user,
        session_id=claims.session_id,
        current_password=body.current_password,
        new_password=body.new_password,
    )


@router.post(
    "/confirm-email-change", response_model=UserRead, responses=problem_responses(400, 409), openapi_extra=PUBLIC
)
async def confirm_email_change(body: TokenRequest, session: SessionDep, ctx: ContextDep) -> UserRead:
    """The token mailed to the new address (PATCH /users/me): the new address becomes the login
    email, verified; every other session of the user is logged out and the old address is told.
    A POST, so that a mail scanner opening the link cannot consume it."""
    return UserRead.model_validate(await email_change.confirm(session, ctx, token=body.token))


@router.post(
    "/cancel-email-change",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(400),
    openapi_extra=PUBLIC,
)
async def cancel_email_change(body: TokenRequest, session: SessionDep, ctx: ContextDep) -> None:
    """The token mailed to the old address: the pending change dies and every session of the user
    is logged out (report: whoever asked knew the password)."""
    await email_change.cancel(session, ctx, token=body.token)


@router.post(
    "/accept-invite",
    status_code=status.HTTP_201_CREATED,
    response_model=TokenResponse,
    responses=problem_responses(400, 402, 409),
    openapi_extra=PUBLIC,
)
async def accept_invite(body: AcceptInviteRequest, session: SessionDep, ctx: ContextDep) -> TokenResponse:
    """Join the inviting tenant; answers with tokens, so the new user is logged in."""
    pair = await invitations.accept(session, ctx, token=body.token, full_name=body.full_name, password=body.password)
    return TokenResponse(**pair.__dict__)
