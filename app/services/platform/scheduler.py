"""Everything due at one instant: `run_due(rt, at)`, called every minute by the worker's `tick`
and by `python -m app jobs run-due --at ...`.

Work is found across tenants by the SECURITY DEFINER functions of migration 0007 (tenant ids
only), then done per tenant, each in its own transaction bound to that tenant (row-level security
applies as usual): one tenant's failure undoes nothing of another's, and a worker killed half-way
leaves the rest for the next run. What a job produces is claimed in `job_occasions` (unique per
tenant, kind and key) in the same transaction as the effect (the email in the outbox), so two
workers at the same instant, or a re-run, produce it once. Time comes only from `at`.
"""

import logging
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.context import Context
from app.core.metrics import job_step
from app.core.runtime import Runtime
from app.domain.fiscal import INDIA
from app.models.billing.reminder import QUIET_FROM
from app.models.platform.job import OccasionKind
from app.models.platform.subscription import Subscription, SubscriptionStatus
from app.repositories.identity.users import UserRepository
from app.repositories.platform.jobs import DueWorkRepository, JobOccasionRepository
from app.repositories.platform.subscriptions import PlanRepository, SubscriptionRepository
from app.repositories.platform.tenants import TenantAccountRepository
from app.services.billing import recurring_issue, reminders
from app.services.catalog import stock_digest
from app.services.commerce import orders, storage_rent
from app.services.platform import (
    mail,
    saas_invoices,
    subscriptions,
    tenant_data,
    tenant_deletion,
    usage,
    webhook_delivery,
)

log = logging.getLogger(__name__)

# Trial reminders go out on these days of the trial (day N = trial start + N days).
TRIAL_REMINDER_DAYS = (7, 12, 13)
# A lapse (trial or paid period over) is announced if found within this long; older ones (the
# worker was down for longer, or they predate the jobs) are not announced any more.
NOTICE_WINDOW = timedelta(days=7)
COUNTS = (
    "trial_reminders",
    "transitions",
    "notices",
    "renewal_reminders",
    "quota_resets",
    "mail_retried",
    "payment_reminders",
    "reminders_no_email",
    "reminders_deferred",
    "low_stock_digests",
    "orders_expired",
    "recurring_invoices",
    "recurring_failures",
    "recurring_charges",
    "storage_rent_invoices",
    "storage_rent_blocked",
    "webhooks_delivered",
    "tenant_exports_built",
    "tenant_exports_expired",
    "tenants_purged",
    "saas_invoices",
)


