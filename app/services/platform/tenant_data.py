"""The tenant's data, out (issue 13 §3): the full export (POST /tenants/me/export) and a user's own
data (GET /users/me/export).

The full export is a durable job. The request inserts a `pending` tenant_exports row (at most one
pending or running per tenant: migration 0034's unique index; a second request answers the one under
way; at most TENANT_EXPORT_DAILY_LIMIT a day) and, after its commit, kicks the build in the background
(`after_commit`, like mail). The scheduler's step (`run_due`, every minute) builds any export whose
next attempt is due: one never kicked (the process stopped before), one whose build failed (retried
with backoff, `failed` after TENANT_EXPORT_MAX_ATTEMPTS) and one stuck `running` (its builder died:
claiming pushes `next_attempt_at` ahead by the attempt's backoff first, in its own short transaction,
so a dead build is found again when that passes). The same step expires done exports whose link has
lapsed (chunks deleted, status `expired`).

The zip is built with zipfile writing into a sink that hands each full CHUNK_SIZE to the database
as a tenant_export_chunks row, so memory holds one chunk and one batch of rows, whatever the size.
Its entries:

- `manifest.json`: the tenant, when, the format, and per entry its row count;
- `data/<table>.jsonl`: every row of every tenant table (JSON Lines, one object per row, columns by
  name; uuids, dates and amounts as strings, bytes as base64), found by walking app.models' metadata
  so a table added later is exported without a change here. Left out: the build's own tables, login
  sessions and single-use tokens, idempotency keys and job bookkeeping, and the global directories
  the application role cannot read; columns holding secrets or their hashes are left out of every row,
  and so are mail bodies (EXCLUDED_COLUMNS: their links carry live tokens);
- `csv/<resource>.csv`: the spreadsheet exports (app.services.documents.exports), unfiltered (the
  customer ledger, one customer's, aside);
- `pdf/invoices/<number>.pdf`, `pdf/credit-notes/...`, `pdf/receipts/...`: every issued document's
  PDF from the usual renderer (voided invoices included: they were issued).

The build runs in one transaction (a failure leaves no chunk behind), then the requester (or, if they
are no longer an active owner, the tenant's owners) is mailed a link `<PUBLIC_BASE_URL>/api/v1/exports/
<token>`. The token is not stored: it is the tenant id, the export id and the link's expiry, signed with
HMAC-SHA256 under JWT_SECRET (domain-separated), so a changed, foreign or forged token fails the same
constant-time check (404), and an expired one is 410. The download streams the chunks in order, one
short transaction each, with the zip's SHA-256 in a `Digest` header.
"""

import base64
import hashlib
import hmac
import io
import json
import logging
import uuid
import zipfile
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from ipaddress import IPv4Address, IPv6Address
from typing import Any

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.context import Context
from app.core.database import Database, after_commit
from app.core.errors import Gone, NotFound, RuleViolation, TooManyRequests
from app.models import Base
from app.models.base import utcnow
from app.models.identity.user import User, UserRole
from app.models.platform.data_export import TenantExport
from app.repositories.identity.users import UserRepository
from app.repositories.platform.tenant_exports import DueExportRepository, TenantDataRepository, TenantExportRepository
from app.repositories.platform.tenants import TenantAccountRepository
from app.services.platform import audit, mail

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
CHUNK_SIZE = 2 * 1024 * 1024  # bytes per tenant_export_chunks row
BATCH = 500  # rows per query while walking a table
DOCUMENT_BATCH = 200
AUDIT_ENTRIES_MAX = 10_000  # GET /users/me/export: the newest of the user's own audit entries
MAX_TOKEN_LENGTH = 200
TOKEN_DOMAIN = b"tenant-export\x00"

# Tables not exported: the export's own, login sessions and single-use tokens (secrets, no value
# outside this system), request bookkeeping, and the global directories (no privilege for the
# application role; the tenant's rows there are reflected in its own tables).
EXCLUDED_TABLES = frozenset(
    {
        "tenant_exports",
        "tenant_export_chunks",
        "sessions",
        "email_verifications",
        "password_resets",
        "idempotency_keys",
        "job_occasions",
        "gateway_webhooks",
        "razorpay_orders",
        "retained_tax_documents",
        "user_identities",
    }
)
# Columns not exported though their table is: a mail's body holds its link, and the link its token
# (an invitation not yet accepted, a colleague's password reset): live keys to accounts, which a zip
# that travels must not carry. Who was mailed what and when (to, subject, status) is kept.
EXCLUDED_COLUMNS: dict[str, frozenset[str]] = {"outbox_emails": frozenset({"body_text", "body_html"})}
PDF_FOLDERS = {"invoice": "invoices", "credit_note": "credit-notes", "receipt": "receipts"}


