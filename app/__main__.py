"""`python -m app <command>`: serve, migrate, create-roles, seed-demo, worker, jobs run-due,
rotate-payment-secrets."""

import argparse
import asyncio
import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import uuid
from datetime import datetime, timedelta

from app.core.bootstrap import resolve_urls
from app.core.config import Settings, get_settings
from app.core.database import Database
from app.core.embedded_pg import DatabaseUrls
from app.core.logging import configure_logging
from app.core.migrations import upgrade
from app.core.roles import create_app_role, schema_migrated
from app.core.runtime import Runtime


async def _migrate(settings: Settings) -> DatabaseUrls:
    urls = await resolve_urls(settings)
    await upgrade(urls)
    return urls


async def _seed_demo(settings: Settings, urls: DatabaseUrls) -> None:
    db = Database(urls.app, pool_size=2, max_overflow=0, statement_cache=settings.db_prepared_statement_cache)
    try:
        created = await ensure_demo(Runtime(settings=settings, db=db))
    finally:
        await db.dispose()
    state = "created" if created else "already exists"
    print(
        f"\nDemo tenant {state}. Log in at http://{settings.host}:{settings.port}/docs with\n"
        f"  email:    {settings.demo_email}\n  password: {settings.demo_password}\n",
        flush=True,
    )


async def ensure_demo(rt: Runtime) -> bool:
    from app.core.database import drain_background_tasks
    from app.services.platform.demo import ensure_demo_tenant

    created = await ensure_demo_tenant(rt.context())
    await drain_background_tasks()
    return created


def cmd_migrate(settings: Settings, _: argparse.Namespace) -> None:
    asyncio.run(_migrate(settings))
    print("migrations applied; application role granted")


def cmd_create_roles(settings: Settings, _: argparse.Namespace) -> None:
    """Works before `migrate` too (a fresh database): the role is made, its table grants come with migrate."""

    async def run() -> tuple[str, bool]:
        urls = await resolve_urls(settings)
        return await create_app_role(urls.admin, urls.app), await schema_migrated(urls.admin)

    role, migrated = asyncio.run(run())
    then = "" if migrated else "; no tables yet: run `python -m app migrate` to create and grant them"
    print(f"application role ready: {role}{then}")


def cmd_seed_demo(settings: Settings, _: argparse.Namespace) -> None:
    async def run() -> None:
        await _seed_demo(settings, await resolve_urls(settings))

    asyncio.run(run())


def _exit_on_signal(signum: int, _frame) -> None:
    """SIGTERM (kill, docker stop, systemd; `make` passes it on) ends a command like Ctrl-C does: by
    unwinding, so `serve` stops its worker and the exit hooks run (the embedded PostgreSQL stops with
    the last process attached to it). uvicorn handles the signal while it serves, then raises it again
    once it has shut down; without this handler that second SIGTERM killed the process on the spot."""
    raise SystemExit(128 + signum)


def cmd_serve(settings: Settings, args: argparse.Namespace) -> None:
    import uvicorn

    metrics_dir = _metrics_dir()  # before any process (this one included) imports prometheus_client

    async def prepare() -> DatabaseUrls:
        urls = await _migrate(settings) if not args.no_migrate else await resolve_urls(settings)
        if not args.no_demo and settings.env != "prod":  # the demo password is public
            await _seed_demo(settings, urls)
        return urls

    urls = asyncio.run(prepare())
    os.environ["DATABASE_URL"] = urls.app  # worker processes connect as the application role
    get_settings.cache_clear()
    # The job worker beside the API (its own process, so a slow job never stalls a request).
    worker = None if args.no_worker else subprocess.Popen([sys.executable, "-m", "app", "worker"])
    try:
        uvicorn.run("app.asgi:app", **uvicorn_options(settings))
    finally:
        if worker is not None:
            _stop(worker)
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)


def _metrics_dir() -> str | None:
    """PROMETHEUS_MULTIPROC_DIR for the API workers and the job worker `serve` starts, so one
    /metrics reports them all (app.core.metrics): the operator's directory, emptied of a previous
    run's values, or a fresh one of our own, removed at exit (returned)."""
    chosen = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if chosen:
        os.makedirs(chosen, exist_ok=True)
        for stale in glob.glob(os.path.join(chosen, "*.db")):
            os.unlink(stale)
        return None
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="rms-metrics-")
    return os.environ["PROMETHEUS_MULTIPROC_DIR"]


def uvicorn_options(settings: Settings) -> dict:
    """How `serve` runs uvicorn. Its own proxy-header handling is off (it would believe
    X-Forwarded-For from any loopback peer): the app trusts only FORWARDED_ALLOW_IPS (app.main)."""
    return {
        "host": settings.host,
        "port": settings.port,
        "workers": settings.web_concurrency,
        "proxy_headers": False,
        "log_level": "info",
        "log_config": None,  # uvicorn's lines go through the app's handler (LOG_FORMAT)
        "access_log": False,  # the app logs each request once itself (app.middleware.observe)
    }


