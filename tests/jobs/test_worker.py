"""The ways in: `python -m app jobs run-due --at ...` as a subprocess against the test database, and
a real procrastinate worker (in-process, as the application role) running a deferred tick."""

import asyncio
import json
import os
import sys
import uuid
from datetime import datetime, timedelta

import asyncpg
from sqlalchemy import update
from sqlalchemy.engine import make_url

from app.core.roles import _asyncpg_dsn
from app.domain.fiscal import INDIA
from app.jobs.queue import connected
from app.jobs.tasks import tick
from app.jobs.worker import run_worker
from app.models.base import utcnow
from app.models.platform.subscription import Subscription
from tests.api.v1.subscription_rows import subscription
from tests.factories import make_tenant
from tests.jobs.scheduling import REMINDER, subjects, trial_day

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


async def run_due_cli(settings, *args: str) -> dict:
    env = os.environ | {
        "ENV": "test",
        "DATABASE_URL": settings.database_url,
        "DATABASE_ADMIN_URL": settings.database_admin_url,
        "SMTP_HOST": settings.smtp_host,
        "SMTP_PORT": str(settings.smtp_port),
        "LOG_LEVEL": "WARNING",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "app",
        "jobs",
        "run-due",
        "--json",
        *args,
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, err.decode()
    return json.loads(out)


class TestRunDueCommand:
    async def test_runs_what_is_due_at_a_naive_kolkata_instant_once(self, client, settings, mailbox):
        owner = await make_tenant(client)
        sub = await subscription(client, owner)
        local = trial_day(sub, 7, minutes=2).astimezone(INDIA).replace(second=0, microsecond=0)
        naive = local.replace(tzinfo=None).isoformat(timespec="minutes")  # e.g. 2026-11-30T19:52

        summary = await run_due_cli(settings, "--at", naive, "--tenant", owner.tenant_id)
        assert datetime.fromisoformat(summary["at"]) == local
        assert (summary["trial_reminders"], summary["failed"]) == (1, [])
        await mailbox.wait_for(owner.email, "7 days left")

        again = await run_due_cli(settings, "--at", naive, "--tenant", owner.tenant_id)
        assert again["trial_reminders"] == 0
        assert len(subjects(mailbox, owner.email, REMINDER)) == 1


class TestWorker:
    async def test_a_worker_runs_a_deferred_tick_as_the_application_role(self, client, app, settings, mailbox):
        """The tenant's trial is moved 7 days into the past, so the tick at the real present finds
        its day-7 reminder due (a tick at a moved instant would touch every tenant of the database)."""
        owner = await make_tenant(client)
        started = utcnow() - timedelta(days=7, minutes=5)
        async with app.state.runtime.db.transaction(uuid.UUID(owner.tenant_id)) as session:
            await session.execute(
                update(Subscription)
                .where(Subscription.is_current)
                .values(
                    current_period_start=started,
                    trial_start=started,
                    trial_end=started + timedelta(days=14),
                    current_period_end=started + timedelta(days=14),
                )
            )

        async with connected(settings.database_url):
            job_id = await tick.defer_async(timestamp=int(utcnow().timestamp()))
        await asyncio.wait_for(
            run_worker(settings, settings.database_url, concurrency=1, wait=False, install_signal_handlers=False),
            timeout=60,
        )
        message = await mailbox.wait_for(owner.email, "7 days left")
        assert message["Subject"] == "7 days left in your RMS Billing trial"

        conn = await asyncpg.connect(_asyncpg_dsn(settings.database_url))
        try:
            assert await conn.fetchval("SELECT current_user") == make_url(settings.database_url).username
            # successful jobs are deleted: the tick ran to completion (a failed one would stay)
            assert (
                await conn.fetchval("SELECT count(*) FROM procrastinate.procrastinate_jobs WHERE id = $1", job_id) == 0
            )
        finally:
            await conn.close()
