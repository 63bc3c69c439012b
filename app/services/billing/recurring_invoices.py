"""Recurring invoices: set up a schedule, pause, resume and end it, read it and its history. The
scheduled job that issues the periods is app.services.billing.recurring_issue.

Rules (README "Recurring invoices"):
- A schedule is checked as an invoice would be when it is set up (its company and customer active,
  its lines, products, service types and tax rates on the first period's date): a schedule that
  could not issue its first invoice is refused then, not discovered by the job.
- Pause: nothing is issued while paused. Resume skips the periods dated from the pause day to the
  day before the resume day (recorded in the history as `skipped`, not issued later, not counted
  toward `count`): pausing a retainer means not billing for that time. Periods dated before the
  pause that were not issued yet (the job had not run) stay owed and are issued late.
- A failed schedule (a period could not be issued) resumes where it failed: that period and any
  after it are issued late, each dated its own date.
- End: for good; an ended schedule cannot be resumed (set up a new one).
"""

import uuid
from datetime import date, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.context import Context
from app.core.errors import Conflict, NotFound, RuleViolation
from app.domain.fiscal import GST_START
from app.domain.recurrence import Frequency, Recurrence, last_index
from app.models.billing.recurring import RecurringInvoice
from app.repositories.billing.recurring_invoices import RecurringInvoiceRepository, RecurringInvoiceRunRepository
from app.schemas.billing.invoices import InvoiceIn, InvoiceLineIn
from app.schemas.billing.recurring_invoices import RecurringInvoiceIn, RecurringInvoiceUpdate
from app.services.billing import invoicing
from app.services.billing.rules import DocumentDates
from app.services.platform import audit

AUDITED = [
    "company_id",
    "customer_id",
    "frequency",
    "day_of_month",
    "start_date",
    "end_date",
    "count",
    "send",
    "charge_by_link",
    "status",
    "next_date",
    "issued_count",
    "paused_on",
    "failure_code",
    "end_reason",
    "place_of_supply",
    "due_days",
    "notes",
    "terms",
    "lines",
]
ENTITY = "recurring_invoice"
# What an invoice takes (app.schemas.billing.invoices): a filled-in text is cut to it.
DESCRIPTION_MAX = 500
NOTES_MAX = 2000


def recurrence(schedule: RecurringInvoice) -> Recurrence:
    return Recurrence(Frequency(schedule.frequency), schedule.day_of_month, schedule.start_date)


def invoice_body(schedule: RecurringInvoice, index: int) -> InvoiceIn:
    """Period `index`'s invoice: the schedule's content dated the period's date, `{month}` and
    `{period}` in line descriptions and notes naming the period (README "Recurring invoices")."""
    dates = recurrence(schedule)
    day = dates.period(index)
    due = day + timedelta(days=schedule.due_days) if schedule.due_days is not None else None
    words = period_words(day, dates.period_end(index))
    lines = []
    for stored in schedule.lines:
        line = dict(stored)
        if isinstance(line.get("description"), str):
            line["description"] = _fill(line["description"], words, DESCRIPTION_MAX)
        lines.append(InvoiceLineIn.model_validate(line))
    return InvoiceIn(
        company_id=schedule.company_id,
        customer_id=schedule.customer_id,
        invoice_date=day,
        due_date=due,
        place_of_supply=schedule.place_of_supply,
        notes=_fill(schedule.notes, words, NOTES_MAX) if schedule.notes is not None else None,
        terms=schedule.terms,
        lines=lines,
    )


def period_words(start: date, end: date) -> dict[str, str]:
    """`{month}`: the period's first month and year ("March 2027"); `{period}`: its first and last
    days ("01 Mar 2027 to 31 Mar 2027")."""
    return {
        "{month}": start.strftime("%B %Y"),
        "{period}": f"{start.strftime('%d %b %Y')} to {end.strftime('%d %b %Y')}",
    }


def _fill(text: str, words: dict[str, str], limit: int) -> str:
    for token, value in words.items():
        text = text.replace(token, value)
    return text[:limit].rstrip()


