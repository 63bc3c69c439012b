"""The dashboard's reports: metrics, revenue chart, aging. Every amount is a decimal string."""

import uuid
from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema

from app.schemas.billing.ledger import MoneyOut

Interval = Literal["month", "week", "day"]
Days = Annotated[
    Decimal,
    AfterValidator(lambda value: value.quantize(Decimal("0.1"))),
    WithJsonSchema({"type": "string", "pattern": r"^-?[0-9]+\.[0-9]$", "examples": ["23.5"]}),
]


class Amount(BaseModel):
    amount: MoneyOut
    count: int


METRICS_EXAMPLE = {
    "from": "2026-04-01",
    "to": "2026-11-23",
    "today": "2026-11-23",
    "invoiced": {"amount": "254880.00", "count": 42},
    "collected": {"amount": "198000.00", "count": 31},
    "credited": {"amount": "2360.00", "count": 2},
    "outstanding": {"amount": "54520.00", "count": 9},
    "overdue": {"amount": "17700.00", "count": 3},
    "customers": {"active": 27, "with_balance": 8},
    "average_days_to_pay": "18.4",
}


class CustomerCounts(BaseModel):
    active: int = Field(description="Customers not archived.")
    with_balance: int = Field(description="Active customers whose balance is above zero (they owe something).")


class MetricsRead(BaseModel):
    model_config = ConfigDict(populate_by_name=True, json_schema_extra={"examples": [METRICS_EXAMPLE]})

    date_from: date = Field(alias="from")
    date_to: date = Field(alias="to")
    today: date = Field(description="The Indian date `outstanding` and `overdue` are measured on.")
    invoiced: Amount = Field(
        description="Invoices dated in the range that are issued, partially paid or paid (drafts and voids "
        "excluded): sum of their totals."
    )
    collected: Amount = Field(description="Active (not void) receipts dated in the range: sum of their amounts.")
    credited: Amount = Field(description="Credit notes dated in the range: sum of their totals.")
    outstanding: Amount = Field(
        description="Open invoices (issued or partially paid) today, whatever their date: sum of balance due."
    )
    overdue: Amount = Field(description="The open invoices whose due date is before today: sum of balance due.")
    customers: CustomerCounts
    average_days_to_pay: Days | None = Field(
        description="Over paid invoices whose last receipt allocation is dated in the range: the mean of (date of "
        "that allocation - invoice date) in days, to one decimal; null when there are none."
    )


CHART_EXAMPLE = {
    "from": "2026-04-15",
    "to": "2026-06-30",
    "interval": "month",
    "periods": [
        {
            "period": "2026-04-01",
            "start": "2026-04-15",
            "end": "2026-04-30",
            "invoiced": "11800.00",
            "collected": "5000.00",
        },
        {"period": "2026-05-01", "start": "2026-05-01", "end": "2026-05-31", "invoiced": "0.00", "collected": "0.00"},
        {
            "period": "2026-06-01",
            "start": "2026-06-01",
            "end": "2026-06-30",
            "invoiced": "2360.00",
            "collected": "6800.00",
        },
    ],
}


class ChartPeriod(BaseModel):
    period: date = Field(description="The period's first day (weeks start on Monday), its label.")
    start: date = Field(description="First day counted: the period's, or `from` if later.")
    end: date = Field(description="Last day counted: the period's, or `to` if earlier.")
    invoiced: MoneyOut = Field(description="Totals of issued, partially paid and paid invoices dated in the period.")
    collected: MoneyOut = Field(description="Amounts of active receipts dated in the period.")


class RevenueChartRead(BaseModel):
    model_config = ConfigDict(populate_by_name=True, json_schema_extra={"examples": [CHART_EXAMPLE]})

    date_from: date = Field(alias="from")
    date_to: date = Field(alias="to")
    interval: Interval
    periods: list[ChartPeriod] = Field(description="Every period of the range in order, empty ones included.")


class AgingBuckets(BaseModel):
    current: Amount = Field(description="Not yet due: due date on or after `as_of`.")
    days_1_30: Amount = Field(description="1 to 30 days past the due date.")
    days_31_60: Amount
    days_61_90: Amount
    days_over_90: Amount = Field(description="91 days or more past the due date.")
    total: Amount


class CustomerAging(BaseModel):
    customer_id: uuid.UUID
    name: str
    buckets: AgingBuckets


_BUCKETS = {
    "current": {"amount": "23600.00", "count": 4},
    "days_1_30": {"amount": "11800.00", "count": 2},
    "days_31_60": {"amount": "0.00", "count": 0},
    "days_61_90": {"amount": "5900.00", "count": 1},
    "days_over_90": {"amount": "1180.00", "count": 1},
    "total": {"amount": "42480.00", "count": 8},
}
AGING_EXAMPLE = {
    "as_of": "2026-11-23",
    "buckets": _BUCKETS,
    "customers": [
        {"customer_id": "0194f0a2-5c1e-7b1a-9d7e-2f9c3e1a0b22", "name": "Sharma Stores", "buckets": _BUCKETS}
    ],
    "customer_count": 1,
}


class AgingRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [AGING_EXAMPLE]})

    as_of: date
    buckets: AgingBuckets = Field(
        description="Invoices with a balance due on `as_of`, by days past due on `as_of`: amounts are those "
        "balances, counts the invoices."
    )
    customers: list[CustomerAging] | None = Field(
        None,
        description="With `group_by=customer`: the customers owing most first (then by id), at most `limit` of them.",
    )
    customer_count: int | None = Field(
        None, description="With `group_by=customer`: how many customers have a balance due (rows beyond `limit` too)."
    )
