"""Plans (the global catalog), a tenant's subscription rows, what a tenant uses of each limit, and
the per-tenant locks that serialise limit checks and subscription changes."""

from datetime import datetime

from sqlalchemy import ColumnElement, Select, SQLColumnExpression, case, distinct, func, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import attributes

from app.models.billing.business import Company
from app.models.billing.customer import Customer
from app.models.billing.invoice import Invoice
from app.models.catalog.product import Product
from app.models.identity.user import User
from app.models.platform.plan import Plan
from app.models.platform.subscription import Subscription
from app.repositories.base import TenantRepository


class PlanRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, code: str) -> Plan | None:
        return await self.session.get(Plan, code)

    async def lifting(
        self, cap: SQLColumnExpression[int | None], beyond: int, *joined: ColumnElement[bool]
    ) -> list[str]:
        """Codes of the public, active plans whose `cap` is unlimited (NULL) or above `beyond`,
        cheapest first. `cap` is a plans column, or a column of a table `joined` (the criteria
        linking it to plans, e.g. a meter's quota)."""
        stmt = (
            select(Plan.code)
            .where(Plan.is_public, Plan.is_active, or_(cap.is_(None), cap > beyond), *joined)
            .order_by(Plan.price_paise, Plan.code)
        )
        return list((await self.session.execute(stmt)).scalars())

    async def public(self) -> list[Plan]:
        """The public, active plans (the price list), cheapest first."""
        stmt = select(Plan).where(Plan.is_public, Plan.is_active).order_by(Plan.price_paise, Plan.code)
        return list((await self.session.execute(stmt)).scalars())

    async def purchasable(self) -> list[str]:
        """Codes of the public, active, paid plans, cheapest first."""
        stmt = (
            select(Plan.code)
            .where(Plan.is_public, Plan.is_active, Plan.price_paise > 0)
            .order_by(Plan.price_paise, Plan.code)
        )
        return list((await self.session.execute(stmt)).scalars())


class SubscriptionRepository(TenantRepository[Subscription]):
    model = Subscription

    async def current(self) -> Subscription | None:
        # populate_existing: read again after waiting for a lock, the row must be the stored one
        stmt = select(Subscription).where(Subscription.is_current).execution_options(populate_existing=True)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def end(self, subscription: Subscription, at: datetime) -> None:
        """Supersede the current row (flushed at once: the partial unique index allows one current row)."""
        await self.session.execute(
            update(Subscription)
            .where(Subscription.tenant_id == self.tenant_id, Subscription.id == subscription.id)
            .values(is_current=False, ended_at=at, updated_at=func.now())
            .execution_options(synchronize_session=False)
        )
        attributes.set_committed_value(subscription, "is_current", False)
        attributes.set_committed_value(subscription, "ended_at", at)

    async def lapsed_into(self, row: Subscription) -> Subscription | None:
        """The row whose period ran out into `row` (a transition written by `advance`: ended at its
        own period end, where `row` starts), or None when `row` began otherwise (registration, an
        upgrade, a chosen downgrade)."""
        stmt = select(Subscription).where(
            Subscription.is_current.is_(False),
            Subscription.ended_at == row.current_period_start,
            Subscription.current_period_end == row.current_period_start,
            Subscription.status.in_(("trialing", "active", "grace")),
        )
        return (await self.session.execute(stmt.limit(1))).scalar_one_or_none()

    async def lock(self, name: str) -> None:
        """A transaction-scoped advisory lock on (this tenant, name): holders queue, released at
        commit or rollback. Names: a limit ("customers", ...) or "subscription"."""
        key = f"{self.tenant_id}:{name}"
        await self.session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": key})


class LimitUsageRepository:
    """What the bound tenant uses of each plan limit (the ORM filter and RLS scope every count)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _count(self, stmt: Select[int]) -> int:
        return (await self.session.execute(stmt)).scalar_one()

    async def customers(self) -> int:
        """Active customers, less the companies' walk-in customers (counter sales) and one customer
        per own registration: a customer whose GSTIN is one of its companies' is there because GST
        makes a stock transfer between two registrations a supply (app.services.catalog.stock_transfers),
        not because the business has one more customer. Only one per GSTIN is left out: more
        customers given the business's own GSTIN count like any other."""
        own = select(Company.gstin).where(Company.gstin.is_not(None))
        exempt = func.count(distinct(case((Customer.gstin.in_(own), Customer.gstin))))
        stmt = (
            select(func.count() - exempt)
            .select_from(Customer)
            .where(Customer.is_archived.is_(False), Customer.walk_in_company_id.is_(None))
        )
        return await self._count(stmt)

    async def products(self) -> int:
        return await self._count(select(func.count()).select_from(Product).where(Product.is_archived.is_(False)))

    async def active_users(self) -> int:
        return await self._count(select(func.count()).select_from(User).where(User.is_active.is_(True)))

    async def invoices_issued(self, start: datetime, end: datetime) -> int:
        stmt = (
            select(func.count())
            .select_from(Invoice)
            .where(Invoice.issued_at.is_not(None), Invoice.issued_at >= start, Invoice.issued_at < end)
        )
        return await self._count(stmt)
