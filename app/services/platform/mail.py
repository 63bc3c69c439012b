"""The outbox: durable after-commit work (issue 10 §5), email its first kind.

Mail is rendered from Jinja2 templates, written to the outbox in the caller's transaction and
delivered after commit (SMTP when SMTP_HOST is set, else an .eml file in OUTBOX_DIR). A failed
delivery stays pending and is retried by the scheduled job (`deliver_due`) with backoff, up to
MAIL_MAX_ATTEMPTS, then it is `failed` (with its last error) for good.

The worker dispatches each row to the handler registered for its `kind` (`HANDLERS`); a new kind
of work (issue 13: exports, webhooks) adds its value to the outbox's `kind` CHECK (a migration)
and one handler here: it is then written in a request's transaction, delivered after commit,
retried with backoff and visible like mail.

Delivery, one row at a time, each in its own short transaction: claim the row (`FOR UPDATE SKIP
LOCKED`: a second deliverer skips it), render its attachments (PDFs, off the event loop in
app.services.documents.document_pdfs' bounded pool), send, mark it sent (or failed) and commit. The lock is
held through the render and the send, which is what makes a message go out once however many
deliverers run; it locks only that outbox row (the documents are read from the transaction's
snapshot, unlocked), so nothing a request does ever waits for it. Rendering before claiming would
shorten the transaction by the render but render for nothing whenever another deliverer holds the
row; exactly-once matters more. Crash after the SMTP server took the message and before the commit:
the message is sent again by the retry (at-least-once in that window, with the same Message-ID, so
a receiving system can fold the two).
"""

import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import make_msgid, parseaddr
from pathlib import Path
from typing import Any

import aiosmtplib
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.context import Context
from app.core.database import Database, after_commit
from app.models.base import utcnow
from app.models.platform.outbox import MAX_RECIPIENTS, MailPurpose, OutboxEmail, OutboxKind
from app.repositories.platform.outbox import DocumentColumn, OutboxRepository

log = logging.getLogger(__name__)

TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "email"
MAX_RETRY_DELAY = timedelta(hours=6)
_env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))


# outbox_emails.subject's length: a subject made of long names (two 200-character names in an
# invitation make 431 characters) is cut to fit, never refused.
SUBJECT_MAX: int = OutboxEmail.__table__.c.subject.type.length  # type: ignore[attr-defined]


class DeliveryFailed(Exception):
    """A delivery attempt that failed for a reason worth retrying (recorded as the row's last error)."""


class NoLongerDue(Exception):
    """Work that must not be done any more (what it was about changed while it waited): the row
    becomes `cancelled` at once with this reason, never retried, never counted as undeliverable."""


# A handler does one row's work inside the claiming transaction; it raises DeliveryFailed (or an
# SMTP / network error) for a failed attempt.
Handler = Callable[[AsyncSession, Context, OutboxEmail], Awaitable[None]]
RETRYABLE: tuple[type[Exception], ...] = (DeliveryFailed, aiosmtplib.SMTPException, OSError)


def render(template: str, **context: Any) -> tuple[str, str, str]:
    """(subject, text, html) of templates/email/<template>.{subject,txt,html}."""
    subject = _env.get_template(f"{template}.subject").render(**context).strip()
    text = _env.get_template(f"{template}.txt").render(**context)
    html = _env.get_template(f"{template}.html").render(**context)
    return bounded_subject(subject), text, html


def bounded_subject(subject: str) -> str:
    """One line (any run of whitespace, CR/LF included, becomes a space) of at most SUBJECT_MAX characters."""
    subject = " ".join(subject.split())
    if len(subject) <= SUBJECT_MAX:
        return subject
    return subject[: SUBJECT_MAX - 1].rstrip() + "…"


def header_safe(value: str, what: str) -> str:
    """A header value as given, or ValueError when it could smuggle a header (CR, LF, NUL). The API
    refuses such input first (422); this is the last line for every other caller."""
    if any(c in value for c in "\r\n\x00"):
        raise ValueError(f"{what} contains a line break")
    return value


def attachment(kind: str, document_id: uuid.UUID, **options: str | date | None) -> dict[str, str]:
    """A document reference for `enqueue(attachments=...)`: rendered to PDF at delivery by
    app.services.documents.document_pdfs.render(kind, id, **options) (options: copy, start, end)."""
    ref = {"kind": kind, "id": str(document_id)}
    ref.update({name: str(value) for name, value in options.items() if value is not None})
    return ref


