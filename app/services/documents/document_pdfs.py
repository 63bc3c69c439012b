"""Documents as PDFs: load a document through the repositories, build its view
(app/services/documents/document_views.py), render it with app.rendering off the event loop, cache it.

- Rendering is CPU work (reportlab, pure Python): it runs on a pool of worker processes (or threads,
  PDF_RENDER_POOL), never on the event loop, and at most PDF_RENDER_CONCURRENCY renders run at once
  per process (further renders wait for a slot, the loop keeps serving): app/core/cpu_work.py.
- Issued documents are immutable, so their bytes are cached in a bounded in-process LRU
  (PDF_CACHE_BYTES) by (tenant, kind, id, version, copy), where the version is everything that
  changes the print: the row's updated_at and the amounts and status that move after issue
  (balance due prints the UPI QR and the status), the company's UPI VPA now, the logo's hash and
  whether the plan prints it. Drafts (a "DRAFT" preview) and statements of a period still open are
  rendered each time; a statement is keyed by a digest of its figures.
- The ETag is the SHA-256 of the bytes (rendering is deterministic: the same document renders the
  same bytes), so a re-download answers 304 without sending them again."""

import dataclasses
import hashlib
import re
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core import cpu_work
from app.core.context import Context
from app.core.errors import NotFound
from app.core.tenancy import required_tenant
from app.domain.statuses import OPEN_STATUSES
from app.models.platform.subscription import SubscriptionStatus
from app.rendering import (
    Copy,
    InvalidUpiLink,
    render_credit_note,
    render_invoice,
    render_receipt,
    render_statement,
    upi_link,
)
from app.rendering.views import BRAND
from app.repositories.documents.company_logos import CompanyLogoRepository
from app.repositories.documents.document_sources import DocumentSourceRepository
from app.repositories.platform.subscriptions import PlanRepository
from app.services.documents import document_views, statements
from app.services.platform import subscriptions

__all__ = [
    "Copy",
    "DocumentKind",
    "RenderedPdf",
    "credit_note_pdf",
    "invoice_pdf",
    "receipt_pdf",
    "render",
    "statement_pdf",
]


class DocumentKind(StrEnum):
    invoice = "invoice"
    credit_note = "credit_note"
    receipt = "receipt"
    statement = "statement"


@dataclass(frozen=True)
class RenderedPdf:
    content: bytes
    filename: str  # ASCII-safe, from the document number: "INV-2026-27-00001.pdf"
    etag: str  # a strong validator, quoted: '"<sha256 of content>"'


# --- the cache --------------------------------------------------------------------------------


class PdfCache:
    """Least recently used out first, bounded by the bytes it holds. Thread-safe (the API's event
    loop and a worker's share one process's cache)."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[Hashable, RenderedPdf] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: Hashable) -> RenderedPdf | None:
        with self._lock:
            found = self._items.get(key)
            if found is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return found

    def put(self, key: Hashable, pdf: RenderedPdf) -> None:
        size = len(pdf.content)
        if size > self.max_bytes:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._size -= len(old.content)
            self._items[key] = pdf
            self._size += size
            while self._size > self.max_bytes:
                _, evicted = self._items.popitem(last=False)
                self._size -= len(evicted.content)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._size = 0

    def __len__(self) -> int:
        return len(self._items)


_caches: dict[int, PdfCache] = {}


def cache_for(ctx: Context) -> PdfCache:
    """The process's cache (one per configured size: tests with other settings get their own)."""
    size = ctx.settings.pdf_cache_bytes
    if size not in _caches:
        _caches[size] = PdfCache(size)
    return _caches[size]


async def _render(ctx: Context, function: Callable[..., bytes], *args: Any, **kwargs: Any) -> bytes:
    """Render off the event loop, at most PDF_RENDER_CONCURRENCY at once (app/core/cpu_work.py)."""
    return await cpu_work.run(ctx.settings, function, *args, **kwargs)


# --- names and validators ---------------------------------------------------------------------

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_filename(stem: str, *, suffix: str = ".pdf") -> str:
    """An ASCII file name from a document number: every run of other characters ('/', spaces,
    non-ASCII) becomes '-'; never empty, never hidden (no leading dot)."""
    cleaned = _UNSAFE.sub("-", stem).strip("-.") or "document"
    return f"{cleaned[:100]}{suffix}"


