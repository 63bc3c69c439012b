"""Prometheus metrics (GET /metrics, app/api/metrics.py): what they are, how they are recorded.

Several processes, one view: when PROMETHEUS_MULTIPROC_DIR is set (`serve` sets it to a fresh
directory before any worker starts, for the API workers and the job worker alike), every process
writes its values to files there and a scrape of any API worker sums them
(prometheus_client's multiprocess mode). The variable must be in the environment before
prometheus_client is first imported in a process; without it (tests, one process) the values live
in the process's default registry.

The outbox gauges are not recorded by anyone: a scrape asks the database, through
`outbox_backlog(max_attempts)` (a SECURITY DEFINER function of migration 0015: the
application role sees one tenant's mail under row-level security, and the function answers two
counts and one timestamp over every tenant, nothing that names a tenant or a message).
"""

import logging
import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import ConnectionPoolEntry, QueuePool
from starlette.types import Scope

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
UNMATCHED = "unmatched"  # the route label of a request no route matched (404): never the raw path
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Latency buckets (seconds): /health answers well under a millisecond, an invoice issue in tens.
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
JOB_BUCKETS = (0.1, 0.5, 1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 900.0)

REQUESTS = Counter(
    "http_requests_total", "Requests answered, by route template, method and status", ["route", "method", "status"]
)
LATENCY = Histogram(
    "http_request_duration_seconds",
    "Time from the request's arrival to its last byte",
    ["route", "method"],
    buckets=BUCKETS,
)
PROBLEMS = Counter("http_problems_total", "402 and 429 answers by problem code", ["status", "code"])
REPLAYS = Counter("idempotent_replays_total", "Responses replayed for a repeated Idempotency-Key", ["route"])

POOL_IN_USE = Gauge(
    "db_pool_connections_in_use", "Connections checked out of the pool", ["process"], multiprocess_mode="livesum"
)
POOL_CHECKOUTS = Counter("db_pool_checkouts_total", "Connections checked out of the pool", ["process"])
POOL_WAITS = Counter("db_pool_waits_total", "Checkouts that found the pool full and waited", ["process"])
POOL_WAIT_SECONDS = Histogram(
    "db_pool_wait_seconds", "How long a checkout that found the pool full waited", ["process"], buckets=BUCKETS
)

JOB_RUNS = Counter("job_runs_total", "Job runs by task and outcome (ok, failed)", ["task", "outcome"])
JOB_DURATION = Histogram("job_duration_seconds", "Job run time", ["task"], buckets=JOB_BUCKETS)
JOB_LAG = Histogram("job_lag_seconds", "From the instant a job was due to its start", ["task"], buckets=JOB_BUCKETS)
JOB_STEPS = Counter(
    "job_steps_total", "Scheduler steps (one tenant's work, or the cleanup) by outcome", ["step", "outcome"]
)

log = logging.getLogger("app.jobs.steps")
job_task_var: ContextVar[str | None] = ContextVar("job_task", default=None)


def route_template(scope: Scope) -> str:
    """The path template of the route that answered (`/api/v1/customers/{customer_id:uuid}`), or
    UNMATCHED. FastAPI keeps a route's full path (prefixes of the routers it was included
    through) on its effective route context; Starlette's own routes carry it on the route."""
    context = scope.get("fastapi", {}).get("effective_route_context")
    return getattr(context, "path", None) or getattr(scope.get("route"), "path", None) or UNMATCHED


def multiprocess() -> bool:
    return bool(os.environ.get(MULTIPROC_ENV))


def process_exited() -> None:
    """Drop this process's live gauges (pool connections in use) from the shared directory."""
    if multiprocess():
        mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]  # prometheus_client leaves it unannotated


class HttpRecorder:
    """Per-request recording for the request middleware: label children are looked up once per
    (route, method, status) and kept, so a request costs two dict look-ups and three increments."""

    def __init__(self) -> None:
        self._requests: dict[tuple[str, str, int], Counter] = {}
        self._latency: dict[tuple[str, str], Histogram] = {}

    def record(self, route: str, method: str, status: int, seconds: float) -> None:
        if method not in METHODS:
            method = "other"  # a client-chosen string never becomes a label value
        key = (route, method, status)
        counter = self._requests.get(key)
        if counter is None:
            counter = self._requests[key] = REQUESTS.labels(route, method, str(status))
        counter.inc()
        histogram = self._latency.get(key[:2])
        if histogram is None:
            histogram = self._latency[key[:2]] = LATENCY.labels(route, method)
        histogram.observe(seconds)

    @staticmethod
    def problem(status: int, code: str) -> None:
        PROBLEMS.labels(str(status), code).inc()

    @staticmethod
    def replay(route: str) -> None:
        REPLAYS.labels(route).inc()


