"""The dashboard (tenant admins: owner and admin): metrics, revenue chart and aging, each computed
by aggregate queries in PostgreSQL. "Today" is the Indian date of the request's context (`ctx.today`)."""

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from app.api.deps import ContextDep, ManagerUser, SessionDep
from app.schemas.billing.business_fields import IsoDate
from app.schemas.billing.dashboard import AgingRead, Interval, MetricsRead, RevenueChartRead
from app.schemas.common import problem_responses
from app.schemas.platform.events import ActivityRead
from app.services.billing import dashboard
from app.services.billing.ledger import check_day, report_range
from app.services.platform import event_log

router = APIRouter(prefix="/dashboard", tags=["dashboard"], responses=problem_responses(401, 422))
# 400: `to` before `from`, a date outside 1900-2999, or a chart with too many periods; 403: not an owner or admin.
READ_ERRORS = problem_responses(400, 403)
From = Annotated[
    IsoDate | None, Query(alias="from", description="First day; defaults to the start of the financial year of `to`.")
]
To = Annotated[IsoDate | None, Query(alias="to", description="Last day; defaults to today (India).")]


@router.get("/metrics", response_model=MetricsRead, responses=READ_ERRORS)
async def metrics(
    _: ManagerUser, session: SessionDep, ctx: ContextDep, date_from: From = None, date_to: To = None
) -> MetricsRead:
    """Invoiced, collected and credited in the range (default: this financial year to date);
    outstanding and overdue as of today; customer counts; average days to pay."""
    start, end = report_range(date_from, date_to, today=ctx.today)
    return await dashboard.metrics(session, ctx, date_from=start, date_to=end)


@router.get("/revenue-chart", response_model=RevenueChartRead, responses=READ_ERRORS)
async def revenue_chart(
    _: ManagerUser,
    session: SessionDep,
    ctx: ContextDep,
    date_from: From = None,
    date_to: To = None,
    interval: Annotated[Interval, Query(description="Period length; weeks start on Monday.")] = "month",
) -> RevenueChartRead:
    """Invoiced and collected amounts per period, every period of the range included (empty ones
    as "0.00"). At most 366 days, 260 weeks or 120 months: a longer range is a 400."""
    start, end = report_range(date_from, date_to, today=ctx.today)
    return await dashboard.revenue_chart(session, date_from=start, date_to=end, interval=interval)


@router.get("/aging", response_model=AgingRead, responses=READ_ERRORS)
async def aging(
    _: ManagerUser,
    session: SessionDep,
    ctx: ContextDep,
    as_of: Annotated[IsoDate | None, Query(description="The day to age on; defaults to today (India).")] = None,
    group_by: Annotated[Literal["customer"] | None, Query(description="`customer`: add per-customer rows.")] = None,
    limit: Annotated[int, Query(ge=1, le=500, description="With group_by=customer: most customers listed.")] = 100,
) -> AgingRead:
    """What was owed on `as_of`, by days past due on that day: current (not yet due), 1-30, 31-60,
    61-90 and over 90. Each invoice counts with its balance as it stood on `as_of`: issued and dated
    by then, not voided by then, less the allocations and credit notes dated by then.

    With `group_by=customer`, the customers owing most come first, at most `limit` (default 100,
    max 500) of them; `customer_count` says how many owe in all."""
    day = check_day("as_of", as_of or ctx.today)
    return await dashboard.aging(session, as_of=day, by_customer=group_by == "customer", limit=limit)


@router.get("/activity", response_model=ActivityRead, responses=READ_ERRORS)
async def activity(
    _: ManagerUser,
    session: SessionDep,
    ctx: ContextDep,
    date_from: Annotated[
        IsoDate | None, Query(alias="from", description="First day; defaults to 29 days before `to`.")
    ] = None,
    date_to: To = None,
    event_type: Annotated[
        str | None, Query(alias="type", max_length=60, pattern=r"^[a-z_]+(\.[a-z_]+)+$", description="One type only.")
    ] = None,
) -> ActivityRead:
    """Business events counted per type per day (Indian days, Asia/Kolkata), every day of the range
    listed, empty ones too; at most 366 days (longer: 400 `date-range-too-long`)."""
    start, end = event_log.activity_range(date_from, date_to, today=ctx.today)
    return await event_log.activity(session, date_from=start, date_to=end, event_type=event_type)
