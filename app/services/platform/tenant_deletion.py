"""Deleting a tenant (issue 13 §3): closed at once, purged after the cancel window.

`close` (POST /tenants/me/delete, the owner with their password and the business name typed exactly)
sets tenants.closed_at and purge_after (TENANT_DELETION_GRACE_DAYS later), revokes every session of
every user, ends pending invitations and mails every active owner the cancel link. From then on no session can
be issued for the tenant (app.services.identity.sessions.issue: logins, refreshes, accepted
invitations answer 403 `tenant-closed`), and the scheduler's per-tenant work
skips it (no reminders to its customers, no recurring invoices).

`cancel` (POST /tenants/deletion/cancel, public) needs BOTH the mailed token and the password of an
active owner: the token names the tenant and this closure (an HMAC under JWT_SECRET of the tenant id
and closed_at, so an older closure's link does not reopen a later one, and nothing is stored), the
password proves that the person holding the mailbox is the owner. Failed password attempts with a
valid token count per tenant like failed password checks. After purge_after it answers 409 `deletion-window-over`.

`purge` (the scheduler's `tenant_purge` step, for tenants `due_tenant_purges` lists) first keeps the
tax documents, then deletes every row of the tenant in every table, the tenants row last:

- Retention (CGST Act s.36 with rule 56: accounts, tax invoices and credit notes included, are kept
  for 72 months from the due date of the annual return of the year they relate to; the annual return
  GSTR-9 is due on 31 December after the financial year's end). Every invoice that was issued
  (voided ones too: a cancelled invoice is part of the accounts) and every credit note goes into
  `retained_tax_documents` through `retain_tax_document` (migration 0031): its row and lines as JSON
  and its PDF, retain_until = 31 December of (the financial year's last year + 6). Nothing else is
  kept (customers, receipts, stock, users ... are deleted); the SaaS's own invoices TO this tenant are
  rows of the platform tenant (saas_invoices, its invoices) and stay: they are the platform's records.
- Rows: `purge_order()` walks Base.metadata (children before parents) over every table with a
  `tenant_id` column but retained_tax_documents, so a table added later is purged without a change
  here; each table through `purge_tenant_rows` (migration 0035), which also reaches the append-only
  tables and the global lookups, in batches of PURGE_BATCH rows, each batch its own transaction.
  Each run works for at most PURGE_SECONDS (at least one batch), then leaves the rest to the next
  run: the scheduler's tick is one sequential pass for every tenant, and a large tenant's PDFs and rows
  must not hold up everyone's reminders and mail for the length of its purge.
  A purge that dies midway is resumed by the next run: the tenant is still closed and due, documents
  already retained are skipped (retained_document_ids), deleted rows stay deleted.
"""

import base64
import hashlib
import hmac
import json
import logging
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.context import Context
from app.core.database import independent_session
from app.core.errors import Conflict, InvalidSingleUseToken, NotFound, RuleViolation, TenantClosed, WrongPassword
from app.core.runtime import Runtime
from app.core.security import tenant_of_opaque_token, verify_password
from app.core.tenancy import bind_tenant
from app.models import Base
from app.models.identity.user import User
from app.models.platform.tenant import Tenant
from app.repositories.documents.document_sources import DocumentSourceRepository
from app.repositories.identity.invitations import InvitationRepository
from app.repositories.identity.sessions import SessionRepository
from app.repositories.identity.users import UserRepository
from app.repositories.platform.tenant_purge import TenantPurgeRepository
from app.repositories.platform.tenants import TenantAccountRepository
from app.services.documents import document_pdfs
from app.services.identity import passwords
from app.services.identity.rate_limit import Limit, refund, reserve
from app.services.platform import audit, mail

log = logging.getLogger(__name__)