async def get(session: AsyncSession, schedule_id: uuid.UUID, *, for_update: bool = False) -> RecurringInvoice:
    repo = RecurringInvoiceRepository(session)
    schedule = await (repo.get_for_update(schedule_id) if for_update else repo.get(schedule_id))
    if schedule is None:
        raise NotFound("Recurring invoice not found.", code="recurring-invoice-not-found")
    return schedule


async def create(session: AsyncSession, ctx: Context, *, body: RecurringInvoiceIn) -> RecurringInvoice:
    start = body.start_date or ctx.today
    if start < GST_START:
        raise RuleViolation(
            "start_date", f"A schedule cannot start before GST began ({GST_START}).", code="document-date-before-gst"
        )
    day = body.day_of_month or start.day
    schedule = RecurringInvoice(
        company_id=body.company_id,
        customer_id=body.customer_id,
        frequency=body.frequency,
        day_of_month=day,
        start_date=start,
        end_date=body.end_date,
        count=body.count,
        place_of_supply=body.place_of_supply,
        due_days=body.due_days,
        notes=body.notes,
        terms=body.terms,
        lines=[line.model_dump(mode="json", exclude_none=True) for line in body.lines],
        send=body.send,
        charge_by_link=body.charge_by_link,
        status="active",
        next_index=0,
        issued_count=0,
    )
    await _check_content(session, ctx, schedule)  # first: a reference unknown here is a 404 whatever the dates
    if body.end_date is not None and body.end_date < start:
        raise RuleViolation("end_date", "The end date is before the start date.", code="recurring-end-before-start")
    if last_index(recurrence(schedule), body.end_date) == -1:
        raise RuleViolation(
            "end_date",
            f"No period falls between the start and the end date (the first would be {recurrence(schedule).first}).",
            code="recurring-no-periods",
        )
    schedule.next_date = recurrence(schedule).first
    await RecurringInvoiceRepository(session).add(schedule)
    await audit_change(session, "recurring_invoice.created", schedule, before=None)
    return schedule


async def update(
    session: AsyncSession, ctx: Context, schedule_id: uuid.UUID, *, body: RecurringInvoiceUpdate
) -> RecurringInvoice:
    """Change the content (checked like an invoice for the next period) or the ends; a new end the
    schedule has already reached ends it. Locked: a period the job is issuing finishes first, with
    the content as it was."""
    schedule = await get(session, schedule_id, for_update=True)
    _not_ended(schedule)
    before = audit.snapshot(schedule, AUDITED)
    changes = body.model_dump(exclude_unset=True)
    if "lines" in changes:
        if body.lines is None:
            raise RuleViolation("lines", "A schedule needs at least one line.", code="recurring-lines-required")
        changes["lines"] = [line.model_dump(mode="json", exclude_none=True) for line in body.lines]
    for name in ("send", "charge_by_link"):
        if name in changes and changes[name] is None:
            del changes[name]  # null: as it is
    for name, value in changes.items():
        setattr(schedule, name, value)
    if schedule.end_date is not None and schedule.end_date < schedule.start_date:
        raise RuleViolation("end_date", "The end date is before the start date.", code="recurring-end-before-start")
    if schedule.count is not None and schedule.count < schedule.issued_count:
        raise RuleViolation(
            "count",
            f"{schedule.issued_count} invoices have been issued already; the count cannot be fewer.",
            code="recurring-count-below-issued",
        )
    await _check_content(session, ctx, schedule, index=schedule.next_index)
    settle(schedule, ctx)
    await session.flush()
    await audit_change(session, "recurring_invoice.updated", schedule, before=before)
    return schedule


async def _check_content(session: AsyncSession, ctx: Context, schedule: RecurringInvoice, *, index: int = 0) -> None:
    """Refuse what period `index`'s invoice would refuse. A period beyond the window a document may
    be dated in (DOCUMENT_FUTURE_DAYS) is checked as if dated today."""
    body = invoice_body(schedule, index)
    if body.invoice_date is not None and body.invoice_date > DocumentDates.of(ctx).latest:
        body = body.model_copy(update={"invoice_date": ctx.today, "due_date": None})
    await invoicing.check(session, ctx, body=body)


