"""Documents mailed to customers: POST /invoices/{id}/send, /credit-notes/{id}/send,
/receipts/{id}/send, /customers/{id}/statement/send, and the mail about a document
(GET /invoices/{id}/deliveries ...).

A send writes one outbox row (app.services.platform.mail) in the request's transaction: the body rendered
now from templates/email/document_<kind>.*, the PDF as a document reference rendered when the
mail is delivered, the document linked (`outbox_email_documents`) so its deliveries list finds it.
The worker delivers it after commit and retries it with backoff.

The hourly limit: customer mail (purpose document or reminder) the tenant wrote in the last hour,
counted from the outbox itself, against its plan's `customer_emails_per_hour` (NULL: the
CUSTOMER_EMAILS_PER_HOUR setting). Race-safe: a transaction-scoped advisory lock on (tenant,
"customer_mail") is taken before counting, so two concurrent sends of one tenant count one after
the other (the second, a new statement under READ COMMITTED, sees the first's row once it
commits). Over the limit: 429 `mail-rate-limited`, Retry-After = when the oldest mail of the
window is an hour old. Dunning calls `check_hourly_limit` the same way.
"""

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from babel.numbers import format_currency
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.context import Context
from app.core.errors import AppError, Conflict, MailRateLimited, NotFound, RuleViolation
from app.domain.fiscal import financial_year_start
from app.models.billing.business import Company
from app.models.billing.customer import Customer
from app.models.platform.outbox import MailPurpose, OutboxEmail
from app.repositories.billing.companies import CompanyRepository
from app.repositories.documents.document_sources import DocumentSourceRepository
from app.repositories.platform.outbox import DeliveryFilter, DeliveryRepository, DocumentColumn, OutboxRepository
from app.repositories.platform.subscriptions import PlanRepository, SubscriptionRepository
from app.schemas.documents.document_mail import (
    DeliveryPage,
    DeliveryRead,
    InvoiceSendRequest,
    SendRequest,
    StatementSendRequest,
)
from app.services.billing import credit_notes, customers, invoicing, ledger, receipts
from app.services.commerce import payment_links
from app.services.documents import share_links
from app.services.platform import mail, subscriptions

WINDOW = timedelta(hours=1)
LOCK = "customer_mail"


def rupees(amount: Decimal) -> str:
    """₹1,23,456.50: the rupee sign and Indian digit grouping."""
    return str(format_currency(amount, "INR", locale="en_IN"))


def _day(day: date) -> str:
    return day.strftime("%d %b %Y")


async def check_hourly_limit(session: AsyncSession, ctx: Context) -> None:
    """Before writing customer mail: 429 when the tenant's last hour holds its plan's allowance."""
    standing = await subscriptions.standing(session, ctx)
    plan = await PlanRepository(session).get(standing.state.plan_code)
    cap = plan.customer_emails_per_hour if plan is not None else None
    if cap is None:
        cap = ctx.settings.customer_emails_per_hour
    await SubscriptionRepository(session).lock(LOCK)
    count, oldest = await OutboxRepository(session).customer_mail_since(ctx.now - WINDOW)
    if count >= cap:
        wait = (oldest + WINDOW - ctx.now).total_seconds() if oldest is not None else WINDOW.total_seconds()
        raise MailRateLimited(
            int(wait) + 1, f"Your plan sends {cap} customer emails an hour; this hour's are used. Try again later."
        )


@dataclass(frozen=True)
class Outgoing:
    """What a send needs besides the request: the template, its context, the document's PDF and link."""

    template: str
    customer: Customer
    company: Company
    context: dict[str, Any]
    attachment: dict[str, str]
    document: tuple[DocumentColumn, uuid.UUID]


def _recipients(body: SendRequest, customer: Customer) -> tuple[list[str], list[str]]:
    to = list(dict.fromkeys(body.to)) if body.to else ([customer.email] if customer.email else [])
    if not to:
        detail = "The customer has no email address: give `to`."
        raise AppError(
            detail, code="no-recipient", errors=[{"loc": ["body", "to"], "msg": detail, "type": "no-recipient"}]
        )
    cc = [address for address in dict.fromkeys(body.cc) if address not in to]
    return to, cc


async def _parties(session: AsyncSession, customer_id: uuid.UUID, company_id: uuid.UUID) -> tuple[Customer, Company]:
    customer = await customers.get(session, customer_id)
    company = await CompanyRepository(session).get(company_id)
    if company is None:  # a foreign key holds it
        raise NotFound("No company with this id.", code="company-not-found")
    return customer, company


def company_name(company: Company) -> str:
    return company.trade_name or company.legal_name


async def _send(session: AsyncSession, ctx: Context, body: SendRequest, outgoing: Outgoing) -> OutboxEmail:
    to, cc = _recipients(body, outgoing.customer)
    await check_hourly_limit(session, ctx)
    company = outgoing.company
    name = company_name(company)
    return await mail.enqueue(
        session,
        ctx,
        to=to,
        cc=cc,
        template=outgoing.template,
        subject=body.subject,
        reply_to=company.email,
        sender_name=name,
        attachments=[outgoing.attachment] if body.attach_pdf else [],
        documents=[outgoing.document],
        purpose=MailPurpose.document,
        company_name=name,
        company_email=company.email,
        company_phone=company.phone,
        customer_name=outgoing.customer.name,
        message=body.message,
        attach_pdf=body.attach_pdf,
        **outgoing.context,
    )