INDIA = ZoneInfo("Asia/Kolkata")
CANCEL_PURPOSE = b"tenant-deletion-cancel\x00"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
PURGE_BATCH = 1000  # rows per table per transaction
RETAIN_BATCH = 20  # documents (each with its PDF) per transaction
PURGE_SECONDS = 30.0  # of work per tenant per scheduler run (after its first batch); the next run resumes
# Tables with a tenant_id column the purge leaves alone: the retained documents ARE what is kept.
KEPT_TABLES = frozenset({"retained_tax_documents"})
FIELDS = ["closed_at", "purge_after"]


# --- closing and cancelling -------------------------------------------------------------------------


def cancel_token(settings: Settings, tenant_id: uuid.UUID, closed_at: datetime) -> str:
    """The cancel link's token: the tenant id (so the public route can bind it) and an HMAC of this
    closure, 48 bytes like the other opaque tokens."""
    micros = (closed_at - EPOCH) // timedelta(microseconds=1)
    message = CANCEL_PURPOSE + tenant_id.bytes + str(micros).encode()
    mac = hmac.new(settings.jwt_secret.encode(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(tenant_id.bytes + mac).rstrip(b"=").decode()


async def close(session: AsyncSession, ctx: Context, user: User, *, password: str, confirmation: str) -> Tenant:
    """Close the caller's tenant now; nothing changes unless the password and the typed business name
    (exactly, case and spaces included) are right."""
    tenant = await TenantAccountRepository(session).get_for_update(user.tenant_id)
    if tenant is None:
        raise NotFound("Tenant not found.")
    if tenant.closed_at is not None:
        raise TenantClosed()
    if tenant.id == ctx.settings.platform_tenant_id:  # it issues every tenant's SaaS invoices
        detail = "This business issues the product's own tax invoices (PLATFORM_TENANT_ID); it cannot be deleted."
        raise Conflict(detail, code="platform-tenant-not-deletable")
    await passwords.check_current(session, ctx, user, password)
    if confirmation != tenant.business_name:
        detail = "Type the business name exactly as it is on the account to confirm the deletion."
        raise RuleViolation("confirmation", detail, code="confirmation-mismatch")
    now = ctx.now
    before = audit.snapshot(tenant, FIELDS)
    tenant.closed_at = now
    tenant.purge_after = now + timedelta(days=ctx.settings.tenant_deletion_grace_days)
    await session.flush()
    revoked = await SessionRepository(session).revoke_all(now)
    invitations = await InvitationRepository(session).expire_pending(now)
    await audit.record(
        session,
        action="tenant.closed",
        entity_type="tenant",
        entity_id=tenant.id,
        before=before,
        after={**audit.snapshot(tenant, FIELDS), "sessions_revoked": revoked, "invitations_ended": invitations},
    )
    token = cancel_token(ctx.settings, tenant.id, now)
    for owner in await UserRepository(session).owners():  # a co-owner loses the business too, and may cancel
        await mail.enqueue(
            session,
            ctx,
            to=owner.email,
            template="tenant_closed",
            full_name=owner.full_name,
            closed_by=f"{user.full_name} ({user.email})",
            business_name=tenant.business_name,
            purge_on=_day(tenant.purge_after),
            cancel_link=f"{ctx.settings.email_link_base}/cancel-deletion?token={token}",
        )
    return tenant


def _day(moment: datetime) -> str:
    return moment.astimezone(INDIA).strftime("%d %b %Y, %I:%M %p IST")


async def cancel(session: AsyncSession, ctx: Context, *, token: str, password: str) -> Tenant:
    """Reopen a closed tenant within its window: the mailed token and an active owner's password."""
    tenant_id = tenant_of_opaque_token(token)
    if tenant_id is None:
        raise InvalidSingleUseToken()
    s, now = ctx.settings, ctx.now
    await bind_tenant(session, tenant_id)
    tenant = await TenantAccountRepository(session).get_for_update(tenant_id)
    if (
        tenant is None
        or tenant.closed_at is None
        or not hmac.compare_digest(token, cancel_token(s, tenant.id, tenant.closed_at))
    ):
        raise InvalidSingleUseToken("The cancel link is not valid (or the deletion was already cancelled).")
    assert tenant.purge_after is not None  # ck_tenants_closed
    if tenant.purge_after <= now:
        raise Conflict("The 30-day window to cancel the deletion is over.", code="deletion-window-over")
    # Counted only once the token is this closure's: the tenant id is no secret (refresh tokens and share
    # links start with it), and forged tokens must not use up the attempts of the owner holding the link.
    limits = [Limit("deletion-cancel:tenant", str(tenant_id), s.password_check_limit, s.login_window_seconds)]
    async with independent_session(ctx.db) as counter:
        await reserve(counter, limits, now)
    owner = await _owner_with_password(session, ctx, password)
    if owner is None:
        raise WrongPassword("The password is not the password of an owner of this business.")
    async with independent_session(ctx.db) as counter:
        await refund(counter, limits, now)
    audit.set_actor(session, owner.id)
    before = audit.snapshot(tenant, FIELDS)
    tenant.closed_at = None
    tenant.purge_after = None
    await session.flush()
    await audit.record(
        session,
        action="tenant.reopened",
        entity_type="tenant",
        entity_id=tenant.id,
        before=before,
        after=audit.snapshot(tenant, FIELDS),
    )
    return tenant


async def _owner_with_password(session: AsyncSession, ctx: Context, password: str) -> User | None:
    owners: list[User | None] = [*await UserRepository(session).owners()]
    for owner in owners or [None]:  # no owner: one dummy check, the same time as a wrong password
        usable = owner.password_hash if owner is not None else None
        if await verify_password(password, usable, ctx.settings.bcrypt_rounds) and owner is not None:
            return owner
    return None


# --- the purge --------------------------------------------------------------------------------------


def purge_order() -> list[sa.Table]:
    """Every table holding rows of a tenant (a `tenant_id` column), children before parents; the
    `tenants` row itself goes after them all."""
    return [t for t in reversed(Base.metadata.sorted_tables) if "tenant_id" in t.c and t.name not in KEPT_TABLES]


def _self_referencing(table: sa.Table) -> bool:
    return any(fk.column.table is table for fk in table.foreign_keys)


def retain_until(document_date: date) -> date:
    """72 months from the due date of the annual return (31 December after the financial year's end)
    of the year the document belongs to: FY 2026-27 (ends 31 Mar 2027) -> GSTR-9 due 31 Dec 2027 ->
    kept until 31 Dec 2033."""
    fy_end_year = document_date.year + (1 if document_date.month >= 4 else 0)
    return date(fy_end_year + 6, 12, 31)


async def purge(rt: Runtime, tenant_id: uuid.UUID, at: datetime) -> int:
    """Purge one closed, due tenant (1 when its tenants row is gone; 0 if it is no longer due, or when
    PURGE_SECONDS ran out first: the next run goes on from there)."""
    async with rt.db.transaction(tenant_id) as session:
        tenant = await TenantAccountRepository(session).get(tenant_id)
        if tenant is None or tenant.purge_after is None or tenant.purge_after > at:
            return 0  # reopened since the scan (or already gone)
    deadline = time.monotonic() + PURGE_SECONDS
    retained = 0
    for kind in ("invoice", "credit_note"):
        count, finished = await _retain_all(rt, tenant_id, at, kind, deadline)
        retained += count
        if not finished:
            return _paused(tenant_id, retained, 0)
    deleted = 0
    for table in purge_order():
        batch = None if _self_referencing(table) else PURGE_BATCH  # one statement: FK checks at its end
        while True:
            async with rt.db.transaction(tenant_id) as session:
                count = await TenantPurgeRepository(session).delete_rows(table.name, batch, at)
            deleted += count
            if batch is None or count < batch:
                break
            if time.monotonic() >= deadline:
                return _paused(tenant_id, retained, deleted)
    async with rt.db.transaction(tenant_id) as session:
        await TenantPurgeRepository(session).delete_tenant()
    log.info("tenant %s purged: %d tax documents retained, %d rows deleted", tenant_id, retained, deleted)
    return 1


def _paused(tenant_id: uuid.UUID, retained: int, deleted: int) -> int:
    log.info(
        "purge of tenant %s paused after %d tax documents retained and %d rows deleted; the next run goes on",
        tenant_id,
        retained,
        deleted,
    )
    return 0


async def _retain_all(rt: Runtime, tenant_id: uuid.UUID, at: datetime, kind: str, deadline: float) -> tuple[int, bool]:
    """Keep the documents of this kind not kept yet, batch by batch until `deadline`: (how many were
    kept, whether all of them are now)."""
    async with rt.db.transaction(tenant_id) as session:
        repo = TenantPurgeRepository(session)
        done = await repo.retained_ids(kind)
        ids = await (repo.issued_invoice_ids() if kind == "invoice" else repo.credit_note_ids())
    todo = [document_id for document_id in ids if document_id not in done]
    for start in range(0, len(todo), RETAIN_BATCH):
        async with rt.db.transaction(tenant_id) as session:
            ctx = rt.context(tenant_id=tenant_id, at=at)
            for document_id in todo[start : start + RETAIN_BATCH]:
                await (_retain_invoice if kind == "invoice" else _retain_credit_note)(session, ctx, document_id)
        kept = min(start + RETAIN_BATCH, len(todo))
        if kept < len(todo) and time.monotonic() >= deadline:
            return kept, False
    return len(todo), True


async def _retain_invoice(session: AsyncSession, ctx: Context, invoice_id: uuid.UUID) -> None:
    sources = DocumentSourceRepository(session)
    source = await sources.invoice(invoice_id)
    if source is None:
        return
    invoice = source.invoice
    lines = await sources.invoice_lines(invoice_id)
    document = {"invoice": _row(invoice), "lines": [_row(line) for line in lines]}
    pdf = await _pdf_or_none(document_pdfs.invoice_pdf(session, ctx, invoice_id), invoice_id)
    assert invoice.number is not None  # only issued invoices are listed
    await TenantPurgeRepository(session).retain(
        kind="invoice",
        document_id=invoice.id,
        gstin=(invoice.supplier or {}).get("gstin"),
        number=invoice.number,
        document_date=invoice.invoice_date,
        retain_until=retain_until(invoice.invoice_date),
        document=json.dumps(document, default=_json_default),
        pdf=pdf,
    )


async def _retain_credit_note(session: AsyncSession, ctx: Context, credit_note_id: uuid.UUID) -> None:
    sources = DocumentSourceRepository(session)
    source = await sources.credit_note(credit_note_id)
    if source is None:
        return
    note, invoice = source.note, source.invoice
    lines = await sources.credit_note_lines(credit_note_id)
    document = {
        "credit_note": _row(note),
        "invoice": {"id": invoice.id, "number": invoice.number, "invoice_date": invoice.invoice_date},
        "lines": [_row(note_line) for note_line, _ in lines],
    }
    pdf = await _pdf_or_none(document_pdfs.credit_note_pdf(session, ctx, credit_note_id), credit_note_id)
    await TenantPurgeRepository(session).retain(
        kind="credit_note",
        document_id=note.id,
        gstin=(invoice.supplier or {}).get("gstin"),
        number=note.number,
        document_date=note.credit_note_date,
        retain_until=retain_until(note.credit_note_date),
        document=json.dumps(document, default=_json_default),
        pdf=pdf,
    )


async def _pdf_or_none(rendering: Any, document_id: uuid.UUID) -> bytes | None:
    """The PDF, or None when it cannot be rendered: the JSON is the record the law asks for, and a
    renderer fault must not keep a tenant's data beyond its deletion for ever."""
    try:
        return (await rendering).content  # type: ignore[no-any-return]
    except Exception:
        log.exception("PDF of document %s could not be rendered for retention; kept without it", document_id)
        return None


def _row(obj: Any) -> dict[str, Any]:
    return {attr.key: getattr(obj, attr.key) for attr in sa.inspect(obj).mapper.column_attrs}


def _json_default(value: Any) -> Any:
    if isinstance(value, (uuid.UUID, Decimal)):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