def secret_column(name: str) -> bool:
    """A column never exported: a secret, an encrypted secret, or a hash of one (tokens, passwords)."""
    return name.endswith("_hash") or "password" in name or "secret" in name or "encrypted" in name


def exported_tables() -> list[Table]:
    """Every tenant table exported, in dependency order (parents first)."""
    return [
        table for table in Base.metadata.sorted_tables if "tenant_id" in table.c and table.name not in EXCLUDED_TABLES
    ]


def json_value(value: Any) -> Any:
    if isinstance(value, uuid.UUID | Decimal | IPv4Address | IPv6Address):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes | memoryview):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    return value


def json_line(row: Any, columns: Sequence[str]) -> bytes:
    return json.dumps({c: json_value(row[c]) for c in columns}, ensure_ascii=False).encode() + b"\n"


# --- the request and the list -----------------------------------------------------------------


async def request(session: AsyncSession, ctx: Context, user: User) -> tuple[TenantExport, bool]:
    """A new export (True), or the one already pending or running (False). 429 past the daily limit."""
    repo = TenantExportRepository(session)
    running = await repo.active()
    if running is not None:
        return running, False
    limit = ctx.settings.tenant_export_daily_limit
    if await repo.count_since(ctx.now - timedelta(days=1)) >= limit:
        raise TooManyRequests(
            3600, f"At most {limit} full exports a day; the latest ones are in GET /tenants/me/exports."
        )
    row = await repo.add_unless_active(
        TenantExport(requested_by=user.id, status="pending", next_attempt_at=ctx.now, created_at=ctx.now)
    )
    if row is None:  # a concurrent request made one first
        running = await repo.active()
        if running is None:
            raise RuntimeError("an active export conflicted and then vanished")
        return running, False
    await audit.record(
        session,
        action="tenant_export.requested",
        entity_type="tenant_export",
        entity_id=row.id,
        after={"status": "pending"},
    )
    db, settings, tenant_id, export_id, at = ctx.db, ctx.settings, row.tenant_id, row.id, ctx.now

    async def build_after_commit() -> None:
        try:
            await build(db, settings, tenant_id, export_id, at=at)
        except Exception:  # logged; the scheduler's step retries it
            log.exception("tenant export %s: the after-commit build failed", export_id)

    after_commit(session, build_after_commit)
    return row, True


async def list_page(
    session: AsyncSession, *, limit: int, cursor: str | None, status: str | None = None
) -> tuple[list[TenantExport], str | None]:
    return await TenantExportRepository(session).list_page(limit=limit, cursor=cursor, status=status)


async def get(session: AsyncSession, export_id: uuid.UUID) -> TenantExport:
    row = await TenantExportRepository(session).get(export_id)
    if row is None:
        raise NotFound("No export with this id.", code="tenant-export-not-found")
    return row


# --- the build ----------------------------------------------------------------------------------


def retry_delay(attempts: int) -> timedelta:
    """After the n-th attempt started: 5, 10, 20, 40 ... minutes, at most 6 hours. Claiming sets it
    first, so a build that dies without a word is retried when it passes."""
    return min(timedelta(minutes=5 * 2 ** min(attempts - 1, 10)), timedelta(hours=6))


class ChunkSink(io.RawIOBase):
    """A write-only, non-seekable file for zipfile: bytes accumulate until `drain` hands the full
    chunks to the database (zipfile then writes data descriptors, needing no seek)."""

    def __init__(self) -> None:
        super().__init__()
        self.buffer = bytearray()
        self.position = 0
        self.digest = hashlib.sha256()

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        view = bytes(data)
        self.buffer += view
        self.position += len(view)
        self.digest.update(view)
        return len(view)

    def tell(self) -> int:
        return self.position

    def flush(self) -> None:
        pass

    def take(self, *, final: bool = False) -> list[bytes]:
        out: list[bytes] = []
        while len(self.buffer) >= CHUNK_SIZE or (final and self.buffer):
            out.append(bytes(self.buffer[:CHUNK_SIZE]))
            del self.buffer[:CHUNK_SIZE]
        return out