async def send_invoice(
    session: AsyncSession, ctx: Context, invoice_id: uuid.UUID, body: InvoiceSendRequest
) -> OutboxEmail:
    invoice = await invoicing.get(session, invoice_id)
    if invoice.status == "draft":
        raise Conflict("A draft cannot be sent: issue it first.", code="invoice-is-draft")
    if invoice.status == "void":
        raise Conflict("A void invoice cannot be sent.", code="invoice-void")
    customer, company = await _parties(session, invoice.customer_id, invoice.company_id)
    context = {
        "number": invoice.number,
        "invoice_date": _day(invoice.invoice_date),
        "due_date": _day(invoice.due_date),
        "total": rupees(invoice.total),
        "balance_due": rupees(invoice.balance_due),
        "paid": invoice.balance_due <= 0,
        "overdue": invoice.balance_due > 0 and invoice.due_date < ctx.today,
        "share_url": None,
        "pay_url": await payment_links.pay_now_url(session, ctx, invoice),  # its open payment link
    }
    if body.share_link:
        link = await share_links.create(session, ctx, invoice.id)
        context["share_url"] = link.url
    outgoing = Outgoing(
        "document_invoice",
        customer,
        company,
        context,
        mail.attachment("invoice", invoice.id, copy="original"),
        ("invoice_id", invoice.id),
    )
    return await _send(session, ctx, body, outgoing)


async def send_credit_note(
    session: AsyncSession, ctx: Context, credit_note_id: uuid.UUID, body: SendRequest
) -> OutboxEmail:
    note = await credit_notes.get(session, credit_note_id)
    customer, company = await _parties(session, note.customer_id, note.company_id)
    context = {
        "number": note.number,
        "credit_note_date": _day(note.credit_note_date),
        "invoice_number": note.invoice_number,
        "invoice_date": _day(note.invoice_date),
        "total": rupees(note.total),
        "reason": note.reason,
    }
    outgoing = Outgoing(
        "document_credit_note",
        customer,
        company,
        context,
        mail.attachment("credit_note", note.id, copy="original"),
        ("credit_note_id", note.id),
    )
    return await _send(session, ctx, body, outgoing)


async def send_receipt(session: AsyncSession, ctx: Context, receipt_id: uuid.UUID, body: SendRequest) -> OutboxEmail:
    receipt = await receipts.get(session, receipt_id)
    if receipt.status == "void":
        raise Conflict("A void receipt cannot be sent.", code="receipt-void")
    customer, company = await _parties(session, receipt.customer_id, receipt.company_id)
    context = {
        "number": receipt.number,
        "receipt_date": _day(receipt.receipt_date),
        "total": rupees(receipt.amount),
        "mode": receipt.mode.replace("_", " "),
        "reference": receipt.reference,
    }
    outgoing = Outgoing(
        "document_receipt",
        customer,
        company,
        context,
        mail.attachment("receipt", receipt.id),
        ("receipt_id", receipt.id),
    )
    return await _send(session, ctx, body, outgoing)


async def send_statement(
    session: AsyncSession, ctx: Context, customer_id: uuid.UUID, body: StatementSendRequest
) -> OutboxEmail:
    """The customer's statement of account for the period (default: the financial year to date),
    from the company that heads the statement PDF (the one that billed the customer last, else the
    tenant's first)."""
    start, end = _period(body.period.start, body.period.end, today=ctx.today)
    source = await DocumentSourceRepository(session).statement(customer_id)
    if source is None:
        raise NotFound("Customer not found.", code="customer-not-found")
    if source.company is None:
        raise NotFound("The tenant has no company to send a statement from.", code="company-not-found")
    customer = source.customer
    context = {
        "period_start": _day(start),
        "period_end": _day(end),
        "balance": rupees(customer.balance),
        "owes": customer.balance > 0,
    }
    outgoing = Outgoing(
        "document_statement",
        customer,
        source.company,
        context,
        mail.attachment("statement", customer.id, start=start, end=end),
        ("customer_id", customer.id),
    )
    return await _send(session, ctx, body, outgoing)


def _period(start: date | None, end: date | None, *, today: date) -> tuple[date, date]:
    """The statement PDF's defaults (`statements.period`: to today, from the start of `to`'s
    financial year), refused as a rule of the body (400) rather than of a query: `from` after `to`
    (given, or defaulted: a `from` in the future) is `invalid-date-range`."""
    end = ledger.check_day("period.to", end or today)
    start = ledger.check_day("period.from", start or financial_year_start(end))
    if start > end:
        raise RuleViolation("period", "The period ends before it starts.", code="invalid-date-range")
    return start, end


async def deliveries(
    session: AsyncSession,
    ctx: Context,
    column: DocumentColumn,
    document_id: uuid.UUID,
    *,
    limit: int,
    cursor: str | None,
) -> DeliveryPage:
    """The mail about one document (sent, reminders ...), newest first; the caller checked that the
    document exists in this tenant."""
    rows, next_cursor = await DeliveryRepository(session).list_page(
        DeliveryFilter(column, document_id), limit=limit, cursor=cursor
    )
    max_attempts = ctx.settings.mail_max_attempts
    return DeliveryPage(
        items=[DeliveryRead.of(row, max_attempts=max_attempts) for row in rows], next_cursor=next_cursor
    )