def instrument_pool(engine: AsyncEngine, process: str) -> None:
    """Connections in use (checkout/checkin events) and waits for a full pool (the pool's blocking
    get, timed only when no connection is free and no overflow is left)."""
    pool = engine.sync_engine.pool
    in_use, checkouts = POOL_IN_USE.labels(process), POOL_CHECKOUTS.labels(process)
    waits, wait_seconds = POOL_WAITS.labels(process), POOL_WAIT_SECONDS.labels(process)

    @event.listens_for(pool, "checkout")
    def _checkout(*_: object) -> None:
        in_use.inc()
        checkouts.inc()

    @event.listens_for(pool, "checkin")
    def _checkin(*_: object) -> None:
        in_use.dec()

    if not isinstance(pool, QueuePool):  # no waits to time
        return
    get, capacity = pool._do_get, pool.size() + max(pool._max_overflow, 0)

    def timed_get() -> ConnectionPoolEntry:
        if pool.checkedout() < capacity:
            return get()
        started = time.perf_counter()
        try:
            return get()
        finally:
            waits.inc()
            wait_seconds.observe(time.perf_counter() - started)

    pool._do_get = timed_get  # type: ignore[method-assign]  # the pool's own get, wrapped to time the waits


@contextmanager
def observe_job(task: str, due: datetime) -> Iterator[None]:
    """One run of a job: its lag (due -> start), duration and outcome; its steps log the task."""
    started_at, started = datetime.now(due.tzinfo), time.perf_counter()
    JOB_LAG.labels(task).observe(max((started_at - due).total_seconds(), 0.0))
    token = job_task_var.set(task)
    outcome = "failed"
    try:
        yield
        outcome = "ok"
    finally:
        job_task_var.reset(token)
        JOB_DURATION.labels(task).observe(time.perf_counter() - started)
        JOB_RUNS.labels(task, outcome).inc()


def job_step(step: str, tenant_id: uuid.UUID | None, outcome: str, started: float) -> None:
    """A scheduler step is over (started = time.perf_counter() at its start): count and log it."""
    JOB_STEPS.labels(step, outcome).inc()
    duration_ms = round((time.perf_counter() - started) * 1000, 1)
    log.log(
        logging.INFO if outcome == "ok" else logging.WARNING,
        "job step %s %s for tenant %s in %.1f ms",
        step,
        outcome,
        tenant_id,
        duration_ms,
        extra={
            "task": job_task_var.get(),
            "step": step,
            "tenant_id": str(tenant_id) if tenant_id else None,
            "outcome": outcome,
            "duration_ms": duration_ms,
        },
    )


class OutboxBacklog:
    """The outbox gauges for one scrape, from `outbox_backlog()`'s answer."""

    def __init__(self, pending: int, undeliverable: int, oldest: datetime | None, now: datetime) -> None:
        self.values = (pending, undeliverable, (now - oldest).total_seconds() if oldest else 0.0)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        pending, undeliverable, age = self.values
        yield GaugeMetricFamily("outbox_pending_emails", "Mail not yet delivered, still to be tried", value=pending)
        yield GaugeMetricFamily(
            "outbox_undeliverable_emails", "Mail not delivered after MAIL_MAX_ATTEMPTS tries", value=undeliverable
        )
        yield GaugeMetricFamily(
            "outbox_oldest_pending_age_seconds", "Age of the oldest mail not yet delivered (0 = none)", value=age
        )


def exposition(outbox: OutboxBacklog | None) -> bytes:
    """The Prometheus text exposition: every process's values in multiprocess mode, this
    process's otherwise, and the outbox gauges of this scrape."""
    if multiprocess():
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]  # prometheus_client leaves it unannotated
    else:
        registry = REGISTRY
    body = generate_latest(registry)
    if outbox is not None:
        scrape = CollectorRegistry()
        scrape.register(outbox)
        body += generate_latest(scrape)
    return body