@dataclass
class Summary:
    """What one run did (counts), and which tenant steps failed (left for the next run)."""

    at: datetime
    trial_reminders: int = 0
    transitions: int = 0
    notices: int = 0
    renewal_reminders: int = 0
    quota_resets: int = 0
    mail_retried: int = 0
    payment_reminders: int = 0  # mails to customers (app.services.billing.reminders), one per customer and run
    reminders_no_email: int = 0  # customers with a reminder due and no email to send it to
    reminders_deferred: int = 0  # reminder mails over the tenant's hourly customer-mail limit: a later run's
    low_stock_digests: int = 0  # daily low-stock digests (app.services.catalog.stock_digest), one per tenant and day
    orders_expired: int = 0  # placed orders whose hold ended unpaid: stock released (app.services.commerce.orders)
    recurring_invoices: int = 0  # periods of recurring invoices issued (app.services.billing.recurring_issue)
    recurring_failures: int = 0  # recurring invoices marked failed (a period could not be issued)
    recurring_charges: int = 0  # payment links made for recurring invoices' periods
    storage_rent_invoices: int = 0  # rent invoices (app.services.commerce.storage_rent), one per agreement and period
    storage_rent_blocked: int = 0  # agreements whose due rent could not be billed (logged; the next run tries again)
    webhooks_delivered: int = 0  # webhook deliveries that succeeded (app.services.platform.webhook_delivery)
    tenant_exports_built: int = 0  # full exports built and mailed (app.services.platform.tenant_data)
    tenant_exports_expired: int = 0  # full exports whose link lapsed: zip deleted
    tenants_purged: int = 0  # closed tenants whose cancel window ended, purged (app.services.platform.tenant_deletion)
    saas_invoices: int = 0  # the SaaS's tax invoices for captured plan payments (app.services.platform.saas_invoices)
    cleaned: dict[str, int] = field(default_factory=dict)
    failed: list[tuple[str, uuid.UUID | None]] = field(default_factory=list)

    @property
    def did_anything(self) -> bool:
        counts = self.as_dict()
        return bool(self.failed or any(counts[name] for name in COUNTS) or any(self.cleaned.values()))

    def as_dict(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "trial_reminders": self.trial_reminders,
            "transitions": self.transitions,
            "notices": self.notices,
            "renewal_reminders": self.renewal_reminders,
            "quota_resets": self.quota_resets,
            "mail_retried": self.mail_retried,
            "payment_reminders": self.payment_reminders,
            "reminders_no_email": self.reminders_no_email,
            "reminders_deferred": self.reminders_deferred,
            "low_stock_digests": self.low_stock_digests,
            "orders_expired": self.orders_expired,
            "recurring_invoices": self.recurring_invoices,
            "recurring_failures": self.recurring_failures,
            "recurring_charges": self.recurring_charges,
            "storage_rent_invoices": self.storage_rent_invoices,
            "storage_rent_blocked": self.storage_rent_blocked,
            "webhooks_delivered": self.webhooks_delivered,
            "tenant_exports_built": self.tenant_exports_built,
            "tenant_exports_expired": self.tenant_exports_expired,
            "tenants_purged": self.tenants_purged,
            "saas_invoices": self.saas_invoices,
            "cleaned": dict(self.cleaned),
            "failed": [{"step": step, "tenant_id": str(t) if t else None} for step, t in self.failed],
        }

    def __str__(self) -> str:
        counts = ", ".join(f"{name.replace('_', ' ')} {getattr(self, name)}" for name in COUNTS)
        cleaned = ", ".join(f"{name} {n}" for name, n in self.cleaned.items()) or "nothing"
        failed = "; ".join(f"{step} for tenant {t}" for step, t in self.failed) or "none"
        return f"run-due at {self.at.isoformat()}: {counts}; cleaned: {cleaned}; failed: {failed}"


