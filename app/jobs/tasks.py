"""The tasks. `tick` runs every minute (procrastinate's periodic deferrer defers it once per minute
however many workers run), under a lock so ticks never overlap; a tick whose tenant steps failed
raises, so procrastinate retries it (the steps that succeeded find nothing left to do)."""

from datetime import UTC, datetime

from procrastinate import JobContext, RetryStrategy

from app.core.runtime import Runtime
from app.jobs.queue import job_app
from app.services.scheduler import run_due

QUEUE = "scheduler"


class TenantStepsFailed(RuntimeError):
    """Some tenants' steps failed in a tick (logged one by one); the retry runs them again."""


@job_app.periodic(cron="* * * * *", periodic_id="every-minute")
@job_app.task(
    name="tick",
    queue=QUEUE,
    pass_context=True,
    lock="run_due",
    queueing_lock="tick",
    retry=RetryStrategy(max_attempts=3, wait=10),
)
async def tick(context: JobContext, timestamp: int) -> None:
    """Everything due at the minute this tick was deferred for (`timestamp`, epoch seconds)."""
    runtime: Runtime = context.additional_context["runtime"]
    summary = await run_due(runtime, datetime.fromtimestamp(timestamp, UTC))
    if summary.failed:
        raise TenantStepsFailed(str(summary))
