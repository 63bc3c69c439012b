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
from urllib.parse import quote, urlencode

from babel.numbers import format_currency
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.context import Context
from app.domain.fiscal import INDIA
from app.models.business import Company
from app.models.customer import Customer
from app.models.invoice import Invoice
from app.models.job import OccasionKind
from app.models.reminder import QUIET_FROM
from app.repositories.jobs import JobOccasionRepository
from app.repositories.reminder_settings import ReminderSettingsRepository
from app.repositories.reminders import PaymentReminderRepository
from app.services import mail

# A reminder found more than this many days after its day (the worker was down) is not sent any more.
REMINDER_WINDOW_DAYS = 3
TEMPLATE = "payment_reminder"


def occasion_key(invoice_id: uuid.UUID, days: int) -> str:
    return f"{invoice_id}:{days}"


def rupees(amount: Decimal) -> str:
    """₹ and Indian digit grouping: ₹1,23,456.50."""
    return str(format_currency(amount, "INR", locale="en_IN"))


def when_due(due_date: date, today: date) -> str:
    days = (today - due_date).days
    if days == 0:
        return "due today"
    if days < 0:
        return f"due in {-days} day{'s' if days != -1 else ''}"
    return f"{days} day{'s' if days != 1 else ''} overdue"


def upi_link(vpa: str, payee: str, amount: Decimal, reference: str) -> str:
    """The NPCI UPI payment URI for `amount` (two decimals), values percent-encoded."""
    query = {"pa": vpa, "pn": payee, "am": f"{amount:.2f}", "cu": "INR", "tr": reference, "tn": f"Invoice {reference}"}
    return "upi://pay?" + urlencode({k: v[:50] if k == "tn" else v for k, v in query.items()}, quote_via=quote)


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
    days: int  # the reminder sent: days from the due date


async def send_due(session: AsyncSession, ctx: Context) -> Counter[str]:
    """The bound tenant's payment reminders due at `ctx.now`: counts of mails queued
    (`payment_reminders`) and of customers left out for want of an email (`reminders_no_email`)."""
    done: Counter[str] = Counter()
    settings = await ReminderSettingsRepository(session).current()
    if settings is None or not settings.enabled:
        return done
    hour = ctx.now.astimezone(INDIA).hour
    if not settings.send_hour <= hour < QUIET_FROM:
        return done
    today, offsets = ctx.today, sorted(settings.offsets)
    repo, occasions = PaymentReminderRepository(session), JobOccasionRepository(session)
    rows = await repo.open_invoices(
        due_from=today - timedelta(days=REMINDER_WINDOW_DAYS + offsets[-1]), due_to=today - timedelta(days=offsets[0])
    )
    claimed = await repo.claimed([occasion_key(row[0].id, days) for row in rows for days in offsets])
    due: dict[tuple[uuid.UUID, uuid.UUID], list[_Due]] = defaultdict(list)
    without_email: set[uuid.UUID] = set()
    for invoice, customer, company in rows:
        pending = [
            days
            for days in offsets
            if invoice.due_date + timedelta(days=days) <= today and occasion_key(invoice.id, days) not in claimed
        ]
        current = [d for d in pending if (today - invoice.due_date - timedelta(days=d)).days <= REMINDER_WINDOW_DAYS]
        if not current:
            continue  # nothing due, or only reminders too late to send
        latest = max(current)
        detail: dict[str, Any] = {"at": ctx.now.isoformat(), "sent": bool(customer.email)}
        if not customer.email:
            detail["reason"] = "no_email"
        if not await occasions.claim(OccasionKind.payment_reminder, occasion_key(invoice.id, latest), detail):
            continue  # another run has it
        for days in pending:
            if days != latest:  # earlier ones are not sent late beside it
                skipped = {"at": ctx.now.isoformat(), "sent": False, "reason": f"superseded by {latest}"}
                await occasions.claim(OccasionKind.payment_reminder, occasion_key(invoice.id, days), skipped)
        if customer.email:
            due[(customer.id, company.id)].append(_Due(invoice, customer, company, latest))
        else:
            without_email.add(customer.id)
    for items in due.values():
        await _queue(session, ctx, items)
        done["payment_reminders"] += 1
    done["reminders_no_email"] += len(without_email)
    return done


async def _queue(session: AsyncSession, ctx: Context, items: list[_Due]) -> None:
    """One mail to the customer listing its invoices with a reminder due (oldest due date first)."""
    items.sort(key=lambda item: (item.invoice.due_date, item.invoice.number or ""))
    customer, company, today = items[0].customer, items[0].company, ctx.today
    company_name = company.trade_name or company.legal_name
    total = sum((item.invoice.balance_due for item in items), Decimal("0.00"))
    invoices = [
        {
            "number": item.invoice.number,
            "invoice_date": _day(item.invoice.invoice_date),
            "due_date": _day(item.invoice.due_date),
            "when": when_due(item.invoice.due_date, today),
            "overdue": item.invoice.due_date < today,
            "total": rupees(item.invoice.total),
            "balance_due": rupees(item.invoice.balance_due),
            "upi_link": upi_link(company.upi_vpa, company_name, item.invoice.balance_due, item.invoice.number or "")
            if company.upi_vpa
            else None,
            "share_url": None,  # the invoice's share link, when share links exist (issue 10 §3)
        }
        for item in items
    ]
    numbers = ", ".join(item.invoice.number or "" for item in items)
    await mail.enqueue(
        session,
        ctx,
        to=customer.email or "",
        template=TEMPLATE,
        customer_name=customer.name,
        company_name=company_name,
        company_email=company.email,
        company_phone=company.phone,
        upi_vpa=company.upi_vpa,
        whatsapp_url=whatsapp_link(company.phone, f"Hello {company_name}, about invoice {numbers}"),
        invoices=invoices,
        count=len(invoices),
        any_overdue=any(item["overdue"] for item in invoices),
        total=rupees(total),
    )


def _day(day: date) -> str:
    return day.strftime("%d %b %Y")