async def run_due(rt: Runtime, at: datetime, *, tenants: Sequence[uuid.UUID] | None = None) -> Summary:
    """Do everything due at `at` (timezone-aware), for every tenant or only `tenants`."""
    if at.tzinfo is None:
        raise ValueError("run_due needs a timezone-aware instant")
    summary = Summary(at=at)
    renewal_window = timedelta(days=rt.settings.renewal_reminder_days)

    async with rt.db.transaction() as session:
        due = await DueWorkRepository(session).subscription_tenants(
            at,
            reminder_days=TRIAL_REMINDER_DAYS,
            renewal_window=renewal_window,
            notice_window=NOTICE_WINDOW,
            only=tenants,
        )
    for tenant_id in due:
        await _per_tenant(rt, summary, "subscription", tenant_id, at, _subscription_work)

    async with rt.db.transaction() as session:
        due = await DueWorkRepository(session).usage_tenants(at, only=tenants)
    for tenant_id in due:
        await _per_tenant(rt, summary, "quota_reset", tenant_id, at, _quota_reset)

    async with rt.db.transaction() as session:
        due = await DueWorkRepository(session).payment_reminder_tenants(
            at, window_days=reminders.REMINDER_WINDOW_DAYS, quiet_from=QUIET_FROM, only=tenants
        )
    for tenant_id in due:
        await _per_tenant(rt, summary, "payment_reminders", tenant_id, at, reminders.send_due)

    async with rt.db.transaction() as session:
        due = await DueWorkRepository(session).low_stock_digest_tenants(
            at, send_hour=stock_digest.DIGEST_HOUR, only=tenants
        )
    for tenant_id in due:
        await _per_tenant(rt, summary, "low_stock_digest", tenant_id, at, stock_digest.send_due)

    async with rt.db.transaction() as session:
        due = await DueWorkRepository(session).order_hold_tenants(at, only=tenants)
    for tenant_id in due:
        await _per_tenant(rt, summary, "order_hold_expiry", tenant_id, at, orders.expire_due)

    async with rt.db.transaction() as session:
        due = await DueWorkRepository(session).recurring_invoice_tenants(at, only=tenants)
    for tenant_id in due:
        await _per_tenant(rt, summary, "recurring_invoices", tenant_id, at, recurring_issue.issue_due)
        await _per_tenant(rt, summary, "recurring_charges", tenant_id, at, recurring_issue.charge_due)

    async with rt.db.transaction() as session:
        due = await DueWorkRepository(session).storage_rent_tenants(at, only=tenants)
    for tenant_id in due:
        await _per_tenant(rt, summary, "storage_rent", tenant_id, at, storage_rent.bill_due)

    async with rt.db.transaction() as session:
        due = await DueWorkRepository(session).webhook_tenants(at, only=tenants)
    for tenant_id in due:
        started = time.perf_counter()
        try:
            summary.webhooks_delivered += await webhook_delivery.deliver_due(rt.db, rt.settings, tenant_id, at)
            job_step("webhooks", tenant_id, "ok", started)
        except Exception:
            log.exception("webhook delivery for tenant %s failed", tenant_id)
            summary.failed.append(("webhooks", tenant_id))
            job_step("webhooks", tenant_id, "failed", started)
    for tenant_id in await tenant_data.due_tenants(rt.db, at, only=tenants):
        started = time.perf_counter()
        try:  # its own transactions: a build's is long, and a failed build is recorded on its row
            for name, count in (await tenant_data.run_due(rt.db, rt.settings, tenant_id, at)).items():
                setattr(summary, name, getattr(summary, name) + count)
            job_step("tenant_exports", tenant_id, "ok", started)
        except Exception:
            log.exception("tenant exports for tenant %s failed", tenant_id)
            summary.failed.append(("tenant_exports", tenant_id))
            job_step("tenant_exports", tenant_id, "failed", started)
    async with rt.db.transaction() as session:
        due = await DueWorkRepository(session).tenant_purges(at, only=tenants)
    for tenant_id in due:
        started = time.perf_counter()
        try:  # many transactions (batches): what is done stays done, the next run resumes the rest
            summary.tenants_purged += await tenant_deletion.purge(rt, tenant_id, at)
            job_step("tenant_purge", tenant_id, "ok", started)
        except Exception:
            log.exception("purge of tenant %s failed; the next run resumes it", tenant_id)
            summary.failed.append(("tenant_purge", tenant_id))
            job_step("tenant_purge", tenant_id, "failed", started)
    if saas_invoices.platform_of(rt.settings) is not None:
        async with rt.db.transaction() as session:
            due = await DueWorkRepository(session).saas_invoice_tenants(at, only=tenants)
        for tenant_id in due:
            started = time.perf_counter()
            try:
                summary.saas_invoices += await saas_invoices.issue_due(rt.db, rt.settings, tenant_id, at)
                job_step("saas_invoices", tenant_id, "ok", started)
            except Exception:
                log.exception("SaaS invoices for tenant %s failed; the next run retries", tenant_id)
                summary.failed.append(("saas_invoices", tenant_id))
                job_step("saas_invoices", tenant_id, "failed", started)

    started = time.perf_counter()
    try:
        async with rt.db.transaction() as session:
            summary.cleaned = await DueWorkRepository(session).cleanup(at, only=tenants)
        job_step("cleanup", None, "ok", started)
    except Exception:
        log.exception("cleanup at %s failed", at.isoformat())
        summary.failed.append(("cleanup", None))
        job_step("cleanup", None, "failed", started)

    async with rt.db.transaction() as session:
        due = await DueWorkRepository(session).pending_mail_tenants(
            at, max_attempts=rt.settings.mail_max_attempts, only=tenants
        )
    for tenant_id in due:
        started = time.perf_counter()
        try:
            summary.mail_retried += await mail.deliver_due(rt.db, rt.settings, tenant_id, at)
            job_step("mail_retry", tenant_id, "ok", started)
        except Exception:
            log.exception("mail retry for tenant %s failed", tenant_id)
            summary.failed.append(("mail_retry", tenant_id))
            job_step("mail_retry", tenant_id, "failed", started)
    log.log(logging.INFO if summary.did_anything else logging.DEBUG, "%s", summary)
    return summary


