"""`python -m app worker`: a procrastinate worker as the application role, with the app's Runtime
(settings, database, clock) handed to the tasks through the job context."""

import asyncio
import logging

from app.core import cpu_work
from app.core.config import Settings
from app.core.database import Database, drain_background_tasks
from app.core.metrics import instrument_pool, process_exited
from app.core.runtime import Runtime
from app.jobs.queue import connected

log = logging.getLogger(__name__)


async def run_worker(
    settings: Settings, app_url: str, *, concurrency: int, wait: bool = True, install_signal_handlers: bool = True
) -> None:
    """Run jobs until stopped (SIGINT/SIGTERM), or, with wait=False, until the queue is empty."""
    db = Database(
        app_url, pool_size=concurrency + 1, max_overflow=2, statement_cache=settings.db_prepared_statement_cache
    )
    instrument_pool(db.engine, "worker")
    runtime = Runtime(settings=settings, db=db)
    try:
        async with connected(app_url, max_connections=concurrency + 3) as app:
            log.info("worker started (concurrency %d)", concurrency)
            await app.run_worker_async(
                concurrency=concurrency,
                wait=wait,
                additional_context={"runtime": runtime},
                delete_jobs="successful",
                install_signal_handlers=install_signal_handlers,
            )
    finally:
        await drain_background_tasks()
        await db.dispose()
        await asyncio.to_thread(cpu_work.shutdown)
        process_exited()
