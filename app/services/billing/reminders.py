"""Payment reminders to a tenant's customers: the scheduler's per-tenant step (`send_due`).

Each reminder of an unpaid invoice, a day relative to its due date (the tenant's reminder settings:
-3, 1, 7, 15 by default), goes out once: it is claimed in `job_occasions` (kind `payment_reminder`,
key "<invoice id>:<days>") in the transaction that queues the mail, so two workers or a re-run
send it once. Time is the run's instant only (`ctx.now`, `ctx.today`, in Asia/Kolkata):

- a day's reminders go out from the tenant's send hour until QUIET_FROM (21:00), never at night;
- a reminder is sent up to REMINDER_WINDOW_DAYS late (the worker was down), never later;
- when several reminders of one invoice are due at once, only the latest is sent and the earlier
  ones are claimed as skipped (a customer never gets "due in 3 days" and "1 day overdue" together);
- a customer gets one mail per run (per issuing company, whose name it carries) listing every
  invoice with a reminder due, with each invoice's balance, and the total;
- a customer with reminders off is left out; one without an email is counted and its reminders
  claimed as skipped (a later reminder goes out if an email is added by then);
- only open invoices (app.domain.statuses.is_open: issued or partially paid, something still
  due): never after the invoice is paid, voided or fully credited. The invoices are read under a
  row lock, so a payment committing meanwhile is either seen (no reminder) or waits for this one.
"""

import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.context import Context
from app.core.errors import MailRateLimited
from app.domain.fiscal import INDIA
from app.models.billing.business import Company
from app.models.billing.customer import Customer
from app.models.billing.invoice import Invoice
from app.models.billing.reminder import QUIET_FROM
from app.models.platform.job import OccasionKind
from app.models.platform.outbox import MailPurpose
from app.repositories.billing.reminder_settings import ReminderSettingsRepository
from app.repositories.billing.reminders import PaymentReminderRepository
from app.repositories.platform.jobs import JobOccasionRepository
from app.repositories.platform.outbox import DocumentColumn
from app.services.commerce import payment_links
from app.services.documents import document_mail, document_pdfs, share_links
from app.services.platform import mail, subscriptions

# A reminder found more than this many days after its day (the worker was down) is not sent any more.
REMINDER_WINDOW_DAYS = 3
TEMPLATE = "payment_reminder"
# A mail lists every invoice with a reminder due; at most this many PDFs ride along (the links open all).
MAX_ATTACHMENTS = 10


def occasion_key(invoice_id: uuid.UUID, days: int) -> str:
    return f"{invoice_id}:{days}"


# ₹ and Indian digit grouping (₹1,23,456.50), as every customer mail shows money.
rupees = document_mail.rupees


def when_due(due_date: date, today: date) -> str:
    days = (today - due_date).days
    if days == 0:
        return "due today"
    if days < 0:
        return f"due in {-days} day{'s' if days != -1 else ''}"
    return f"{days} day{'s' if days != 1 else ''} overdue"


def whatsapp_link(phone: str | None, text: str) -> str | None:
    """A wa.me link to the business's own phone (E.164 digits), for the customer to reply on WhatsApp."""
    digits = "".join(ch for ch in phone or "" if ch.isdigit())
    if len(digits) < 10:
        return None
    if len(digits) == 10:  # a national Indian number
        digits = "91" + digits
    return f"https://wa.me/{digits}?text={quote(text)}"


@dataclass
class _Due:
    invoice: Invoice
    customer: Customer
    company: Company
    days: int  # the reminder to send: days from the due date
    earlier: list[int]  # reminders of the invoice due before it and never sent: claimed as skipped


async def send_due(session: AsyncSession, ctx: Context) -> Counter[str]:
    """The bound tenant's payment reminders due at `ctx.now`: counts of mails queued
    (`payment_reminders`), of customers left out for want of an email (`reminders_no_email`) and
    of mails left for a later run by the tenant's hourly customer-mail limit (`reminders_deferred`)."""
    done: Counter[str] = Counter()
    settings = await ReminderSettingsRepository(session).current()
    if settings is None or not settings.enabled:
        return done
    if not settings.send_hour <= ctx.now.astimezone(INDIA).hour < QUIET_FROM:
        return done
    if (await subscriptions.standing(session, ctx)).locked:
        return done  # a locked account is read-only: nothing goes out on its behalf
    groups: dict[tuple[uuid.UUID, uuid.UUID], list[_Due]] = defaultdict(list)
    without_email: dict[uuid.UUID, list[_Due]] = defaultdict(list)
    for item in await _due(session, ctx, sorted(settings.offsets)):
        if item.customer.email:
            groups[(item.customer.id, item.company.id)].append(item)
        else:
            without_email[item.customer.id].append(item)
    occasions = JobOccasionRepository(session)
    for items in without_email.values():
        if [item for item in items if await _claim(occasions, ctx, item, reason="no_email")]:
            done["reminders_no_email"] += 1
    waiting = list(groups.values())
    while waiting:
        try:
            await document_mail.check_hourly_limit(session, ctx)
        except MailRateLimited:
            done["reminders_deferred"] += len(waiting)  # unclaimed: the next runs send them
            break
        items = [item for item in waiting.pop(0) if await _claim(occasions, ctx, item)]
        if items:
            await _queue(session, ctx, items)
            done["payment_reminders"] += 1
    return done