Work = Callable[[AsyncSession, Context], Awaitable[Counter[str]]]


async def _per_tenant(rt: Runtime, summary: Summary, step: str, tenant_id: uuid.UUID, at: datetime, work: Work) -> None:
    """One tenant's step in its own transaction, with its own context at the run's instant `at`; a
    failure rolls back that step only (what it claimed included) and is left for the next run.
    What it did counts once committed."""
    started = time.perf_counter()
    try:
        async with rt.db.transaction(tenant_id) as session:
            if await _closed(session, tenant_id):
                return  # closed for deletion: nothing more is done for it (no mail to its customers)
            done = await work(session, rt.context(tenant_id=tenant_id, at=at))
    except Exception:
        log.exception("%s step for tenant %s failed; the next run retries it", step, tenant_id)
        summary.failed.append((step, tenant_id))
        job_step(step, tenant_id, "failed", started)
        return
    job_step(step, tenant_id, "ok", started)
    for name, count in done.items():
        setattr(summary, name, getattr(summary, name) + count)


async def _closed(session: AsyncSession, tenant_id: uuid.UUID) -> bool:
    tenant = await TenantAccountRepository(session).get(tenant_id)
    return tenant is not None and tenant.closed_at is not None


async def _subscription_work(session: AsyncSession, ctx: Context) -> Counter[str]:
    done: Counter[str] = Counter()
    at = ctx.now
    before = await SubscriptionRepository(session).current()
    row = await subscriptions.advance(session, ctx)
    if before is not None and row.id != before.id:
        done["transitions"] += 1
    mailer = _Mailer(session, ctx)
    if row.status == SubscriptionStatus.trialing:
        done["trial_reminders"] += await _trial_reminders(session, mailer, row, at)
    elif row.status == SubscriptionStatus.active:
        days = ctx.settings.renewal_reminder_days
        done["renewal_reminders"] += await _renewal_reminder(session, mailer, row, at, days)
    elif row.status in (SubscriptionStatus.free, SubscriptionStatus.grace, SubscriptionStatus.locked):
        done["notices"] += await _lapse_notice(session, mailer, row, at)
    return done


async def _trial_reminders(session: AsyncSession, mailer: "_Mailer", row: Subscription, at: datetime) -> int:
    """The latest reminder day reached is sent; earlier ones not yet claimed (the worker was down
    then) are claimed as skipped rather than sent late."""
    end = row.current_period_end
    if end is None or at >= end:
        return 0
    occasions = JobOccasionRepository(session)
    claimed = await occasions.keys(OccasionKind.trial_reminder)
    reached = [day for day in TRIAL_REMINDER_DAYS if row.current_period_start + timedelta(days=day) <= at]
    pending = [day for day in reached if str(day) not in claimed]
    if not pending:
        return 0
    latest = max(pending)
    for day in pending:
        detail = {"at": at.isoformat(), "sent": day == latest}
        if not await occasions.claim(OccasionKind.trial_reminder, str(day), detail):
            return 0  # another run has it (and, ordered the same way, the rest)
    days_left = subscriptions.Standing(row, subscriptions.State.of(row)).trial_days_remaining(at)
    return await mailer.send("trial_reminder", day=latest, days_left=days_left, trial_end=_when(end))