class _Writer:
    """Drains the sink into numbered chunks of the export."""

    def __init__(self, repo: TenantExportRepository, export_id: uuid.UUID) -> None:
        self.repo, self.export_id, self.sink, self.seq = repo, export_id, ChunkSink(), 0

    async def drain(self, *, final: bool = False) -> None:
        for chunk in self.sink.take(final=final):
            await self.repo.add_chunk(self.export_id, self.seq, chunk)
            self.seq += 1


async def build(
    db: Database, settings: Settings, tenant_id: uuid.UUID, export_id: uuid.UUID, *, at: datetime | None = None
) -> bool:
    """Build the export if it is due (claimed here; False if another builder has it or it is not
    due); on failure it stays pending for a retry (or `failed` at the last attempt)."""
    now = at or utcnow()
    async with db.transaction(tenant_id) as session:
        row = await TenantExportRepository(session).claim(export_id, now)
        if row is None:
            return False
        row.status = "running"
        row.attempts += 1
        row.started_at = now
        row.error = None
        row.next_attempt_at = now + retry_delay(row.attempts)
        attempts = row.attempts
    try:
        # One snapshot for the whole zip: a document issued meanwhile is in no file rather than in
        # some (its lines without it, a balance its documents do not add up to).
        async with db.transaction(tenant_id, isolation="REPEATABLE READ") as session:
            ctx = Context(settings=settings, db=db, now=now, tenant_id=tenant_id)
            await _build(session, ctx, export_id)
        return True
    except Exception as exc:
        log.exception("tenant export %s (attempt %d) failed", export_id, attempts)
        async with db.transaction(tenant_id) as session:
            row = await TenantExportRepository(session).get(export_id)
            if row is not None and row.status == "running":
                row.error = f"build failed ({type(exc).__name__})"
                if attempts >= settings.tenant_export_max_attempts:
                    row.status, row.next_attempt_at = "failed", None
                else:
                    row.status = "pending"  # next_attempt_at: set by the claim
        return False