def etag_of(content: bytes) -> str:
    return f'"{hashlib.sha256(content).hexdigest()}"'


def _pdf(content: bytes, filename: str) -> RenderedPdf:
    return RenderedPdf(content=content, filename=filename, etag=etag_of(content))


# --- branding ---------------------------------------------------------------------------------


async def custom_branding(session: AsyncSession, ctx: Context) -> bool:
    """Whether the bound tenant's documents print its logo: a paid-plan feature (plans.custom_branding),
    on an active subscription. Trial, free, grace and locked print the product's name instead."""
    key = f"custom-branding:{required_tenant(session)}"
    known = ctx.memo.get(key)
    if isinstance(known, bool):
        return known
    state = (await subscriptions.standing(session, ctx)).state
    plan = await PlanRepository(session).get(state.plan_code)
    branded = bool(plan is not None and plan.custom_branding and state.status == SubscriptionStatus.active)
    ctx.memo[key] = branded
    return branded


async def _branding(
    session: AsyncSession, ctx: Context, company_id: uuid.UUID | None, logo_sha256: str | None
) -> tuple[bytes | None, str | None]:
    """(logo, footer brand) for a document of `company_id`."""
    if not await custom_branding(session, ctx):
        return None, BRAND
    if company_id is None or logo_sha256 is None:
        return None, None
    logo = await CompanyLogoRepository(session).get(company_id)
    return (logo.content if logo is not None else None), None


async def _brand_key(session: AsyncSession, ctx: Context, logo_sha256: str | None) -> tuple[bool, str | None]:
    branded = await custom_branding(session, ctx)
    return branded, logo_sha256 if branded else None


# --- documents --------------------------------------------------------------------------------


def payment_link(invoice: Any, vpa: str | None) -> str | None:
    """The UPI payment link of an invoice that can be paid now: the company has a VPA and the
    invoice is issued (or partly paid) with something still due."""
    if not vpa or invoice.status not in {s.value for s in OPEN_STATUSES} or invoice.balance_due <= 0:
        return None
    supplier = invoice.supplier or {}
    payee = supplier.get("trade_name") or supplier.get("legal_name") or ""
    try:
        return upi_link(vpa, payee, invoice.balance_due, reference=invoice.number, note=f"Invoice {invoice.number}")
    except InvalidUpiLink:  # a VPA saved before it was checked as strictly: no QR rather than a wrong one
        return None


async def invoice_pdf(
    session: AsyncSession, ctx: Context, invoice_id: uuid.UUID, *, copy: Copy = Copy.original
) -> RenderedPdf:
    """The invoice's PDF (a draft: a preview watermarked DRAFT, never cached). 404 if not in this tenant."""
    repo = DocumentSourceRepository(session)
    source = await repo.invoice(invoice_id)
    if source is None:
        raise NotFound("Invoice not found.", code="invoice-not-found")
    invoice = source.invoice
    draft = invoice.status == "draft"
    filename = safe_filename(f"DRAFT-{invoice.id}" if draft else str(invoice.number))
    key = None
    if not draft:
        version = (invoice.updated_at, invoice.status, invoice.amount_paid, invoice.amount_credited)
        brand = await _brand_key(session, ctx, source.logo_sha256)
        key = (required_tenant(session), DocumentKind.invoice, invoice.id, version, source.upi_vpa, brand, copy)
        cached = cache_for(ctx).get(key)
        if cached is not None:
            return cached
    lines = await repo.invoice_lines(invoice.id)
    logo, footer = await _branding(session, ctx, invoice.company_id, source.logo_sha256)
    view = document_views.invoice_view(
        invoice, lines, upi_link=payment_link(invoice, source.upi_vpa), logo=logo, footer_brand=footer
    )
    pdf = _pdf(await _render(ctx, render_invoice, view, copy=copy), filename)
    if key is not None:
        cache_for(ctx).put(key, pdf)
    return pdf


