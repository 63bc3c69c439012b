"""The scheduler's recurring-invoice step (`issue_due`): each due period of each active schedule
issued exactly once, dated the period's date.

A period is due from the start of its date in India. The tenant's due schedules are taken one at
a time, each locked (FOR UPDATE SKIP LOCKED: a schedule another worker holds is that worker's), and
its due periods issued oldest first: a worker down for three months issues the three periods at its
next run, late, each dated its own date, none skipped, none twice. Each period's invoice is made by
`invoicing.create(issue=True)` (numbered in its series as any invoice) and its run claimed in
`recurring_runs` (unique per schedule and period) in a savepoint of the step's
transaction: two workers (or a re-run) cannot both issue a period, and a period whose invoice
could not be made leaves no claim and no number behind.

When issuing fails for a reason of the tenant's data (an AppError: the customer or company made
inactive, a rate no longer in force, a product archived or short of stock, the plan's invoice
limit, the subscription locked ...), the schedule is marked `failed` with the reason (code,
message, when) and audited, its owners and admins are mailed, and nothing more is issued for it:
no silent retry every minute. It
shows in GET /recurring-invoices?status=failed; POST /recurring-invoices/{id}/resume after fixing
the cause issues that period and the ones after it (late, dated their own dates). Any other error
(the database) fails the tenant's step as a whole, which the next run retries (app.services.platform.scheduler).

Then, for an issued invoice: `send` queues the invoice mail to the customer
(app.services.documents.document_mail, with a share link) in a savepoint; `charge_by_link` marks the
run for a payment link, made by the next step (`charge_due`) in a transaction of its own: no lock of
this step (the number series) is held across the gateway call. With both, the mail goes once the
link is made (or given up), so that it carries it. Their failure leaves the invoice
issued and is recorded on the run (`send_error`, `charge_error`).
"""

from collections import Counter
from datetime import date
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.context import Context
from app.core.errors import AppError, PaymentGatewayUnavailable, RuleViolation
from app.models.billing.recurring import RecurringInvoice, RecurringInvoiceRun
from app.repositories.billing.recurring_invoices import RecurringInvoiceRepository, RecurringInvoiceRunRepository
from app.repositories.identity.users import UserRepository
from app.repositories.platform.tenants import TenantAccountRepository
from app.schemas.billing.invoices import InvoiceIn
from app.schemas.documents.document_mail import InvoiceSendRequest
from app.services.billing import customers, invoicing
from app.services.billing import recurring_invoices as schedules
from app.services.commerce import payment_links
from app.services.documents import document_mail
from app.services.platform import audit, mail

# A bound on one tenant's step (one transaction): more waits for the next run, a minute later.
MAX_SCHEDULES_PER_RUN = 100
MAX_INVOICES_PER_RUN = 200
MAX_CHARGES_PER_RUN = 20  # each is a gateway call
MAX_CHARGE_ATTEMPTS = 5
FAILED_TEMPLATE = "recurring_invoice_failed"


class _Taken(Exception):
    """The period was claimed meanwhile: undo this attempt's invoice (the savepoint)."""


async def issue_due(session: AsyncSession, ctx: Context) -> Counter[str]:
    """The bound tenant's due periods at `ctx.now`: counts `recurring_invoices` (issued) and
    `recurring_failures` (schedules marked failed)."""
    done: Counter[str] = Counter()
    repo = RecurringInvoiceRepository(session)
    budget = MAX_INVOICES_PER_RUN
    for schedule_id in await repo.due_ids(ctx.today, limit=MAX_SCHEDULES_PER_RUN):
        schedule = await repo.lock_due(schedule_id, ctx.today)
        while budget > 0 and schedule is not None and _due(schedule, ctx):
            done[await _issue_next(session, ctx, schedule)] += 1
            budget -= 1
    done.pop("skipped", None)
    return done


def _due(schedule: RecurringInvoice, ctx: Context) -> bool:
    return schedule.status == "active" and schedule.next_date is not None and schedule.next_date <= ctx.today