async def _build(session: AsyncSession, ctx: Context, export_id: uuid.UUID) -> None:
    repo = TenantExportRepository(session)
    row = await repo.get(export_id, for_update=True)
    if row is None or row.status != "running":
        return
    await repo.delete_chunks(export_id)  # none unless a build committed half (it cannot): defensive
    writer = _Writer(repo, export_id)
    data = TenantDataRepository(session)
    counts: dict[str, int] = {}
    with zipfile.ZipFile(writer.sink, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        tenant = await data.tenant_row()
        if tenant is not None:
            name = "data/tenants.jsonl"
            columns = [c for c in tenant if not secret_column(c)]
            with archive.open(name, "w", force_zip64=True) as entry:
                entry.write(json_line(tenant, columns))
            counts[name] = 1
        for table in exported_tables():
            name = f"data/{table.name}.jsonl"
            counts[name] = await _write_table(archive, writer, data, table, name)
        for resource, content in await _csvs(session, ctx):
            name = f"csv/{resource}.csv"
            with archive.open(name, "w", force_zip64=True) as entry:
                rows = 0
                async for part in content:
                    entry.write(part)
                    rows += part.count(b"\n")
                    await writer.drain()
            counts[name] = max(rows - 1, 0)  # less the header (a line break inside a quoted cell aside)
        for kind, folder in PDF_FOLDERS.items():
            counts[f"pdf/{folder}/"] = await _write_pdfs(session, ctx, archive, writer, data, kind, folder)
        manifest = {
            "format": "rms-billing-tenant-export",
            "version": FORMAT_VERSION,
            "tenant_id": str(ctx.tenant_id),
            "export_id": str(export_id),
            "generated_at": ctx.now.isoformat(),
            "entries": counts,
            "notes": "data/*.jsonl: one JSON object per row (JSON Lines); uuids, dates, amounts as strings; "
            "bytes base64. Secrets, their hashes and mail bodies (their links' tokens) are left out. "
            "csv/: the spreadsheet exports. pdf/: every issued invoice, credit note and receipt.",
        }
        archive.writestr("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False))
    await writer.drain(final=True)
    row.status = "done"
    row.finished_at = ctx.now
    row.expires_at = ctx.now + timedelta(hours=ctx.settings.tenant_export_ttl_hours)
    row.next_attempt_at = None
    row.size_bytes = writer.sink.position
    row.sha256 = writer.sink.digest.hexdigest()
    row.error = None
    await _mail_link(session, ctx, row)


async def _write_table(
    archive: zipfile.ZipFile, writer: _Writer, data: TenantDataRepository, table: Table, name: str
) -> int:
    excluded = EXCLUDED_COLUMNS.get(table.name, frozenset())
    columns = [c.name for c in table.columns if not secret_column(c.name) and c.name not in excluded]
    key = [c.name for c in table.primary_key.columns]
    count = 0
    after: tuple[Any, ...] | None = None
    with archive.open(name, "w", force_zip64=True) as entry:
        while True:
            rows = await data.table_rows(table, after=after, limit=BATCH)
            for row in rows:
                entry.write(json_line(row, columns))
            count += len(rows)
            await writer.drain()
            if len(rows) < BATCH:
                return count
            after = tuple(rows[-1][k] for k in key)


async def _csvs(session: AsyncSession, ctx: Context) -> list[tuple[str, AsyncIterator[bytes]]]:
    """The spreadsheet exports as CSV (app.services.documents.exports), unfiltered, each a stream of
    bytes; those that need one customer (the customer ledger) are left out: their rows are in data/."""
    from app.services.documents import exports

    return [
        (resource, exports.stream(session, ctx, resource, "csv", exports.ExportFilters()))
        for resource in exports.TENANT_WIDE
    ]


async def _write_pdfs(
    session: AsyncSession,
    ctx: Context,
    archive: zipfile.ZipFile,
    writer: _Writer,
    data: TenantDataRepository,
    kind: str,
    folder: str,
) -> int:
    from app.services.documents import document_pdfs  # reportlab loads with the first PDF

    count = 0
    after: uuid.UUID | None = None
    seen: set[str] = set()
    while True:
        ids = await data.document_ids(kind, after=after, limit=DOCUMENT_BATCH)
        for document_id in ids:
            pdf = await document_pdfs.render(session, ctx, document_pdfs.DocumentKind(kind), document_id)
            filename = pdf.filename if pdf.filename not in seen else f"{document_id}.pdf"
            seen.add(filename)
            archive.writestr(f"pdf/{folder}/{filename}", pdf.content, compress_type=zipfile.ZIP_STORED)
            count += 1
            await writer.drain()
        if len(ids) < DOCUMENT_BATCH:
            return count
        after = ids[-1]


async def _mail_link(session: AsyncSession, ctx: Context, row: TenantExport) -> None:
    users = UserRepository(session)
    requester = await users.get(row.requested_by) if row.requested_by else None
    if requester is not None and requester.is_active and requester.role == UserRole.owner:
        recipients = [requester]
    else:
        recipients = list(await users.owners())
    tenant = await TenantAccountRepository(session).get(ctx.tenant_id)  # type: ignore[arg-type]
    assert row.expires_at is not None
    url = download_url(ctx.settings, row)
    for user in recipients:
        await mail.enqueue(
            session,
            ctx,
            to=user.email,
            template="tenant_export_ready",
            name=user.full_name,
            business_name=tenant.business_name if tenant else "",
            url=url,
            size=_size(row.size_bytes or 0),
            sha256=row.sha256,
            expires=row.expires_at.strftime("%d %b %Y, %H:%M UTC"),
        )


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{max(n // 1024, 1)} KB"


# --- the scheduler's step ---------------------------------------------------------------------


async def run_due(db: Database, settings: Settings, tenant_id: uuid.UUID, at: datetime) -> Counter[str]:
    """One tenant's due export work at `at`: expire lapsed exports, build due ones."""
    done: Counter[str] = Counter()
    async with db.transaction(tenant_id) as session:
        repo = TenantExportRepository(session)
        expired = await repo.expire_due(at)
        if expired:
            await audit.record_many(
                session,
                [
                    {"action": "tenant_export.expired", "entity_type": "tenant_export", "entity_id": export_id}
                    for export_id in expired
                ],
            )
        due = await repo.due_ids(at)
    done["tenant_exports_expired"] += len(expired)
    for export_id in due:
        done["tenant_exports_built"] += int(await build(db, settings, tenant_id, export_id, at=at))
    return done


async def due_tenants(db: Database, at: datetime, *, only: Sequence[uuid.UUID] | None = None) -> list[uuid.UUID]:
    async with db.transaction() as session:
        return await DueExportRepository(session).tenants(at, only=only)


# --- the signed link and the download ---------------------------------------------------------


def _key(settings: Settings) -> bytes:
    return hashlib.sha256(TOKEN_DOMAIN + settings.jwt_secret.encode()).digest()


def sign(settings: Settings, tenant_id: uuid.UUID, export_id: uuid.UUID, expires_at: datetime) -> str:
    body = tenant_id.bytes + export_id.bytes + int(expires_at.timestamp()).to_bytes(8, "big")
    mac = hmac.new(_key(settings), body, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(body + mac).rstrip(b"=").decode()


def download_url(settings: Settings, row: TenantExport) -> str:
    assert row.expires_at is not None
    return f"{settings.public_base_url}/api/v1/exports/{sign(settings, row.tenant_id, row.id, row.expires_at)}"


@dataclass(frozen=True)
class Download:
    tenant_id: uuid.UUID
    export_id: uuid.UUID
    size_bytes: int
    sha256: str
    filename: str


def verify(settings: Settings, token: str) -> tuple[uuid.UUID, uuid.UUID, datetime] | None:
    """(tenant, export, link expiry) of a token this server signed; None for one of the right shape
    that it did not sign (or signed for other values); 400 for a token of no link's shape at all."""
    raw = b""
    if len(token) <= MAX_TOKEN_LENGTH:
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except (ValueError, TypeError):
            raw = b""
    if len(raw) != 72:
        raise RuleViolation("token", "This is not an export download link.", code="export-link-malformed")
    body, mac = raw[:40], raw[40:]
    if not hmac.compare_digest(mac, hmac.new(_key(settings), body, hashlib.sha256).digest()):
        return None
    expires = datetime.fromtimestamp(int.from_bytes(body[32:], "big"), UTC)
    return uuid.UUID(bytes=body[:16]), uuid.UUID(bytes=body[16:32]), expires


async def open_download(ctx: Context, token: str) -> Download:
    """What a download link leads to: 400 for a token of no link's shape, 404 for one this server did
    not sign (another tenant's or export's values under a copied signature included), 410 once the
    link has expired or the zip was deleted."""
    verified = verify(ctx.settings, token)
    if verified is None:
        raise NotFound("No export at this link.", code="tenant-export-not-found")
    tenant_id, export_id, expires = verified
    if ctx.now >= expires:
        raise Gone("This download link has expired; request a new export.")
    async with ctx.db.transaction(tenant_id) as session:
        row = await TenantExportRepository(session).get(export_id)
        if row is None:
            raise NotFound("No export at this link.", code="tenant-export-not-found")
        if row.status != "done" or row.expires_at is None or row.expires_at <= ctx.now:
            raise Gone("This export has expired; request a new one.")
        filename = f"rms-billing-export-{row.finished_at:%Y%m%d-%H%M%S}.zip" if row.finished_at else "export.zip"
        return Download(tenant_id, export_id, row.size_bytes or 0, row.sha256 or "", filename)


async def chunks(db: Database, download: Download) -> AsyncIterator[bytes]:
    """The zip's bytes, one chunk (and one short transaction) at a time."""
    seq = 0
    while True:
        async with db.transaction(download.tenant_id) as session:
            data = await TenantExportRepository(session).chunk(download.export_id, seq)
        if data is None:
            return
        yield data
        seq += 1


# --- a user's own data ------------------------------------------------------------------------


async def user_export(session: AsyncSession, ctx: Context, user: User) -> dict[str, Any]:
    """Everything this system holds about the calling user as a person: the profile, their login
    sessions (no token hashes), the invitations they sent, their email changes, and what they did
    (their audit entries, the newest AUDIT_ENTRIES_MAX). The business's data is the tenant export's."""
    data = TenantDataRepository(session)
    tenant = await TenantAccountRepository(session).get(user.tenant_id)

    def fields(obj: Any) -> dict[str, Any]:
        table: Table = obj.__table__
        return {c.key: json_value(getattr(obj, c.key)) for c in table.columns if not secret_column(c.name)}

    audit_entries = await data.audit_by(user.id, limit=AUDIT_ENTRIES_MAX)
    return {
        "format": "rms-billing-user-export",
        "version": FORMAT_VERSION,
        "user": fields(user),
        "tenant": {"id": str(user.tenant_id), "business_name": tenant.business_name if tenant else None},
        "sessions": [fields(s) for s in await data.sessions_of(user.id)],
        "invitations_sent": [fields(i) for i in await data.invitations_by(user.id)],
        "email_changes": [fields(e) for e in await data.email_changes_of(user.id)],
        "audit_entries": [fields(a) for a in audit_entries],
        "audit_entries_truncated": len(audit_entries) >= AUDIT_ENTRIES_MAX,
    }


def sha256_base64(hex_digest: str) -> str:
    """The `Digest: sha-256=` value (RFC 3230: base64 of the bytes) of a hex SHA-256."""
    return base64.b64encode(bytes.fromhex(hex_digest)).decode() if hex_digest else ""
