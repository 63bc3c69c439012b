"""The public invoice page a share link opens: GET /p/<token> (HTML) and GET /p/<token>/pdf.

No login: the token is the key. It leads to the tenant and the invoice through `share_link_of`
(app/services/documents/share_links.py); a wrong, malformed, expired or revoked token gets one and the same
404 page, by the same way (a hash, one lookup). Requests are limited per client IP, and wrong links
more strictly (an IP that keeps guessing is refused for the hour): 429 page with Retry-After.

The page has no script and no external asset: the one inline stylesheet (invoice.css) is admitted
by its SHA-256 in the Content-Security-Policy, the UPI QR code is inline SVG, everything else is
refused. No nonce, so a page is the same bytes each time (the 404 page is one constant page). Not an API
route: not in the OpenAPI spec (like /pages).
"""

import base64
import hashlib
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from app.api.deps import ContextDep, SessionDep
from app.api.pdf_responses import pdf_response
from app.core.errors import TooManyRequests
from app.services.commerce import payment_links
from app.services.documents import share_links

TEMPLATES = Path(__file__).resolve().parents[1] / "templates" / "pages"
_env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))
CSS = (TEMPLATES / "invoice.css").read_text(encoding="utf-8")
CSS_HASH = base64.b64encode(hashlib.sha256(CSS.encode()).digest()).decode()
HEADERS = {
    "Content-Security-Policy": (
        f"default-src 'none'; style-src 'sha256-{CSS_HASH}'; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'none'"
    ),
    "X-Robots-Tag": "noindex, nofollow",
    "Referrer-Policy": "no-referrer",  # the URL is the key
    "Cache-Control": "private, no-store",  # no shared (or any) cache keeps the page
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}
# Any path segment is looked up (a malformed token is simply not found, an over-long one without
# hashing it: share_links.MAX_TOKEN_LENGTH). No bound here: a schema bound would answer 422 JSON.
Token = Annotated[str, PathParam()]

router = APIRouter(prefix="/p", include_in_schema=False)
# The page a customer's browser comes back to from Razorpay after paying a payment link (its
# callback URL): GET /pay/<ticket>?razorpay_payment_id=...&razorpay_signature=... (payment_links.returned).
pay_router = APIRouter(prefix="/pay", include_in_schema=False)


def _render(template: str, status_code: int, headers: dict[str, str] | None = None, **values: object) -> HTMLResponse:
    html = _env.get_template(template).render(css=CSS, **values)
    return HTMLResponse(html, status_code=status_code, headers=HEADERS | (headers or {}))


def not_found() -> HTMLResponse:
    return _render("invoice_not_found.html", 404)


def too_many(error: TooManyRequests) -> HTMLResponse:
    return _render("invoice_busy.html", 429, error.headers)


def _ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.api_route("/{token}", methods=["GET", "HEAD"], response_class=HTMLResponse)
async def public_invoice(token: Token, request: Request, session: SessionDep, ctx: ContextDep) -> HTMLResponse:
    """The invoice as its customer sees it. Each GET counts a view (HEAD, sent by link previews, does not)."""
    ip = _ip(request)
    try:
        await share_links.throttle(session, ctx, ip)
    except TooManyRequests as error:
        return too_many(error)
    opened = await share_links.open_link(session, ctx, token, count_view=request.method == "GET")
    if opened is None:
        await share_links.record_miss(session, ctx, ip)
        return not_found()  # returned, not raised: the miss is committed and counts
    return _render("invoice.html", 200, invoice=await opened.page(), pdf_url=f"{token}/pdf")


@router.get("/{token}/pdf", response_class=Response)
async def public_invoice_pdf(token: Token, request: Request, session: SessionDep, ctx: ContextDep) -> Response:
    """The invoice's PDF (original for recipient), as GET /invoices/{id}/pdf serves it: ETag, 304."""
    ip = _ip(request)
    try:
        await share_links.throttle(session, ctx, ip)
    except TooManyRequests as error:
        return too_many(error)
    opened = await share_links.open_link(session, ctx, token, count_view=False)
    if opened is None:
        await share_links.record_miss(session, ctx, ip)
        return not_found()
    response = pdf_response(request, await opened.pdf(session))
    response.headers.update({"X-Robots-Tag": "noindex, nofollow", "Referrer-Policy": "no-referrer"})
    return response


@pay_router.get("/{ticket}", response_class=HTMLResponse)
async def payment_return(ticket: Token, request: Request, session: SessionDep, ctx: ContextDep) -> HTMLResponse:
    """Razorpay's callback after a payment link: the signed parameters are verified and the payment
    recorded (once, whether the webhook came first or not); the customer sees the outcome. A ticket
    this server did not make: the "not found" page, counted as a miss like a wrong share link."""
    ip = _ip(request)
    try:
        await share_links.throttle(session, ctx, ip)
    except TooManyRequests as error:
        return too_many(error)
    result = await payment_links.returned(session, ctx, ticket, request.query_params)
    if result is None:
        await share_links.record_miss(session, ctx, ip)
        return not_found()
    return _render("payment_return.html", 200, result=result)