async def pause(session: AsyncSession, ctx: Context, schedule_id: uuid.UUID) -> RecurringInvoice:
    schedule = await get(session, schedule_id, for_update=True)
    _not_ended(schedule)
    if schedule.status == "paused":
        raise Conflict("The recurring invoice is already paused.", code="recurring-invoice-paused")
    before = audit.snapshot(schedule, AUDITED)
    schedule.status, schedule.paused_on = "paused", ctx.today
    _clear_failure(schedule)
    await session.flush()
    await audit_change(session, "recurring_invoice.paused", schedule, before=before)
    return schedule


async def resume(session: AsyncSession, ctx: Context, schedule_id: uuid.UUID) -> RecurringInvoice:
    schedule = await get(session, schedule_id, for_update=True)
    _not_ended(schedule)
    if schedule.status == "active":
        raise Conflict("The recurring invoice is not paused or failed.", code="recurring-invoice-active")
    before = audit.snapshot(schedule, AUDITED)
    if schedule.status == "paused" and schedule.paused_on is not None:
        await _skip_paused(session, ctx, schedule)
    schedule.status, schedule.paused_on = "active", None
    _clear_failure(schedule)
    settle(schedule, ctx)
    await session.flush()
    await audit_change(session, "recurring_invoice.resumed", schedule, before=before)
    return schedule


async def _skip_paused(session: AsyncSession, ctx: Context, schedule: RecurringInvoice) -> None:
    """Record as skipped the periods dated from the pause day to the day before today; the owed
    ones before the pause stay for the job."""
    assert schedule.paused_on is not None
    dates = recurrence(schedule)
    from_index = max(schedule.next_index, dates.first_on_or_after(schedule.paused_on))
    to_index = dates.first_on_or_after(ctx.today)
    last = last_index(dates, schedule.end_date)
    if last is not None:
        to_index = min(to_index, last + 1)
    if from_index >= to_index:
        return
    periods = [(i, dates.period(i), dates.period_end(i)) for i in range(from_index, to_index)]
    await RecurringInvoiceRunRepository(session).skip(schedule.id, periods, at=ctx.now)
    if schedule.next_index >= from_index:
        schedule.next_index = to_index


async def end(session: AsyncSession, ctx: Context, schedule_id: uuid.UUID) -> RecurringInvoice:
    schedule = await get(session, schedule_id, for_update=True)
    _not_ended(schedule)
    before = audit.snapshot(schedule, AUDITED)
    finish(schedule, ctx, "ended")
    await session.flush()
    await audit_change(session, "recurring_invoice.ended", schedule, before=before)
    return schedule


def settle(schedule: RecurringInvoice, ctx: Context) -> None:
    """After the next period changed: end the schedule when its count or end date is reached,
    else date its next period."""
    dates = recurrence(schedule)
    last = last_index(dates, schedule.end_date)
    if schedule.count is not None and schedule.issued_count >= schedule.count:
        finish(schedule, ctx, "count_reached")
    elif last is not None and schedule.next_index > last:
        finish(schedule, ctx, "end_date_reached")
    else:
        schedule.next_date = dates.period(schedule.next_index)


def finish(schedule: RecurringInvoice, ctx: Context, reason: str) -> None:
    schedule.status, schedule.end_reason, schedule.ended_at = "ended", reason, ctx.now
    schedule.next_date = schedule.paused_on = None
    _clear_failure(schedule)


def _clear_failure(schedule: RecurringInvoice) -> None:
    schedule.failed_at = schedule.failure_code = schedule.failure_message = None


def _not_ended(schedule: RecurringInvoice) -> None:
    if schedule.status == "ended":
        raise Conflict("The recurring invoice has ended.", code="recurring-invoice-ended")


async def audit_change(session: AsyncSession, action: str, schedule: RecurringInvoice, *, before: Any) -> None:
    await audit.record(
        session,
        action=action,
        entity_type=ENTITY,
        entity_id=schedule.id,
        before=before,
        after=audit.snapshot(schedule, AUDITED),
    )
