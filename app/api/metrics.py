"""GET /metrics: Prometheus text format, for the operator's scraper (README "Operating it").

Left out of the OpenAPI spec (included with include_in_schema=False, as /health and /ready at
the root are): it is not part of the API a web app calls, it answers text rather than JSON, and
who may read it is a deployment setting (METRICS_ACCESS) rather than a role a token carries, so
neither `x-roles` nor `x-public` would describe it truthfully.

METRICS_ACCESS: loopback (the client address, after FORWARDED_ALLOW_IPS, is on this machine; a
bearer METRICS_TOKEN admits others if set), token (a bearer METRICS_TOKEN from anyone), off. A
refused scrape answers the same 404 as `off` and as any unknown path: nothing to probe for.
"""

import hmac
import ipaddress
import logging

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import text
from starlette.exceptions import HTTPException

from app.core.config import Settings
from app.core.metrics import OutboxBacklog, exposition
from app.models.base import utcnow

log = logging.getLogger(__name__)
router = APIRouter()


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    runtime = request.app.state.runtime
    if not allowed(runtime.settings, request):
        raise HTTPException(status_code=404, detail="Not Found")
    outbox = await _outbox(request, runtime.settings)
    return Response(exposition(outbox), media_type=CONTENT_TYPE_LATEST)


def allowed(settings: Settings, request: Request) -> bool:
    if settings.metrics_access == "off":
        return False
    if settings.metrics_token and _bearer_matches(request, settings.metrics_token):
        return True
    return settings.metrics_access == "loopback" and _loopback(request.client.host if request.client else None)


def _bearer_matches(request: Request, token: str) -> bool:
    scheme, _, presented = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(presented.strip().encode(), token.encode())


def _loopback(host: str | None) -> bool:
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


async def _outbox(request: Request, settings: Settings) -> OutboxBacklog | None:
    """The outbox backlog over every tenant, asked at scrape time (one indexed query); without it
    (the database unreachable) the other metrics are still answered."""
    try:
        async with request.app.state.db.transaction() as session:
            row = (
                await session.execute(text("SELECT * FROM outbox_backlog(:max)"), {"max": settings.mail_max_attempts})
            ).one()
    except Exception:
        log.warning("metrics: the outbox backlog could not be read", exc_info=True)
        return None
    return OutboxBacklog(row.pending, row.undeliverable, row.oldest_created_at, utcnow())