async def _issue_next(session: AsyncSession, ctx: Context, schedule: RecurringInvoice) -> str:
    """Issue the schedule's next period (or pass over it when it was skipped): what happened."""
    index = schedule.next_index
    dates = schedules.recurrence(schedule)
    runs = RecurringInvoiceRunRepository(session)
    before = audit.snapshot(schedule, schedules.AUDITED)
    if await runs.claimed(schedule.id, index):  # skipped while paused
        schedule.next_index += 1
        schedules.settle(schedule, ctx)
        await session.flush()
        return "skipped"
    try:
        async with session.begin_nested():
            invoice = await invoicing.create(session, ctx, body=_body(schedule, index), issue=True)
            period = (dates.period(index), dates.period_end(index))
            run = await runs.claim(
                schedule.id,
                index=index,
                period=period,
                outcome="issued",
                at=ctx.now,
                invoice_id=invoice.id,
                send=schedule.send,
                charge=schedule.charge_by_link,
            )
            if run is None:
                raise _Taken
    except _Taken:
        schedule.next_index += 1
        schedules.settle(schedule, ctx)
        await session.flush()
        return "skipped"
    except AppError as exc:
        schedule.status, schedule.failed_at = "failed", ctx.now
        schedule.failure_code, schedule.failure_message = exc.code, _message(exc)
        await session.flush()
        await schedules.audit_change(session, "recurring_invoice.failed", schedule, before=before)
        await _tell_managers(session, ctx, schedule, dates.period(index))
        return "recurring_failures"
    schedule.issued_count += 1
    schedule.next_index += 1
    schedules.settle(schedule, ctx)
    await session.flush()
    await audit.record(
        session,
        action="recurring_invoice.period_issued",
        entity_type=schedules.ENTITY,
        entity_id=schedule.id,
        before=before,
        after=audit.snapshot(schedule, schedules.AUDITED)
        | {"period_number": index + 1, "period_date": period[0].isoformat(), "invoice_id": str(invoice.id)},
    )
    if schedule.send and not schedule.charge_by_link:  # with a link, the mail waits for it (charge_due)
        await _send(session, ctx, run)
    return "recurring_invoices"


async def _send(session: AsyncSession, ctx: Context, run: RecurringInvoiceRun) -> None:
    """Queue the period's invoice mail to the customer (a savepoint: a refusal leaves the rest)."""
    assert run.invoice_id is not None  # an issued run (CHECK)
    try:
        async with session.begin_nested():
            await document_mail.send_invoice(session, ctx, run.invoice_id, InvoiceSendRequest())
        run.sent = True
    except AppError as exc:
        run.send_error = _message(exc)
    await session.flush()


async def _tell_managers(session: AsyncSession, ctx: Context, schedule: RecurringInvoice, day: date) -> None:
    """A mail to the tenant's owners and admins, once per failure (in its transaction: a schedule is
    marked failed once, and stays so until resumed)."""
    customer = await customers.get(session, schedule.customer_id)
    tenant = await TenantAccountRepository(session).get(customer.tenant_id)
    common: dict[str, Any] = {
        "business_name": tenant.business_name if tenant else "",
        "customer_name": customer.name,
        "frequency": schedule.frequency,
        "period": day.strftime("%d %b %Y"),
        "reason": schedule.failure_message,
        "schedule_id": str(schedule.id),
        "failed_url": f"{ctx.settings.public_base_url}/api/v1/recurring-invoices?status=failed",
    }
    for user in await UserRepository(session).managers():
        await mail.enqueue(session, ctx, to=user.email, template=FAILED_TEMPLATE, name=user.full_name, **common)


async def charge_due(session: AsyncSession, ctx: Context) -> Counter[str]:
    """The bound tenant's issued periods waiting for their payment link (`charge_by_link`), each
    made in a savepoint of this transaction, separate from the step that issued the invoices (no
    number series lock held across the gateway call): counts `recurring_charges`. The gateway not
    answering (503) leaves the rest for the next run, up to MAX_CHARGE_ATTEMPTS for a period, then
    its `charge_error` says why; any other refusal (the invoice paid or voided meanwhile, no gateway
    configured in live mode ...) is recorded at once. The invoice stands either way. A period also
    to be mailed (`send`) is mailed here, once its link is made (the mail shows the open link as
    POST /invoices/{id}/send does) or given up."""
    done: Counter[str] = Counter()
    runs = RecurringInvoiceRunRepository(session)
    for run in await runs.pending_charges(limit=MAX_CHARGES_PER_RUN):
        assert run.invoice_id is not None  # an issued run (CHECK)
        try:
            async with session.begin_nested():
                payment = await payment_links.create(session, ctx, run.invoice_id)
        except PaymentGatewayUnavailable as exc:
            run.charge_attempts += 1
            if run.charge_attempts >= MAX_CHARGE_ATTEMPTS:
                run.charge_error = _message(exc)
            await session.flush()
            break
        except AppError as exc:
            run.charge_error = _message(exc)
        else:
            run.online_payment_id = payment.id
            done["recurring_charges"] += 1
        await session.flush()
        if run.send and not run.sent and run.send_error is None:  # now the mail can carry the link
            await _send(session, ctx, run)
    return done


def _body(schedule: RecurringInvoice, index: int) -> InvoiceIn:
    """The period's invoice body; stored content that no longer validates (it did when saved) fails
    the period like any refusal rather than the tenant's step every minute."""
    try:
        return schedules.invoice_body(schedule, index)
    except ValidationError as exc:
        raise RuleViolation(
            "lines", f"The schedule's content is not valid: {exc.errors()[0]['msg']}", code="recurring-content-invalid"
        ) from exc


def _message(exc: AppError) -> str:
    """The problem's detail and, when it names fields, what it says of them."""
    messages = [str(error.get("msg", "")) for error in exc.extra.get("errors") or []]
    return " ".join([exc.detail, *(m for m in messages if m and m != exc.detail)])[:2000]