async def _due(session: AsyncSession, ctx: Context, offsets: list[int]) -> list[_Due]:
    """For each open invoice with a reminder due today (or up to the window late) and not claimed:
    the latest such reminder, and the earlier unclaimed ones it supersedes."""
    today, repo = ctx.today, PaymentReminderRepository(session)
    rows = await repo.open_invoices(
        due_from=today - timedelta(days=REMINDER_WINDOW_DAYS + offsets[-1]), due_to=today - timedelta(days=offsets[0])
    )
    claimed = await repo.claimed([occasion_key(row[0].id, days) for row in rows for days in offsets])
    found = []
    for invoice, customer, company in rows:
        pending = [
            days
            for days in offsets
            if invoice.due_date + timedelta(days=days) <= today and occasion_key(invoice.id, days) not in claimed
        ]
        current = [d for d in pending if (today - invoice.due_date - timedelta(days=d)).days <= REMINDER_WINDOW_DAYS]
        if current:  # else nothing due, or only reminders too late to send
            latest = max(current)
            found.append(_Due(invoice, customer, company, latest, [d for d in pending if d != latest]))
    return found


async def _claim(occasions: JobOccasionRepository, ctx: Context, item: _Due, *, reason: str | None = None) -> bool:
    """Claim the reminder (sent, or not for `reason`) and the earlier ones it supersedes; False if
    another run has it."""
    at = ctx.now.isoformat()
    detail: dict[str, Any] = {"at": at, "sent": reason is None} | ({"reason": reason} if reason else {})
    if not await occasions.claim(OccasionKind.payment_reminder, occasion_key(item.invoice.id, item.days), detail):
        return False
    for days in item.earlier:  # not sent late beside it
        skipped = {"at": at, "sent": False, "reason": f"superseded by {item.days}"}
        await occasions.claim(OccasionKind.payment_reminder, occasion_key(item.invoice.id, days), skipped)
    return True


async def _queue(session: AsyncSession, ctx: Context, items: list[_Due]) -> None:
    """One mail to the customer listing its invoices with a reminder due (oldest due date first),
    each with its share link, its PDF attached (up to MAX_ATTACHMENTS)."""
    items.sort(key=lambda item: (item.invoice.due_date, item.invoice.number or ""))
    customer, company, today = items[0].customer, items[0].company, ctx.today
    name = document_mail.company_name(company)
    total = sum((item.invoice.balance_due for item in items), Decimal("0.00"))
    invoices = []
    for item in items:
        invoice = item.invoice
        link = await share_links.create(session, ctx, invoice.id)
        invoices.append(
            {
                "number": invoice.number,
                "invoice_date": _day(invoice.invoice_date),
                "due_date": _day(invoice.due_date),
                "when": when_due(invoice.due_date, today),
                "overdue": invoice.due_date < today,
                "total": rupees(invoice.total),
                "balance_due": rupees(invoice.balance_due),
                "upi_link": document_pdfs.payment_link(invoice, company.upi_vpa),
                "share_url": link.url,
                "pay_url": await payment_links.pay_now_url(session, ctx, invoice),  # its open payment link
            }
        )
    numbers = ", ".join(item.invoice.number or "" for item in items)
    documents: list[tuple[DocumentColumn, uuid.UUID]] = [("invoice_id", item.invoice.id) for item in items]
    await mail.enqueue(
        session,
        ctx,
        to=customer.email or "",
        template=TEMPLATE,
        reply_to=company.email,
        sender_name=name,
        attachments=[mail.attachment("invoice", item.invoice.id) for item in items[:MAX_ATTACHMENTS]],
        documents=documents,  # not the customer: its link means a statement of account (deliveries list)
        purpose=MailPurpose.reminder,
        customer_name=customer.name,
        company_name=name,
        company_email=company.email,
        company_phone=company.phone,
        upi_vpa=company.upi_vpa,
        whatsapp_url=whatsapp_link(company.phone, f"Hello {name}, about invoice {numbers}"),
        invoices=invoices,
        count=len(invoices),
        attached=min(len(items), MAX_ATTACHMENTS),
        any_overdue=any(item["overdue"] for item in invoices),
        total=rupees(total),
    )


def _day(day: date) -> str:
    return day.strftime("%d %b %Y")
