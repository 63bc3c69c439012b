"""Share links: a public, expiring, revocable link to one issued invoice, its WhatsApp message, and
the public page the link opens (GET /p/<token>, app/api/public.py).

The token (`secrets.token_urlsafe(32)`: 256 random bits) is shown once, in the answer that makes
the link; only its SHA-256 is stored. The page has no tenant to begin with: the hash leads to the
tenant and the link through `share_link_of` (migration 0019), which answers for a live link only,
then everything runs with that tenant bound, under row-level security. A wrong, malformed, expired
or revoked token takes the same way (a hash and one lookup) to the same "not found" answer.

`create(session, ctx, invoice_id, ttl=...)` is what mail and reminders call to put a link in a mail.
"""

import dataclasses
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote

from sqlalchemy.ext.asyncio import AsyncSession

from app import rendering
from app.core import cpu_work
from app.core.context import Context
from app.core.errors import Conflict, NotFound, RuleViolation, TooManyRequests
from app.core.security import token_digest
from app.core.tenancy import bind_tenant
from app.domain.phones import international_digits
from app.domain.statuses import InvoiceStatus, is_open
from app.models.billing.invoice import Invoice
from app.models.documents.share_link import ShareLink as ShareLinkRow
from app.repositories.billing.companies import CompanyRepository
from app.repositories.billing.customers import CustomerRepository
from app.repositories.documents.share_links import ShareLinkRepository, live_link_of
from app.repositories.identity.rate_limits import RateLimitRepository
from app.repositories.platform.tenants import TenantAccountRepository
from app.services.billing import invoicing
from app.services.commerce import payment_links
from app.services.documents import document_pdfs
from app.services.documents.invoice_page import PublicInvoice, day, public_invoice, rupees, seller_name
from app.services.identity.rate_limit import Limit, consume
from app.services.platform import audit

TOKEN_BYTES = 32  # 256 bits; token_urlsafe(32) is 43 characters
MAX_TOKEN_LENGTH = 200  # a longer path segment is not looked up (nor hashed): simply not found
PAGE_WINDOW_SECONDS = 60
MISS_WINDOW_SECONDS = 3600


@dataclass(frozen=True)
class ShareLink:
    """A link just made: the only time its token (in `url` and `whatsapp_url`) is shown."""

    id: uuid.UUID
    invoice_id: uuid.UUID
    url: str
    expires_at: datetime
    whatsapp_url: str
    created_at: datetime


async def create(
    session: AsyncSession, ctx: Context, invoice_id: uuid.UUID, *, ttl: timedelta | None = None
) -> ShareLink:
    """A new link to an issued invoice (409 for a draft or a void one), living `ttl` (default
    SHARE_LINK_TTL_DAYS, at most SHARE_LINK_MAX_TTL_DAYS)."""
    invoice = await invoicing.get(session, invoice_id)
    return await create_for(session, ctx, invoice, phone=await _customer_phone(session, invoice), ttl=ttl)


async def create_for(
    session: AsyncSession, ctx: Context, invoice: Invoice, *, phone: str | None, ttl: timedelta | None = None
) -> ShareLink:
    """`create` for an invoice the caller holds already (a counter sale's, just issued), with its
    customer's phone as it is now."""
    settings = ctx.settings
    _require_shareable(invoice)
    ttl = ttl if ttl is not None else timedelta(days=settings.share_link_ttl_days)
    if not timedelta(0) < ttl <= timedelta(days=settings.share_link_max_ttl_days):
        raise RuleViolation(
            "expires_in_days",
            f"A link lives 1 to {settings.share_link_max_ttl_days} days.",
            code="share-link-too-long",
        )
    token = secrets.token_urlsafe(TOKEN_BYTES)
    row = await ShareLinkRepository(session).add(
        ShareLinkRow(
            invoice_id=invoice.id,
            token_hash=token_digest(token),
            created_by=ctx.actor_id,
            created_at=ctx.now,
            expires_at=ctx.now + ttl,
        )
    )
    await audit.record(
        session,
        action="share_link.created",
        entity_type="invoice",
        entity_id=invoice.id,
        after={"share_link_id": str(row.id), "expires_at": row.expires_at.isoformat()},
    )
    url = f"{settings.public_base_url}/p/{token}"
    return ShareLink(row.id, invoice.id, url, row.expires_at, whatsapp_url(invoice, url, phone), row.created_at)


async def active(session: AsyncSession, ctx: Context, invoice_id: uuid.UUID) -> list[ShareLinkRow]:
    invoice = await invoicing.get(session, invoice_id)
    return await ShareLinkRepository(session).active_for_invoice(invoice.id, ctx.now)


async def revoke(
    session: AsyncSession, ctx: Context, invoice_id: uuid.UUID, *, link_id: uuid.UUID | None = None
) -> int:
    """Revoke the invoice's live links (or the one `link_id`); how many. Revoking a link that is
    revoked or expired already changes nothing (DELETE is idempotent); one that is not this
    invoice's is a 404."""
    invoice = await invoicing.get(session, invoice_id)
    links = ShareLinkRepository(session)
    revoked = await links.revoke(invoice.id, ctx.now, link_id=link_id)
    if link_id is not None and not revoked:
        link = await links.get(link_id)
        if link is None or link.invoice_id != invoice.id:
            raise NotFound("This invoice has no share link with this id.", code="share-link-not-found")
    await audit.record_many(
        session,
        [
            {
                "action": "share_link.revoked",
                "entity_type": "invoice",
                "entity_id": invoice.id,
                "before": {"share_link_id": str(link.id), "view_count": link.view_count},
            }
            for link in revoked
        ],
    )
    return len(revoked)


