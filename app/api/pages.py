"""The pages behind the links in mail: GET /pages/<name>?token=... (EMAIL_LINK_BASE's default).

Opening a page changes nothing: mail security scanners open every link in a message, so a GET
that redeemed a single-use token would burn it before the person clicks. The page only shows a
form; its button POSTs the token (and any fields) as JSON to the API route named in `PAGES`, with
a small inline script, and shows the answer. No external assets; everything is escaped by Jinja2;
the Content-Security-Policy admits only this response's own script and style (by nonce) and
requests to this origin. The pages are not part of the API and not in the OpenAPI spec.

A new mailed link needs one entry in `PAGES` (and the mail's link `<EMAIL_LINK_BASE>/<name>?token=`).
"""

import secrets
from dataclasses import dataclass
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from pydantic import TypeAdapter, ValidationError

from app.core.errors import NotFound
from app.schemas.identity.auth import OpaqueToken

TEMPLATES = Path(__file__).resolve().parents[1] / "templates" / "pages"
_env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))
_token = TypeAdapter(OpaqueToken)


@dataclass(frozen=True)
class Input:
    name: str  # the JSON field of the API request
    label: str
    type: str = "text"  # the HTML input type
    autocomplete: str = "off"
    repeat: str | None = None  # label of a second input that must match (not sent)


@dataclass(frozen=True)
class LinkPage:
    title: str
    intro: str
    action: str  # the API route the button POSTs {"token": ..., <inputs>} to, as JSON
    button: str
    done: str  # shown when the API answers 2xx
    inputs: tuple[Input, ...] = ()
    token: bool = True  # the link carries ?token=


NEW_PASSWORD = Input("new_password", "New password", "password", "new-password", repeat="Repeat the new password")
PAGES: dict[str, LinkPage] = {
    "verify-email": LinkPage(
        "Verify your email",
        "Confirm that this email address is yours.",
        "/api/v1/auth/verify-email",
        "Verify my email",
        "Your email address is verified. You can close this page.",
    ),
    "reset-password": LinkPage(
        "Choose a new password",
        "Every session of your account will be signed out.",
        "/api/v1/auth/reset-password",
        "Set the new password",
        "Your password is changed. Sign in with the new one.",
        (NEW_PASSWORD,),
    ),
    "accept-invite": LinkPage(
        "Join the team",
        "Choose your name and a password to accept the invitation.",
        "/api/v1/auth/accept-invite",
        "Accept the invitation",
        "Welcome aboard: sign in with your email and this password.",
        (
            Input("full_name", "Your name", autocomplete="name"),
            Input("password", "Password", "password", "new-password", repeat="Repeat the password"),
        ),
    ),
    "confirm-email-change": LinkPage(
        "Confirm your new email",
        "Confirm that this address is yours; it becomes your login email.",
        "/api/v1/auth/confirm-email-change",
        "Confirm my new email",
        "Your email address is changed. Sign in with the new one.",
    ),
    "cancel-email-change": LinkPage(
        "Stop the email change",
        "If you did not ask to change your login email, stop it here: every session is signed out.",
        "/api/v1/auth/cancel-email-change",
        "Stop the change",
        "The change is stopped and every session is signed out. Change your password if you did not ask for it.",
    ),
    "cancel-deletion": LinkPage(
        "Keep your business account",
        "Stop the deletion of your business's data: enter the password of an owner of the account.",
        "/api/v1/tenants/deletion/cancel",
        "Cancel the deletion",
        "The deletion is cancelled and your data is kept. Sign in again.",
        (Input("password", "Owner's password", "password", "current-password"),),
    ),
    "forgot-password": LinkPage(
        "Reset your password",
        "We will mail a reset link if the address belongs to an account.",
        "/api/v1/auth/forgot-password",
        "Mail me a reset link",
        "If this email belongs to an account, a reset link is on its way.",
        (Input("email", "Email", "email", "email"),),
        token=False,
    ),
}

router = APIRouter(prefix="/pages", include_in_schema=False)


@router.api_route("/{name}", methods=["GET", "HEAD"], response_class=HTMLResponse)  # scanners also send HEAD
async def link_page(name: str, token: str | None = None) -> HTMLResponse:
    page = PAGES.get(name)
    if page is None:
        raise NotFound()
    broken = page.token and not _valid_token(token)
    return render(page, token=None if broken else token, broken=broken)


def render(page: LinkPage, *, token: str | None, broken: bool) -> HTMLResponse:
    nonce = secrets.token_urlsafe(16)
    html = _env.get_template("link.html").render(page=page, token=token, broken=broken, nonce=nonce)
    return HTMLResponse(html, status_code=400 if broken else 200, headers=security_headers(nonce))


def security_headers(nonce: str) -> dict[str, str]:
    return {
        "Content-Security-Policy": (
            f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; connect-src 'self'; "
            "form-action 'none'; base-uri 'none'; frame-ancestors 'none'"
        ),
        "Referrer-Policy": "no-referrer",  # the URL holds a token
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
    }


def _valid_token(token: str | None) -> bool:
    try:
        _token.validate_python(token)
    except ValidationError:
        return False
    return True
