"""Helpers for the scheduled-job tests: instants in a tenant's life, run_due for chosen tenants, and
the mail they received."""

import uuid
from datetime import datetime, timedelta

from app.core.database import drain_background_tasks
from app.core.runtime import Runtime
from app.services.platform.scheduler import Summary, run_due

REMINDER = "left in your RMS Billing trial"


def trial_day(sub: dict, day: float, minutes: int = 1) -> datetime:
    """`minutes` after day `day` of the trial (day N = trial start + N days)."""
    return datetime.fromisoformat(sub["trial_start"]) + timedelta(days=day, minutes=minutes)


async def run(rt: Runtime, at: datetime, *tenants: str) -> Summary:
    """run_due at `at` for these tenants only (other tests' tenants are left alone), mail delivered."""
    summary = await run_due(rt, at, tenants=[uuid.UUID(t) for t in tenants])
    await drain_background_tasks()
    return summary


def subjects(mailbox, email: str, containing: str = "") -> list[str]:
    return [m["Subject"] for m in mailbox.to(email) if containing in m["Subject"]]


def reminder_counts(summary: Summary) -> tuple[int, int, int, int]:
    """(trial reminders, transitions, notices, renewal reminders)."""
    return summary.trial_reminders, summary.transitions, summary.notices, summary.renewal_reminders


async def still_due(rt: Runtime, at: datetime, tenant: str) -> list[str]:
    """Which of the cross-tenant functions still find work for the tenant at `at` (a re-run at the
    same instant must find none)."""
    from app.repositories.platform.jobs import DueWorkRepository
    from app.services.platform.scheduler import NOTICE_WINDOW, TRIAL_REMINDER_DAYS

    only = [uuid.UUID(tenant)]
    async with rt.db.transaction() as session:
        due = DueWorkRepository(session)
        found = {
            "subscription": await due.subscription_tenants(
                at,
                reminder_days=TRIAL_REMINDER_DAYS,
                notice_window=NOTICE_WINDOW,
                only=only,
                renewal_window=timedelta(days=rt.settings.renewal_reminder_days),
            ),
            "usage": await due.usage_tenants(at, only=only),
            "mail": await due.pending_mail_tenants(at, max_attempts=rt.settings.mail_max_attempts, only=only),
        }
    return [name for name, tenants in found.items() if tenants]