async def credit_note_pdf(
    session: AsyncSession, ctx: Context, credit_note_id: uuid.UUID, *, copy: Copy = Copy.original
) -> RenderedPdf:
    repo = DocumentSourceRepository(session)
    source = await repo.credit_note(credit_note_id)
    if source is None:
        raise NotFound("Credit note not found.", code="credit-note-not-found")
    note = source.note
    brand = await _brand_key(session, ctx, source.logo_sha256)
    key = (required_tenant(session), DocumentKind.credit_note, note.id, note.updated_at, brand, copy)
    cached = cache_for(ctx).get(key)
    if cached is not None:
        return cached
    lines = await repo.credit_note_lines(note.id)
    logo, footer = await _branding(session, ctx, note.company_id, source.logo_sha256)
    view = document_views.credit_note_view(note, source.invoice, lines, logo=logo, footer_brand=footer)
    pdf = _pdf(await _render(ctx, render_credit_note, view, copy=copy), safe_filename(note.number))
    cache_for(ctx).put(key, pdf)
    return pdf


async def receipt_pdf(session: AsyncSession, ctx: Context, receipt_id: uuid.UUID) -> RenderedPdf:
    """A receipt voucher. A receipt has no frozen parties: it prints the company and customer as
    they are now (their updated_at is part of the version)."""
    repo = DocumentSourceRepository(session)
    source = await repo.receipt(receipt_id)
    if source is None:
        raise NotFound("Receipt not found.", code="receipt-not-found")
    receipt = source.receipt
    brand = await _brand_key(session, ctx, source.logo_sha256)
    version = (
        receipt.updated_at,
        receipt.status,
        receipt.amount_allocated,
        source.company.updated_at,
        source.customer.updated_at,
    )
    key = (required_tenant(session), DocumentKind.receipt, receipt.id, version, brand)
    cached = cache_for(ctx).get(key)
    if cached is not None:
        return cached
    allocations = await repo.receipt_allocations(receipt.id)
    logo, footer = await _branding(session, ctx, receipt.company_id, source.logo_sha256)
    view = document_views.receipt_view(
        receipt, source.company, source.customer, allocations, logo=logo, footer_brand=footer
    )
    pdf = _pdf(await _render(ctx, render_receipt, view), safe_filename(receipt.number))
    cache_for(ctx).put(key, pdf)
    return pdf


async def statement_pdf(
    session: AsyncSession,
    ctx: Context,
    customer_id: uuid.UUID,
    *,
    start: date | None = None,
    end: date | None = None,
) -> RenderedPdf:
    """The customer's statement of account from `start` to `end` (default: the financial year to
    today). Cached by a digest of its figures: unchanged figures are not rendered again."""
    data = await statements.statement(session, ctx, customer_id, start=start, end=end)
    source = data.source
    company_id = source.company.id if source.company is not None else None
    view = document_views.statement_view(
        source.company,
        source.customer,
        date_from=data.date_from,
        date_to=data.date_to,
        opening_balance=data.opening_balance,
        closing_balance=data.closing_balance,
        entries=data.entries,
        aging=data.aging,
        logo=None,
        footer_brand=None,
    )
    brand = await _brand_key(session, ctx, source.logo_sha256)
    digest = hashlib.sha256(repr((view, brand)).encode()).hexdigest()
    key = (required_tenant(session), DocumentKind.statement, customer_id, digest)
    cached = cache_for(ctx).get(key)
    if cached is not None:
        return cached
    logo, footer = await _branding(session, ctx, company_id, source.logo_sha256)
    view = dataclasses.replace(view, logo=logo, footer_brand=footer)
    name = f"Statement-{source.customer.name}-{data.date_from.isoformat()}-{data.date_to.isoformat()}"
    pdf = _pdf(await _render(ctx, render_statement, view), safe_filename(name))
    cache_for(ctx).put(key, pdf)
    return pdf


async def render(
    session: AsyncSession, ctx: Context, kind: DocumentKind, document_id: uuid.UUID, **options: Any
) -> RenderedPdf:
    """Any document by kind: what the outbox's attachments and the share page call."""
    kind = DocumentKind(kind)
    if kind is DocumentKind.invoice:
        return await invoice_pdf(session, ctx, document_id, **options)
    if kind is DocumentKind.credit_note:
        return await credit_note_pdf(session, ctx, document_id, **options)
    if kind is DocumentKind.receipt:
        return await receipt_pdf(session, ctx, document_id)
    return await statement_pdf(session, ctx, document_id, **options)