async def enqueue(
    session: AsyncSession,
    ctx: Context,
    *,
    to: str | Sequence[str],
    template: str,
    cc: Sequence[str] = (),
    reply_to: str | None = None,
    sender_name: str | None = None,
    subject: str | None = None,
    attachments: Sequence[dict[str, str]] = (),
    documents: Sequence[tuple[DocumentColumn, uuid.UUID]] = (),
    purpose: MailPurpose = MailPurpose.account,
    **context: Any,
) -> OutboxEmail:
    """Put one email in the outbox (in the caller's transaction); it is sent after the commit.

    Customer mail adds: several To and Cc recipients, Reply-To, the From display name (the address
    stays MAIL_FROM's), a subject that replaces the template's, PDF attachments (document
    references, see `attachment`) rendered at delivery, the documents the mail is about (for the
    deliveries lists) and its purpose (the hourly limit counts 'document' and 'reminder')."""
    db, settings = ctx.db, ctx.settings
    recipients = [header_safe(address, "an address") for address in ([to] if isinstance(to, str) else to)]
    copies = [header_safe(address, "an address") for address in cc]
    if not 1 <= len(recipients) <= MAX_RECIPIENTS or len(copies) > MAX_RECIPIENTS:
        raise ValueError(f"1 to {MAX_RECIPIENTS} To and at most {MAX_RECIPIENTS} Cc recipients")
    rendered_subject, text, html = render(template, **context)
    message = OutboxEmail(
        kind=OutboxKind.email,
        purpose=purpose,
        to_address=recipients[0],
        to_addresses=recipients,
        cc_addresses=copies,
        reply_to=header_safe(reply_to, "reply-to") if reply_to else None,
        sender_name=header_safe(sender_name, "the sender's name")[:200] if sender_name else None,
        subject=bounded_subject(subject) if subject else rendered_subject,
        body_text=text,
        body_html=html,
        attachments=list(attachments),
    )
    if purpose != MailPurpose.account:
        message.created_at = ctx.now  # the hourly limit's window is on the app's clock
    repo = OutboxRepository(session)
    await repo.add(message)
    if documents:
        await repo.link_documents(message.id, list(documents))
    tenant_id, message_id = message.tenant_id, message.id

    async def send_after_commit() -> None:
        await deliver(db, settings, tenant_id, [message_id])

    after_commit(session, send_after_commit)
    return message


async def deliver(
    db: Database, settings: Settings, tenant_id: uuid.UUID, ids: list[uuid.UUID], *, due_at: datetime | None = None
) -> int:
    """Do the work of pending rows once each (each in its own transaction); failures stay pending
    with the error recorded and a next attempt time, or become `failed` at MAIL_MAX_ATTEMPTS."""
    done = 0
    for message_id in ids:
        done += await _deliver_one(db, settings, tenant_id, message_id, due_at)
    return done


async def deliver_due(db: Database, settings: Settings, tenant_id: uuid.UUID, at: datetime) -> int:
    """The retry: deliver the tenant's pending rows whose next attempt is due at `at`."""
    async with db.transaction(tenant_id) as session:
        ids = await OutboxRepository(session).due_ids(at, settings.mail_max_attempts)
    return await deliver(db, settings, tenant_id, ids, due_at=at)


def failure_reason(exc: Exception) -> str:
    """What a tenant's deliveries list shows of a failed attempt: the SMTP server's answer (code and
    text), or that the server could not be reached; never the product's mail host or port, which
    connection errors name (the log keeps the whole error)."""
    if isinstance(exc, DeliveryFailed):
        return str(exc) or "delivery failed"
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return f"{exc.code} {exc.message}"
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        return "; ".join(f"{refused.code} {refused.message}" for refused in exc.recipients) or "recipients refused"
    return f"could not connect to the mail server ({type(exc).__name__})"


def retry_delay(attempts: int) -> timedelta:
    """Backoff after the n-th failed attempt: 1, 2, 4 ... minutes, at most MAX_RETRY_DELAY."""
    return min(timedelta(minutes=2 ** min(attempts - 1, 20)), MAX_RETRY_DELAY)


