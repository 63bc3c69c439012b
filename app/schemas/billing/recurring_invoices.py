"""Recurring invoices: a schedule's body and reads, and its history (the periods and their invoices)."""

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, StrictBool

from app.models.billing.recurring import FREQUENCIES, MAX_COUNT, SCHEDULE_STATUSES
from app.schemas.billing.business_fields import DecimalOut, IsoDate
from app.schemas.billing.invoices import LINE_EXAMPLE, MAX_LINES, InvoiceLineIn, LongText, PlaceOfSupply
from app.schemas.common import ReadModel, RequestBody

FrequencyName = Literal[*FREQUENCIES]
ScheduleStatus = Literal[*SCHEDULE_STATUSES]
EXAMPLE = {
    "company_id": "0194f0a2-5c1e-7b1a-9d7e-2f9c3e1a0b11",
    "customer_id": "0194f0a2-5c1e-7b1a-9d7e-2f9c3e1a0b22",
    "frequency": "monthly",
    "day_of_month": 31,
    "start_date": "2027-01-01",
    "count": 12,
    "send": True,
    "lines": [{**LINE_EXAMPLE, "description": "Monthly bookkeeping retainer, {month}"}],
}
DAY = Annotated[int, Field(ge=1, le=31)]
SCHEDULE = (
    "The first period is dated the first `day_of_month` on or after `start_date`; then one every month, "
    "quarter or year on that day. A month without that day takes its last day (31 → 28 or 29 Feb, 30 Apr), "
    "without drifting: 31 Jan, 28 Feb, 31 Mar ..."
)


TOKENS = (
    "`{month}` (the period's month: March 2027) and `{period}` (its days: 01 Mar 2027 to 31 Mar 2027) in a "
    "line's description or the notes are filled in for each invoice."
)


class RecurringInvoiceIn(RequestBody):
    """A schedule. Its company, customer and lines are checked as an invoice's would be (on the
    first period's date) when it is created; each period's invoice is composed on its own date
    from the lines, with the parties, prices and tax rates as they are then."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [EXAMPLE]})

    company_id: uuid.UUID
    customer_id: uuid.UUID
    frequency: FrequencyName
    day_of_month: DAY | None = Field(None, description=f"1-31; defaults to the start date's day. {SCHEDULE}")
    start_date: IsoDate | None = Field(
        None,
        description="Defaults to today (Asia/Kolkata). A start in the past issues the periods since then at the "
        "next run, each dated its own date.",
    )
    end_date: IsoDate | None = Field(None, description="No period is dated after it.")
    count: Annotated[int, Field(ge=1, le=MAX_COUNT)] | None = Field(
        None, description="How many invoices to issue in all (periods skipped while paused do not count)."
    )
    place_of_supply: PlaceOfSupply | None = Field(None, description="Defaults to the customer's state.")
    due_days: Annotated[int, Field(ge=0, le=365)] | None = Field(
        None, description="Each invoice is due this many days after its date; defaults to the customer's terms."
    )
    notes: LongText | None = Field(None, description=f"On each invoice. {TOKENS}")
    terms: LongText | None = Field(None, description="Defaults to the company's default terms.")
    lines: list[InvoiceLineIn] = Field(
        min_length=1, max_length=MAX_LINES, description=f"As POST /invoices takes them. {TOKENS}"
    )
    send: StrictBool = Field(False, description="Email each invoice to the customer when it is issued.")
    charge_by_link: StrictBool = Field(
        False, description="Create a payment link (Razorpay) for each invoice when it is issued."
    )


class RecurringInvoiceUpdate(RequestBody):
    """What may change on a schedule that has not ended: its content (from the next period on) and its
    ends. The calendar (frequency, day, start) and the parties do not change: end the schedule and
    set up a new one. A field left out stays as it is; `end_date` or `count` null removes that end."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"lines": [{**LINE_EXAMPLE, "unit_price": "2750.00"}]}]}
    )

    end_date: IsoDate | None = Field(
        None, description="No period is dated after it; one before the next period's date ends the schedule."
    )
    count: Annotated[int, Field(ge=1, le=MAX_COUNT)] | None = Field(
        None, description="Invoices to issue in all; not below those issued (equal ends the schedule)."
    )
    place_of_supply: PlaceOfSupply | None = None
    due_days: Annotated[int, Field(ge=0, le=365)] | None = None
    notes: LongText | None = None
    terms: LongText | None = None
    lines: list[InvoiceLineIn] | None = Field(None, min_length=1, max_length=MAX_LINES)
    send: StrictBool | None = None
    charge_by_link: StrictBool | None = None