def _stop(process: subprocess.Popen, seconds: float = 20.0) -> None:
    """Ask the child to stop (a worker finishes its running jobs first), then insist."""
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def cmd_worker(settings: Settings, args: argparse.Namespace) -> None:
    from app.jobs.worker import run_worker
    from app.main import check_safety

    async def run() -> None:
        urls = await resolve_urls(settings)
        await check_safety(settings, urls.app)  # as the API: never a role that bypasses row-level security
        await run_worker(settings, urls.app, concurrency=args.concurrency or settings.worker_concurrency)

    asyncio.run(run())


# An --at this close to now is "now" (clock skew between the caller and this machine).
FUTURE_LEEWAY = timedelta(minutes=1)


def instant(value: str) -> datetime:
    """ISO 8601; without an offset the time is Asia/Kolkata's (the business's clock)."""
    from app.domain.fiscal import INDIA

    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=INDIA)


def cmd_run_due(settings: Settings, args: argparse.Namespace) -> None:
    from app.core.database import drain_background_tasks
    from app.models.base import utcnow
    from app.services.platform.scheduler import run_due

    now = utcnow()
    at = args.at or now
    if at > now + FUTURE_LEEWAY and settings.env == "prod" and not args.allow_future:
        # Replaying a future instant applies its transitions now (trials and paid periods end early).
        sys.exit(
            f"refusing --at {at.isoformat()}: it is in the future and ENV=prod; "
            "pass --allow-future to apply that instant's transitions now"
        )

    async def run():
        urls = await resolve_urls(settings)
        db = Database(urls.app, pool_size=2, max_overflow=2, statement_cache=settings.db_prepared_statement_cache)
        try:
            summary = await run_due(Runtime(settings=settings, db=db), at, tenants=args.tenant)
            await drain_background_tasks()  # the emails enqueued are delivered before exiting
            return summary
        finally:
            await db.dispose()

    summary = asyncio.run(run())
    print(json.dumps(summary.as_dict(), indent=2) if args.json else summary, flush=True)
    if summary.failed:
        sys.exit(1)


def cmd_rotate_payment_secrets(settings: Settings, args: argparse.Namespace) -> None:
    from app.services.commerce.secret_rotation import rotate_all

    async def run():
        urls = await resolve_urls(settings)
        db = Database(urls.app, pool_size=2, max_overflow=0, statement_cache=settings.db_prepared_statement_cache)
        try:
            return await rotate_all(Runtime(settings=settings, db=db), only=args.tenant)
        finally:
            await db.dispose()

    rotation = asyncio.run(run())
    print(rotation, flush=True)
    if rotation.unreadable:
        sys.exit(1)


def main(argv: list[str] | None = None) -> None:
    configure_logging(get_settings().log_level, get_settings().log_format)
    parser = argparse.ArgumentParser(prog="python -m app", description="RMS Billing")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="migrate, create the demo tenant, serve the API")
    serve.add_argument("--no-migrate", action="store_true", help="do not apply migrations first")
    serve.add_argument("--no-demo", action="store_true", help="do not create the demo tenant")
    serve.add_argument("--no-worker", action="store_true", help="do not start a job worker beside the API")
    serve.set_defaults(func=cmd_serve)
    commands.add_parser("migrate", help="apply migrations and grant the application role").set_defaults(
        func=cmd_migrate
    )
    commands.add_parser("create-roles", help="create the application role (non-owner, no BYPASSRLS)").set_defaults(
        func=cmd_create_roles
    )
    commands.add_parser("seed-demo", help="create the demo tenant and print its login").set_defaults(func=cmd_seed_demo)
    worker = commands.add_parser("worker", help="run the scheduled jobs (procrastinate worker, application role)")
    worker.add_argument("--concurrency", type=int, help="jobs run at once (default: WORKER_CONCURRENCY)")
    worker.set_defaults(func=cmd_worker)
    jobs = commands.add_parser("jobs", help="scheduled jobs by hand").add_subparsers(dest="jobs_command", required=True)
    run_due = jobs.add_parser("run-due", help="run everything due at one instant (reminders, transitions, ...)")
    run_due.add_argument("--at", type=instant, help="ISO instant; without an offset, Asia/Kolkata time (default: now)")
    run_due.add_argument("--tenant", type=uuid.UUID, action="append", help="only this tenant (repeatable)")
    run_due.add_argument("--json", action="store_true", help="print the summary as JSON")
    run_due.add_argument(
        "--allow-future",
        action="store_true",
        help="with ENV=prod, accept an --at in the future (its transitions apply now, for every tenant)",
    )
    run_due.set_defaults(func=cmd_run_due)
    rotate = commands.add_parser(
        "rotate-payment-secrets",
        help="re-encrypt every business's saved gateway secrets under the first PAYMENT_SECRET_KEYS key",
    )
    rotate.add_argument("--tenant", type=uuid.UUID, action="append", help="only this tenant (repeatable)")
    rotate.set_defaults(func=cmd_rotate_payment_secrets)
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _exit_on_signal)
    args.func(get_settings(), args)


if __name__ == "__main__":
    sys.exit(main())
