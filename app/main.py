"""create_app(): lifespan, middleware, routers, error handlers."""

import asyncio
import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from app.api import metrics, pages, public
from app.api.docs import install_docs
from app.api.openapi import install_openapi, operation_id
from app.api.v1 import api_router
from app.api.v1.platform import health
from app.core import cpu_work
from app.core.bootstrap import resolve_urls
from app.core.config import Settings, get_settings, jwt_secret_problem
from app.core.database import Database, drain_background_tasks
from app.core.errors import install_error_handlers
from app.core.logging import configure_logging
from app.core.metrics import instrument_pool, process_exited
from app.core.roles import runtime_role_problems
from app.core.runtime import Runtime
from app.middleware.body_limit import BodyLimitMiddleware
from app.middleware.conflict_retry import ConflictRetryMiddleware
from app.middleware.observe import ObserveMiddleware
from app.middleware.query_text import QueryTextMiddleware
from app.middleware.request_id import RequestIdMiddleware
from app.middleware.tenant import TenantContextMiddleware
from app.middleware.unhandled import UnhandledErrorMiddleware

log = logging.getLogger(__name__)

DESCRIPTION = """
Multi-tenant GST billing for Indian small businesses.

Authenticate with **Authorize** (email + password), or `POST /api/v1/auth/login` and send
`Authorization: Bearer <access_token>`. Errors are RFC 9457 problem details
(`application/problem+json`).
"""


class UnsafeConfiguration(RuntimeError):
    pass


async def check_safety(settings: Settings, app_url: str) -> None:
    """Refuse to run in prod with a role that bypasses row-level security, a dev secret or mail
    links that point at this server's own address."""
    problems = await runtime_role_problems(app_url)
    if secret_problem := jwt_secret_problem(settings.jwt_secret):
        problems.append(secret_problem)
    if settings.env == "prod" and "email_link_base" not in settings.model_fields_set:
        problems.append(f"EMAIL_LINK_BASE is not set (mail would link to {settings.email_link_base})")
    if not problems:
        return
    if settings.env == "prod":
        raise UnsafeConfiguration("refusing to start: " + "; ".join(problems))
    for problem in problems:
        log.warning("UNSAFE CONFIGURATION (allowed outside prod): %s", problem)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_level, settings.log_format)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        urls = await resolve_urls(settings)
        await check_safety(settings, urls.app)
        db = Database(
            urls.app,
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
            ping_after_idle_seconds=settings.db_ping_after_idle_seconds,
            statement_cache=settings.db_prepared_statement_cache,
        )
        instrument_pool(db.engine, "api")
        app.state.runtime = Runtime(settings=settings, db=db)
        app.state.db = db
        try:
            yield
        finally:
            await drain_background_tasks()
            await db.dispose()
            await asyncio.to_thread(cpu_work.shutdown)
            process_exited()

    app = FastAPI(
        title="RMS Billing API",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # served by install_docs, with local assets
        redoc_url=None,
        generate_unique_id_function=operation_id,
    )
    install_error_handlers(app)
    app.include_router(api_router)
    app.include_router(health.router, include_in_schema=False)
    app.include_router(metrics.router, include_in_schema=False)  # why hidden: app/api/metrics.py
    app.include_router(pages.router)
    app.include_router(public.router)  # GET /p/<token>: the public invoice page of a share link
    app.include_router(public.pay_router)  # GET /pay/<ticket>: back from paying a payment link
    install_openapi(app)
    install_docs(app)
    app.add_middleware(ConflictRetryMiddleware)  # innermost: a retry re-runs routing and the handler only
    app.add_middleware(TenantContextMiddleware, settings=settings)
    app.add_middleware(UnhandledErrorMiddleware)  # an unexpected error is a 500 that keeps the connection
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_credentials=True,
        allow_methods=["*"],
        allow_headers=["*"],
        expose_headers=["X-Request-ID", "Retry-After"],
    )
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(QueryTextMiddleware)
    app.add_middleware(ObserveMiddleware)  # inside the request id: one log line and the metrics per request
    app.add_middleware(RequestIdMiddleware)
    if settings.forwarded_allow_ips:  # outermost: every layer sees the client the trusted proxy names
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.forwarded_allow_ips)
    return app