async def _renewal_reminder(
    session: AsyncSession, mailer: "_Mailer", row: Subscription, at: datetime, days: int
) -> int:
    end = row.current_period_end
    if days <= 0 or end is None or not end - timedelta(days=days) <= at < end:
        return 0
    key = str(int(end.timestamp()))
    detail = {"at": at.isoformat(), "subscription_id": str(row.id), "plan": row.plan_code}
    if not await JobOccasionRepository(session).claim(OccasionKind.renewal_reminder, key, detail):
        return 0
    plan = await PlanRepository(session).get(row.plan_code)
    return await mailer.send(
        "renewal_reminder",
        plan_name=plan.name if plan else row.plan_code,
        period_end=_when(end),
        cancel_at_period_end=row.cancel_at_period_end,
    )


async def _lapse_notice(session: AsyncSession, mailer: "_Mailer", row: Subscription, at: datetime) -> int:
    """Once per row a lapse started (written by this job or lazily by a request)."""
    if not at - NOTICE_WINDOW < row.current_period_start <= at:
        return 0
    previous = await SubscriptionRepository(session).lapsed_into(row)
    if previous is None:
        return 0
    detail = {"at": at.isoformat(), "status": row.status, "from": previous.status}
    if not await JobOccasionRepository(session).claim(OccasionKind.subscription_notice, str(row.id), detail):
        return 0
    if row.status == SubscriptionStatus.locked:
        return await mailer.send("account_locked", since=_when(row.current_period_start))
    plan = await PlanRepository(session).get(previous.plan_code)
    return await mailer.send(
        "subscription_ended",
        what="trial" if previous.status == SubscriptionStatus.trialing else f"{plan.name if plan else ''} plan",
        status=row.status,
        grace_end=_when(row.current_period_end) if row.current_period_end else None,
        free=await PlanRepository(session).get(subscriptions.FREE),
    )


async def _quota_reset(session: AsyncSession, ctx: Context) -> Counter[str]:
    """The monthly reset (each tenant's own 30-day cycle): exactly once per cycle (app.services.platform.usage)."""
    return Counter(quota_resets=int(await usage.reset_if_due(session, ctx)))


class _Mailer:
    """Subscription emails to the tenant's active owners, through the outbox (delivered after commit)."""

    def __init__(self, session: AsyncSession, ctx: Context) -> None:
        self.session, self.ctx = session, ctx

    async def send(self, template: str, **context: Any) -> int:
        session, settings = self.session, self.ctx.settings
        tenant = await TenantAccountRepository(session).get(JobOccasionRepository(session).tenant_id)
        plans = PlanRepository(session)
        offers = [plan for code in await plans.purchasable() if (plan := await plans.get(code)) is not None]
        common: dict[str, Any] = {
            "business_name": tenant.business_name if tenant else "",
            "plans": [{"name": p.name, "price": _rupees(p.price_paise), "period": p.billing_period} for p in offers],
            "upgrade_url": settings.upgrade_url,
            "post_trial_mode": settings.post_trial_mode,
            "grace_days": settings.grace_days,
        }
        owners = await UserRepository(session).owners()
        for owner in owners:
            await mail.enqueue(
                session, self.ctx, to=owner.email, template=template, name=owner.full_name, **common, **context
            )
        return 1 if owners else 0


def _rupees(paise: int) -> str:
    return f"₹{Decimal(paise) / 100:,.2f}"


def _when(moment: datetime) -> str:
    return moment.astimezone(INDIA).strftime("%d %b %Y, %H:%M IST")