def _require_shareable(invoice: Invoice) -> None:
    if invoice.status == InvoiceStatus.draft:
        raise Conflict("A draft cannot be shared; issue it first.", code="invoice-is-draft")
    if invoice.status == InvoiceStatus.void:
        raise Conflict("A void invoice cannot be shared.", code="invoice-void")


async def _customer_phone(session: AsyncSession, invoice: Invoice) -> str | None:
    """The customer's phone as it is now (it may have changed since the invoice was issued)."""
    customer = await CustomerRepository(session).get(invoice.customer_id)
    return customer.phone if customer is not None else invoice.recipient.get("phone")


# --- WhatsApp ---------------------------------------------------------------------------------


def share_message(invoice: Invoice, url: str) -> str:
    """E.g. "Invoice INV/26-27/00001 from Sharma Traders for ₹1,180.00, due 12 Dec 2026: <url>"."""
    text = f"Invoice {invoice.number} from {seller_name(invoice)} for {rupees(invoice.total)}"
    if is_open(invoice.status, invoice.balance_due):
        if invoice.balance_due != invoice.total:
            text += f", {rupees(invoice.balance_due)} still due"
        text += f", due {day(invoice.due_date)}"
    return f"{text}: {url}"


def whatsapp_url(invoice: Invoice, url: str, phone: str | None) -> str:
    """https://wa.me/<country code + number>?text=<message> (https://wa.me/?text=... without a usable
    phone: WhatsApp then asks whom to send it to)."""
    number = international_digits(phone) or ""
    return f"https://wa.me/{number}?text={quote(share_message(invoice, url), safe='')}"


# --- The public page --------------------------------------------------------------------------


@dataclass(frozen=True)
class Opened:
    """A live link's invoice, with the context bound to its tenant."""

    ctx: Context
    invoice: Invoice
    upi_vpa: str | None  # the company's, now
    pay_now_url: str | None = None  # the invoice's open payment link (payment_links.pay_now_url)

    async def page(self) -> PublicInvoice:
        link = document_pdfs.payment_link(self.invoice, self.upi_vpa)
        # segno's choice of the best-scanning mask is tens of milliseconds of Python: not on the loop
        qr = await cpu_work.run(self.ctx.settings, rendering.upi_qr_svg, link) if link else None
        return public_invoice(self.invoice, self.ctx.today, upi_link=link, upi_qr_svg=qr, pay_now_url=self.pay_now_url)

    async def pdf(self, session: AsyncSession) -> document_pdfs.RenderedPdf:
        """The PDF GET /invoices/{id}/pdf serves (original for recipient), ETag included."""
        return await document_pdfs.invoice_pdf(session, self.ctx, self.invoice.id)


async def throttle(session: AsyncSession, ctx: Context, ip: str) -> None:
    """429 past PUBLIC_PAGE_LIMIT_PER_IP requests a minute, or once the IP has had
    PUBLIC_PAGE_MISSES_PER_IP wrong links within the hour (so tokens cannot be guessed by trying)."""
    settings = ctx.settings
    await consume(
        session, [Limit("public-page:ip", ip, settings.public_page_limit_per_ip, PAGE_WINDOW_SECONDS)], ctx.now
    )
    misses = _miss_limit(ctx, ip)
    if await RateLimitRepository(session).hits(misses.bucket(), misses.window_start(ctx.now)) >= misses.max_hits:
        raise TooManyRequests(misses.retry_after(ctx.now), "Too many wrong links from this address; try again later.")


async def record_miss(session: AsyncSession, ctx: Context, ip: str) -> None:
    misses = _miss_limit(ctx, ip)
    await RateLimitRepository(session).increment(misses.bucket(), misses.window_start(ctx.now))


def _miss_limit(ctx: Context, ip: str) -> Limit:
    return Limit("public-page-miss:ip", ip, ctx.settings.public_page_misses_per_ip, MISS_WINDOW_SECONDS)


async def open_link(session: AsyncSession, ctx: Context, token: str, *, count_view: bool) -> Opened | None:
    """The invoice of a live link (None for any other token, by the same way: hash, one lookup),
    with the session bound to its tenant; a view is counted when `count_view`."""
    if len(token) > MAX_TOKEN_LENGTH:
        return None
    found = await live_link_of(session, token_digest(token), ctx.now)
    if found is None:
        return None
    tenant_id, link_id = found
    await bind_tenant(session, tenant_id)
    tenant = await TenantAccountRepository(session).get(tenant_id)
    if tenant is None or tenant.closed_at is not None:
        return None  # closed for deletion (POST /tenants/me/delete): its links lead nowhere
    audit.set_actor(session, None)
    links = ShareLinkRepository(session)
    link = await (links.record_view(link_id, ctx.now) if count_view else links.get_live(link_id, ctx.now))
    if link is None:
        return None
    invoice = await invoicing.get(session, link.invoice_id)
    company = await CompanyRepository(session).get(invoice.company_id)
    vpa = company.upi_vpa if company is not None else None
    bound = dataclasses.replace(ctx, tenant_id=tenant_id, memo={})
    return Opened(bound, invoice, vpa, await payment_links.pay_now_url(session, bound, invoice))
