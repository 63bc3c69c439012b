"""The dashboard: what was billed, collected and is owed, from aggregate queries."""

from datetime import date, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.context import Context
from app.core.errors import RuleViolation
from app.repositories.billing.dashboard import BUCKETS, DashboardRepository, Tally
from app.schemas.billing.dashboard import (
    AgingBuckets,
    AgingRead,
    Amount,
    ChartPeriod,
    CustomerAging,
    CustomerCounts,
    MetricsRead,
    RevenueChartRead,
)

# The most periods a chart may have, per interval (a year of days, five years of weeks, ten of months).
MAX_PERIODS = {"day": 366, "week": 260, "month": 120}


def _amount(tally: Tally) -> Amount:
    return Amount(amount=tally.amount, count=tally.count)


async def metrics(session: AsyncSession, ctx: Context, *, date_from: date, date_to: date) -> MetricsRead:
    """The period's figures; outstanding and overdue as of the request's day."""
    today = ctx.today
    repo = DashboardRepository(session)
    invoices = await repo.invoice_metrics(date_from=date_from, date_to=date_to, today=today)
    active, with_balance = await repo.customer_counts()
    return MetricsRead(
        date_from=date_from,
        date_to=date_to,
        today=today,
        invoiced=_amount(invoices["invoiced"]),
        collected=_amount(await repo.collected(date_from=date_from, date_to=date_to)),
        credited=_amount(await repo.credited(date_from=date_from, date_to=date_to)),
        outstanding=_amount(invoices["outstanding"]),
        overdue=_amount(invoices["overdue"]),
        customers=CustomerCounts(active=active, with_balance=with_balance),
        average_days_to_pay=await repo.average_days_to_pay(date_from=date_from, date_to=date_to),
    )


def period_start(day: date, interval: str) -> date:
    if interval == "month":
        return day.replace(day=1)
    if interval == "week":
        return day - timedelta(days=day.weekday())
    return day


def period_count(date_from: date, date_to: date, interval: str) -> int:
    if interval == "month":
        return (date_to.year - date_from.year) * 12 + date_to.month - date_from.month + 1
    if interval == "week":
        return (period_start(date_to, "week") - period_start(date_from, "week")).days // 7 + 1
    return (date_to - date_from).days + 1


def _last_counted_day(start: date, interval: str, date_to: date) -> date:
    """The period's last day, or date_to if earlier (computed without passing date_to: no overflow at 9999)."""
    if interval == "day":
        return start
    if interval == "week":
        return start + timedelta(days=min(6, (date_to - start).days))
    last = date(start.year, 12, 31) if start.month == 12 else date(start.year, start.month + 1, 1) - timedelta(days=1)
    return min(last, date_to)


async def revenue_chart(session: AsyncSession, *, date_from: date, date_to: date, interval: str) -> RevenueChartRead:
    limit = MAX_PERIODS[interval]
    if period_count(date_from, date_to, interval) > limit:
        raise RuleViolation(
            "interval",
            f"At most {limit} periods of a {interval}: narrow the range or widen the interval.",
            code="too-many-periods",
        )
    rows = await DashboardRepository(session).revenue_chart(date_from=date_from, date_to=date_to, interval=interval)
    periods = [
        ChartPeriod(
            period=row.period,
            start=max(row.period, date_from),
            end=_last_counted_day(row.period, interval, date_to),
            invoiced=row.invoiced,
            collected=row.collected,
        )
        for row in rows
    ]
    return RevenueChartRead(date_from=date_from, date_to=date_to, interval=interval, periods=periods)


def _buckets(tallies: dict[str, Tally]) -> AgingBuckets:
    values: dict[str, Any] = {name: _amount(tallies[name]) for name in [*BUCKETS, "total"]}
    return AgingBuckets(**values)


async def aging(session: AsyncSession, *, as_of: date, by_customer: bool, limit: int) -> AgingRead:
    repo = DashboardRepository(session)
    result = AgingRead(as_of=as_of, buckets=_buckets(await repo.aging(as_of=as_of)))
    if by_customer:
        rows, owing = await repo.aging_by_customer(as_of=as_of, limit=limit)
        result.customers = [
            CustomerAging(customer_id=customer_id, name=name, buckets=_buckets(tallies))
            for (customer_id, name), tallies in rows
        ]
        result.customer_count = owing
    return result