class RecurringLineRead(ReadModel):
    """A line as the schedule holds it (amounts as decimal strings, as POST /invoices takes them)."""

    service_type_id: uuid.UUID | None = None
    product_id: uuid.UUID | None = None
    description: str | None = None
    hsn_sac: str | None = None
    quantity: str
    unit: str | None = None
    unit_price: str | None = None
    discount: str | None = None
    gst_rate: str | None = None


class Failure(ReadModel):
    code: str
    message: str
    at: datetime


class RecurringInvoiceRead(ReadModel):
    id: uuid.UUID
    company_id: uuid.UUID
    customer_id: uuid.UUID
    customer_name: str
    frequency: FrequencyName
    day_of_month: int
    start_date: date
    end_date: date | None
    count: int | None
    place_of_supply: str | None
    due_days: int | None
    notes: str | None
    terms: str | None
    lines: list[RecurringLineRead]
    send: bool
    charge_by_link: bool
    status: ScheduleStatus = Field(
        description="active; paused (nothing issued; the periods dated while paused are skipped); failed (a "
        "period could not be issued: see `failure`; resume to issue it and the ones after it); ended."
    )
    next_date: date | None = Field(description="The next period's date (the invoice's date); null once ended.")
    issued_count: int
    paused_on: date | None
    failure: Failure | None
    end_reason: Literal["ended", "count_reached", "end_date_reached"] | None
    ended_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, schedule: Any, customer_name: str) -> "RecurringInvoiceRead":
        failure = None
        if schedule.failed_at is not None:
            failure = Failure(code=schedule.failure_code, message=schedule.failure_message, at=schedule.failed_at)
        columns = {name: getattr(schedule, name) for name in cls.model_fields if hasattr(schedule, name)}
        return cls.model_validate(columns | {"customer_name": customer_name, "failure": failure})


class RecurringRunRead(ReadModel):
    """One period of a schedule: the invoice it issued, or skipped (dated while paused)."""

    period_number: int = Field(description="1 for the first period, and so on.")
    period_start: date = Field(description="The period's date: its invoice's date.")
    period_end: date = Field(description="The day before the next period's date.")
    outcome: Literal["issued", "skipped"]
    invoice_id: uuid.UUID | None
    invoice_number: str | None
    invoice_total: DecimalOut | None
    invoice_status: str | None
    created_at: datetime = Field(description="When the job issued (or skipped) it: later than its date if late.")
    sent: bool = Field(description="The invoice was queued to the customer's email.")
    send_error: str | None
    online_payment_id: uuid.UUID | None = Field(description="The payment link made for the invoice, if any.")
    charge_error: str | None

    @classmethod
    def of(cls, row: Any) -> "RecurringRunRead":
        run, number, total, invoice_status = row
        return cls(
            period_number=run.period_index + 1,
            period_start=run.period_date,
            period_end=run.period_end,
            outcome=run.outcome,
            invoice_id=run.invoice_id,
            invoice_number=number,
            invoice_total=total,
            invoice_status=invoice_status,
            created_at=run.created_at,
            sent=run.sent,
            send_error=run.send_error,
            online_payment_id=run.online_payment_id,
            charge_error=run.charge_error,
        )
