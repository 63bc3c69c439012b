import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from app.api.deps import ContextDep, CurrentUser, PaginationDep, SessionDep, WriterUser
from app.models.billing.recurring import RecurringInvoice
from app.repositories.billing.recurring_invoices import (
    RecurringFilters,
    RecurringInvoiceRepository,
    RecurringInvoiceRunRepository,
)
from app.schemas.billing.recurring_invoices import (
    RecurringInvoiceIn,
    RecurringInvoiceRead,
    RecurringInvoiceUpdate,
    RecurringRunRead,
    ScheduleStatus,
)
from app.schemas.common import Page, problem_responses
from app.services.billing import customers, recurring_invoices

router = APIRouter(prefix="/recurring-invoices", tags=["recurring invoices"], responses=problem_responses(401, 422))
# 400: a rule of the schedule (end before start, no period in range) or of its invoice (as POST /invoices);
# 404: the schedule, or the company, customer, product or service type named in the body;
# 409: the schedule's state does not allow the action (ended, already paused, not paused).
WRITE_ERRORS = problem_responses(400, 403, 404, 409)
ACTION_ERRORS = problem_responses(403, 404, 409)


async def _read(session: SessionDep, schedule: RecurringInvoice) -> RecurringInvoiceRead:
    customer = await customers.get(session, schedule.customer_id)
    return RecurringInvoiceRead.of(schedule, customer.name)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=RecurringInvoiceRead, responses=WRITE_ERRORS)
async def create_recurring_invoice(
    body: RecurringInvoiceIn, _: WriterUser, session: SessionDep, ctx: ContextDep
) -> RecurringInvoiceRead:
    """A schedule: each period the scheduled job issues its invoice (dated the period's date, numbered in
    the invoice series), optionally emails it (`send`) and creates a payment link (`charge_by_link`)."""
    return await _read(session, await recurring_invoices.create(session, ctx, body=body))


@router.get("", response_model=Page[RecurringInvoiceRead], responses=problem_responses(400))
async def list_recurring_invoices(
    _: CurrentUser,
    session: SessionDep,
    page: PaginationDep,
    status_: Annotated[ScheduleStatus | None, Query(alias="status")] = None,
    customer_id: uuid.UUID | None = None,
    company_id: uuid.UUID | None = None,
) -> Page[RecurringInvoiceRead]:
    """Schedules, newest first; `status=failed` lists those waiting for attention."""
    filters = RecurringFilters(status_, customer_id, company_id)
    rows, next_cursor = await RecurringInvoiceRepository(session).list_page(
        filters, limit=page.limit, cursor=page.cursor
    )
    return Page[RecurringInvoiceRead](
        items=[RecurringInvoiceRead.of(schedule, name) for schedule, name in rows], next_cursor=next_cursor
    )


@router.get("/{schedule_id:uuid}", response_model=RecurringInvoiceRead, responses=problem_responses(404))
async def read_recurring_invoice(schedule_id: uuid.UUID, _: CurrentUser, session: SessionDep) -> RecurringInvoiceRead:
    return await _read(session, await recurring_invoices.get(session, schedule_id))


@router.patch("/{schedule_id:uuid}", response_model=RecurringInvoiceRead, responses=WRITE_ERRORS)
async def update_recurring_invoice(
    schedule_id: uuid.UUID, body: RecurringInvoiceUpdate, _: WriterUser, session: SessionDep, ctx: ContextDep
) -> RecurringInvoiceRead:
    """Change the lines, notes, terms, due days, place of supply, send / charge options or the ends
    (`end_date`, `count`; null removes one). Applies from the next period; checked like an invoice."""
    return await _read(session, await recurring_invoices.update(session, ctx, schedule_id, body=body))


@router.get(
    "/{schedule_id:uuid}/invoices", response_model=Page[RecurringRunRead], responses=problem_responses(400, 404)
)
async def recurring_invoice_history(
    schedule_id: uuid.UUID, _: CurrentUser, session: SessionDep, page: PaginationDep
) -> Page[RecurringRunRead]:
    """The schedule's periods so far, latest first: the invoice each issued (number, total, status,
    whether it was mailed, its payment link) or `skipped` (dated while paused)."""
    await recurring_invoices.get(session, schedule_id)
    rows, next_cursor = await RecurringInvoiceRunRepository(session).history_page(
        schedule_id, limit=page.limit, cursor=page.cursor
    )
    return Page[RecurringRunRead](items=[RecurringRunRead.of(row) for row in rows], next_cursor=next_cursor)


@router.post("/{schedule_id:uuid}/pause", response_model=RecurringInvoiceRead, responses=ACTION_ERRORS)
async def pause_recurring_invoice(
    schedule_id: uuid.UUID, _: WriterUser, session: SessionDep, ctx: ContextDep
) -> RecurringInvoiceRead:
    """Nothing is issued while paused; at resume the periods dated from today until then are skipped."""
    return await _read(session, await recurring_invoices.pause(session, ctx, schedule_id))


@router.post("/{schedule_id:uuid}/resume", response_model=RecurringInvoiceRead, responses=ACTION_ERRORS)
async def resume_recurring_invoice(
    schedule_id: uuid.UUID, _: WriterUser, session: SessionDep, ctx: ContextDep
) -> RecurringInvoiceRead:
    """A paused schedule skips the periods dated while it was paused; a failed one issues the period that
    failed and any after it at the next run (late, each dated its own date)."""
    return await _read(session, await recurring_invoices.resume(session, ctx, schedule_id))


@router.post("/{schedule_id:uuid}/end", response_model=RecurringInvoiceRead, responses=ACTION_ERRORS)
async def end_recurring_invoice(
    schedule_id: uuid.UUID, _: WriterUser, session: SessionDep, ctx: ContextDep
) -> RecurringInvoiceRead:
    """For good: no more periods are issued (the invoices issued stay)."""
    return await _read(session, await recurring_invoices.end(session, ctx, schedule_id))
