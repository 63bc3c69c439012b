"""Email: rendered from Jinja2 templates, written to the outbox in the caller's transaction,
delivered after commit (SMTP when SMTP_HOST is set, else an .eml file in OUTBOX_DIR). A failed
delivery stays pending and is retried by the scheduled job (`deliver_due`) with backoff."""

import logging
import uuid
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any

import aiosmtplib
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.context import Context
from app.core.database import Database, after_commit
from app.models.base import utcnow
from app.models.outbox import OutboxEmail
from app.repositories.outbox import OutboxRepository

log = logging.getLogger(__name__)

TEMPLATES = Path(__file__).resolve().parents[1] / "templates" / "email"
MAX_RETRY_DELAY = timedelta(hours=6)
_env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))


# outbox_emails.subject's length: a subject made of long names (two 200-character names in an
# invitation make 431 characters) is cut to fit, never refused.
SUBJECT_MAX: int = OutboxEmail.__table__.c.subject.type.length  # type: ignore[attr-defined]


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


async def enqueue(session: AsyncSession, ctx: Context, *, to: str, template: str, **context: Any) -> OutboxEmail:
    """Put one email in the outbox (in the caller's transaction); it is sent after the commit."""
    db, settings = ctx.db, ctx.settings
    subject, text, html = render(template, **context)
    message = await OutboxRepository(session).add(
        OutboxEmail(to_address=to, subject=subject, body_text=text, body_html=html)
    )
    tenant_id, message_id = message.tenant_id, message.id

    async def send_after_commit() -> None:
        await deliver(db, settings, tenant_id, [message_id])

    after_commit(session, send_after_commit)
    return message


async def deliver(db: Database, settings: Settings, tenant_id: uuid.UUID, ids: list[uuid.UUID]) -> int:
    """Send pending messages once each; failures stay pending with the error recorded."""
    async with db.transaction(tenant_id) as session:
        return await _send_all(settings, await OutboxRepository(session).claim_pending(ids), utcnow())


async def deliver_due(db: Database, settings: Settings, tenant_id: uuid.UUID, at: datetime) -> int:
    """The retry: send the tenant's pending messages whose next attempt is due at `at`."""
    async with db.transaction(tenant_id) as session:
        messages = await OutboxRepository(session).claim_due(at, settings.mail_max_attempts)
        return await _send_all(settings, messages, at)


def retry_delay(attempts: int) -> timedelta:
    """Backoff after the n-th failed attempt: 1, 2, 4 ... minutes, at most MAX_RETRY_DELAY."""
    return min(timedelta(minutes=2 ** min(attempts - 1, 20)), MAX_RETRY_DELAY)


async def _send_all(settings: Settings, messages: list[OutboxEmail], now: datetime) -> int:
    sent = 0
    for message in messages:
        try:
            await _send(settings, message)
        except (aiosmtplib.SMTPException, OSError) as exc:
            log.warning("mail %s to %s not sent: %s", message.id, message.to_address, exc)
            OutboxRepository.mark_failed(message, str(exc), now + retry_delay(message.attempts + 1))
            continue
        OutboxRepository.mark_sent(message, now)
        sent += 1
    return sent


def build_message(settings: Settings, message: OutboxEmail) -> EmailMessage:
    email = EmailMessage()
    email["From"] = settings.mail_from
    email["To"] = message.to_address
    email["Subject"] = message.subject
    email["Message-ID"] = make_msgid(idstring=str(message.id), domain="rms-billing.local")
    email.set_content(message.body_text)
    email.add_alternative(message.body_html, subtype="html")
    return email


async def _send(settings: Settings, message: OutboxEmail) -> None:
    email = build_message(settings, message)
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
