"""The tasks. `tick` runs every minute (procrastinate's periodic deferrer defers it once per minute
however many workers run), under a lock so ticks never overlap. A tenant step that failed is logged
and left undone (its transaction rolled back), so the next tick, a minute later, finds it due again:
the tick itself succeeds, or one broken tenant would make every minute's tick fail and retry. An
error outside the tenant steps (the database unreachable) fails the tick, and procrastinate retries it."""

import logging
from datetime import UTC, datetime

from procrastinate import JobContext, RetryStrategy

from app.core.metrics import observe_job
from app.core.runtime import Runtime
from app.jobs.queue import job_app
from app.services.platform.scheduler import run_due

log = logging.getLogger(__name__)

QUEUE = "scheduler"


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
    due = datetime.fromtimestamp(timestamp, UTC)
    with observe_job("tick", due):  # runs, failures, duration and lag (due -> start) per task
        summary = await run_due(runtime, due)
    if summary.failed:
        log.warning("tick: some tenant steps failed and are left for the next tick: %s", summary)