async def _deliver_one(
    db: Database, settings: Settings, tenant_id: uuid.UUID, message_id: uuid.UUID, due_at: datetime | None
) -> int:
    now = due_at or utcnow()
    async with db.transaction(tenant_id) as session:
        repo = OutboxRepository(session)
        claimed = await repo.claim_pending([message_id], max_attempts=settings.mail_max_attempts, due_at=due_at)
        if not claimed:
            return 0  # done, given up, not due, or another deliverer has it
        message = claimed[0]
        ctx = Context(settings=settings, db=db, now=now, tenant_id=tenant_id)
        try:
            await HANDLERS[message.kind](session, ctx, message)
        except SQLAlchemyError:
            raise  # the transaction is gone: the row stays as it was, for the next run
        except NoLongerDue as exc:
            log.info("outbox %s %s not delivered: %s", message.kind, message.id, exc)
            repo.mark_cancelled(message, str(exc))
            return 0
        except Exception as exc:
            # A handler's bug (a header Python refuses, say) is a failed attempt too: recorded,
            # visible and capped like an SMTP failure, never retried unseen forever.
            # The reason shown to the tenant (deliveries lists) is the SMTP server's answer or the
            # connection error; a bug's own text stays in the log.
            if isinstance(exc, RETRYABLE):
                log.warning("outbox %s %s (attempt %d) failed: %s", message.kind, message.id, message.attempts + 1, exc)
                reason = failure_reason(exc)
            else:
                log.exception("outbox %s %s: its handler failed", message.kind, message.id)
                reason = f"internal error ({type(exc).__name__})"
            retry_at = now + retry_delay(message.attempts + 1)
            repo.mark_failed(message, reason, retry_at, settings.mail_max_attempts)
            return 0
        repo.mark_sent(message, now)
        return 1


# --- the email handler ---------------------------------------------------------------------------


def build_message(settings: Settings, message: OutboxEmail) -> EmailMessage:
    """The message's headers and bodies (attachments are added at delivery). The From address is
    always MAIL_FROM's (the product sends, so its domain's SPF/DKIM hold); a customer mail shows the
    company's name as the display name and replies go to the company (Reply-To)."""
    email = EmailMessage()
    default_name, from_address = parseaddr(settings.mail_from)
    email["From"] = Address(display_name=message.sender_name or default_name, addr_spec=from_address)
    email["To"] = ", ".join(message.to_addresses or [message.to_address])
    if message.cc_addresses:
        email["Cc"] = ", ".join(message.cc_addresses)
    if message.reply_to:
        email["Reply-To"] = message.reply_to
    email["Subject"] = message.subject
    email["Message-ID"] = make_msgid(idstring=str(message.id), domain="rms-billing.local")
    email.set_content(message.body_text)
    email.add_alternative(message.body_html, subtype="html")
    return email


async def _attach_documents(session: AsyncSession, ctx: Context, email: EmailMessage, message: OutboxEmail) -> None:
    if not message.attachments:
        return
    for ref in message.attachments:
        try:
            from app.services.documents import (
                document_pdfs,  # the PDF layer (reportlab) loads with the first attachment
            )

            options = _render_options(ref)
            async with session.begin_nested():  # a failed render leaves the claim usable
                pdf = await document_pdfs.render(
                    session, ctx, document_pdfs.DocumentKind(ref["kind"]), uuid.UUID(ref["id"]), **options
                )
        except Exception as exc:
            log.exception("outbox %s: the %s %s could not be rendered", message.id, ref.get("kind"), ref.get("id"))
            raise DeliveryFailed(f"the {ref.get('kind')} PDF could not be rendered") from exc
        email.add_attachment(pdf.content, maintype="application", subtype="pdf", filename=pdf.filename)


def _render_options(ref: dict[str, str]) -> dict[str, Any]:
    """A stored reference's options as document_pdfs.render takes them."""
    from app.rendering import Copy

    options: dict[str, Any] = {}
    if "copy" in ref:
        options["copy"] = Copy(ref["copy"])
    for name in ("start", "end"):
        if name in ref:
            options[name] = date.fromisoformat(ref[name])
    return options


async def _deliver_email(session: AsyncSession, ctx: Context, message: OutboxEmail) -> None:
    settings = ctx.settings
    if message.purpose == MailPurpose.reminder and not await OutboxRepository(session).reminds_of_open_invoice(
        message.id
    ):
        # Queued before an SMTP outage, say, and every invoice it asks to pay was settled since.
        raise NoLongerDue("not sent: every invoice it reminds of was settled before it could be delivered")
    email = build_message(settings, message)
    await _attach_documents(session, ctx, email, message)
    if not settings.smtp_host:
        settings.outbox_dir.mkdir(parents=True, exist_ok=True)
        path = settings.outbox_dir / f"{message.id}.eml"
        path.write_bytes(bytes(email))
        log.warning("mail to %s written to %s (SMTP_HOST unset)", message.to_address, path.resolve())
        return
    await aiosmtplib.send(
        email,
        hostname=settings.smtp_host,
        port=settings.smtp_port,
        username=settings.smtp_username,
        password=settings.smtp_password,
        start_tls=settings.smtp_starttls,
        timeout=settings.smtp_timeout_seconds,
    )


HANDLERS: dict[str, Handler] = {OutboxKind.email: _deliver_email}
