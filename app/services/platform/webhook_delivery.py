"""Delivering business events to webhook endpoints (issue 13 §4), Standard Webhooks style.

`events.record` makes one pending `webhook_deliveries` row per subscribed endpoint in the change's
own transaction. The rows are delivered after that commit (a background kick, like mail) and by
the scheduled job (`deliver_due`, every minute) for retries and whatever a kick missed.

One attempt: claim the next deliverable row in a short transaction (pending, due, endpoint active,
and the OLDEST pending row of its (endpoint, resource): in-order delivery per resource; `FOR UPDATE
SKIP LOCKED`) and lease it (next_attempt_at past the attempt's longest duration, so concurrent
deliverers never send the same row twice at once, and it still blocks the rows behind it), POST
with no database connection held, then record the result in a second transaction. The URL is resolved and
checked again before every attempt and the connection goes to the checked address
(app.services.platform.webhook_targets: SSRF and DNS rebinding).

Request: POST, body `{"type", "timestamp", "data"}` (data = the event's payload), headers
`webhook-id` (the event id: the same on every retry and redelivery, for the receiver's dedup),
`webhook-timestamp` (unix seconds of the attempt), `webhook-signature` (`v1,` + base64 HMAC-SHA256
of `id.timestamp.body` under the secret's decoded bytes). Success = any 2xx within
WEBHOOK_TIMEOUT_SECONDS; redirects are not followed (a 3xx is a failure).

Retries: after the n-th failed attempt, wait RETRY_SCHEDULE[n-1] (the last one repeats) with ±20 %
jitter, never past RETRY_WINDOW (3 days) after the first attempt; the attempt at the window's end
that fails makes the row `failed`. An endpoint whose attempts have all failed for DISABLE_AFTER (3
days: `failing_since`, cleared by any success) is disabled, audited, and its owners are mailed once;
its pending rows wait (enable it and they resume in order). Delivery is at least once: a crash after
the receiver answered and before the result's commit sends it again when the lease ends, with the
same webhook-id.
"""

import asyncio
import json
import logging
import random
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.context import Context
from app.core.database import Database, after_commit
from app.core.secret_box import SecretUnreadable, secret_box
from app.models.base import utcnow
from app.models.platform.events import WebhookDelivery, WebhookEndpoint
from app.repositories.identity.users import UserRepository
from app.repositories.platform.tenants import TenantAccountRepository
from app.repositories.platform.webhooks import WebhookDeliveryRepository
from app.services.platform import audit, mail
from app.services.platform.webhook_targets import RESOLVE_TIMEOUT_SECONDS, Target, TargetRefused, resolve, sign

log = logging.getLogger(__name__)

RETRY_SCHEDULE = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
)
RETRY_WINDOW = timedelta(days=3)
DISABLE_AFTER = timedelta(days=3)
JITTER = 0.2
# A claimed row's lease beyond the attempt's longest duration (resolution + timeout).
LEASE_MARGIN = timedelta(seconds=30)
# Attempts one call makes at most (the scheduler's next run goes on).
MAX_PER_RUN = 200
RUNTIME_KEY = "runtime"  # session.info: the request's Runtime (db, settings), set by get_session
_PENDING_KEY = "webhook_event_ids"


def retry_delay(attempts: int, *, rng: random.Random | None = None) -> timedelta:
    """The wait after the `attempts`-th failed attempt, with ±JITTER."""
    base = RETRY_SCHEDULE[min(attempts, len(RETRY_SCHEDULE)) - 1]
    factor = 1 + (rng or random).uniform(-JITTER, JITTER)
    return base * factor


def body_of(event_type: str, occurred_at: datetime, payload: dict[str, object]) -> bytes:
    return json.dumps(
        {"type": event_type, "timestamp": occurred_at.isoformat(), "data": payload},
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode()


def kick_after_commit(session: AsyncSession, tenant_id: uuid.UUID, event_id: uuid.UUID) -> None:
    """Deliver the event's rows once the request commits (the scheduled job does it otherwise)."""
    runtime = session.info.get(RUNTIME_KEY)
    if runtime is None:
        return  # a job's or the CLI's transaction: the scheduled step delivers
    pending: list[uuid.UUID] | None = session.info.get(_PENDING_KEY)
    if pending is not None:
        pending.append(event_id)
        return
    pending = session.info[_PENDING_KEY] = [event_id]
    db: Database = runtime.db
    settings: Settings = runtime.settings

    async def deliver_after_commit() -> None:
        try:
            await deliver(db, settings, tenant_id, event_ids=list(pending))
        except Exception:
            log.exception("webhook delivery after commit failed; the scheduled job retries")

    after_commit(session, deliver_after_commit)


def kick_redelivery(session: AsyncSession, ctx: Context, delivery_id: uuid.UUID) -> None:
    db, settings, tenant_id = ctx.db, ctx.settings, ctx.tenant_id
    assert tenant_id is not None

    async def deliver_after_commit() -> None:
        try:
            await deliver(db, settings, tenant_id, delivery_ids=[delivery_id])
        except Exception:
            log.exception("webhook redelivery after commit failed; the scheduled job retries")

    after_commit(session, deliver_after_commit)


async def deliver_due(db: Database, settings: Settings, tenant_id: uuid.UUID, at: datetime) -> int:
    """The scheduled step (app.services.platform.scheduler): the tenant's deliveries due at `at`."""
    return await deliver(db, settings, tenant_id, at=at)


async def deliver(
    db: Database,
    settings: Settings,
    tenant_id: uuid.UUID,
    *,
    at: datetime | None = None,
    event_ids: Sequence[uuid.UUID] | None = None,
    delivery_ids: Sequence[uuid.UUID] | None = None,
) -> int:
    """Attempt deliverable rows one at a time (all due ones, or only those of `event_ids` /
    `delivery_ids`); the number delivered. An endpoint that gave no answer at all (timeout,
    connection refused, address refused) is not tried again in the same call (its other rows wait
    for the next run): a dead endpoint costs one timeout per run, not one per pending resource. One
    that answers (even 500) goes on with its other resources' rows.

    An attempt holds no database connection while it posts: the row is claimed in one short
    transaction (leased: its next_attempt_at moves past the attempt's longest duration, so no
    other deliverer takes it, and as the oldest pending row of its resource it still holds the
    newer ones back), and the answer is recorded in another. A crash in between leaves the row
    pending, tried again when the lease ends (at least once)."""
    delivered = 0
    failing: set[uuid.UUID] = set()
    for _ in range(MAX_PER_RUN):
        now = at or utcnow()
        async with db.transaction(tenant_id) as session:
            repo = WebhookDeliveryRepository(session)
            row = await repo.claim_next(now, event_ids=event_ids, delivery_ids=delivery_ids, skip_endpoints=failing)
            if row is None:
                break
            attempt = await _claim(repo, row, now, settings)
        status, error = await _send(attempt, settings)
        async with db.transaction(tenant_id) as session:
            ctx = Context(settings=settings, db=db, now=now, tenant_id=tenant_id)
            delivered += await _record(session, ctx, attempt.delivery_id, status, error)
        if error is not None and status is None:
            failing.add(attempt.endpoint_id)  # no answer at all (timeout, refused, unreachable)
    return delivered


@dataclass(frozen=True)
class _Attempt:
    delivery_id: uuid.UUID
    endpoint_id: uuid.UUID
    url: str
    secret: str | None  # None: unreadable (the attempt fails without sending)
    message_id: str
    body: bytes


async def _claim(repo: WebhookDeliveryRepository, row: WebhookDelivery, now: datetime, settings: Settings) -> _Attempt:
    """What to send for the locked row, and its lease."""
    endpoint = await repo.endpoint(row.endpoint_id)
    event = await repo.event(row.event_id)
    assert endpoint is not None and event is not None  # foreign keys
    try:
        secret: str | None = secret_box(tuple(settings.payment_secret_keys)).decrypt(endpoint.secret_encrypted)
    except SecretUnreadable:
        secret = None
    lease = timedelta(seconds=settings.webhook_timeout_seconds + RESOLVE_TIMEOUT_SECONDS) + LEASE_MARGIN
    row.next_attempt_at = now + lease
    return _Attempt(
        delivery_id=row.id,
        endpoint_id=row.endpoint_id,
        url=endpoint.url,
        secret=secret,
        message_id=str(event.id),
        body=body_of(event.event_type, event.occurred_at, event.payload),
    )


async def _send(attempt: _Attempt, settings: Settings) -> tuple[int | None, str | None]:
    """POST the attempt (no database connection held): the answer's status and the error, if any."""
    if attempt.secret is None:
        return None, "the endpoint's secret cannot be read (rotate it)"
    status: int | None = None
    try:
        target = await resolve(attempt.url, settings)
        timestamp = int(time.time())
        headers = {
            "content-type": "application/json",
            "user-agent": "RMS-Billing-Webhooks/1",
            "webhook-id": attempt.message_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(attempt.secret, attempt.message_id, timestamp, attempt.body),
        }
        status = await post(target, headers, attempt.body, settings.webhook_timeout_seconds)
        error = None if 200 <= status < 300 else f"HTTP {status}"
    except TargetRefused as exc:
        error = str(exc)
    except (httpx.TimeoutException, TimeoutError):
        error = f"no answer within {settings.webhook_timeout_seconds:g} s"
    except (httpx.HTTPError, OSError) as exc:
        error = f"could not connect ({type(exc).__name__})"
    return status, error


async def _record(
    session: AsyncSession, ctx: Context, delivery_id: uuid.UUID, status: int | None, error: str | None
) -> int:
    """The attempt's result on its row (gone if the endpoint was deleted meanwhile): 1 if delivered."""
    now = ctx.now
    repo = WebhookDeliveryRepository(session)
    row = await repo.get(delivery_id, for_update=True)
    if row is None or row.status != "pending":
        return 0
    row.attempts += 1
    row.last_attempt_at = now
    row.first_attempt_at = row.first_attempt_at or now
    row.last_status_code = status
    row.last_error = error[:500] if error else None
    locked = await repo.endpoint(row.endpoint_id, for_update=True)
    assert locked is not None
    if error is None:
        row.status, row.delivered_at, row.next_attempt_at = "succeeded", now, None
        locked.failing_since = None
        return 1
    deadline = row.first_attempt_at + RETRY_WINDOW
    if now >= deadline:
        row.status, row.next_attempt_at = "failed", None
    else:
        row.next_attempt_at = min(now + retry_delay(row.attempts), deadline)
    log.info("webhook %s to endpoint %s failed (attempt %d): %s", row.id, row.endpoint_id, row.attempts, error)
    locked.failing_since = locked.failing_since or now
    if locked.status == "active" and now - locked.failing_since >= DISABLE_AFTER:
        await _disable(session, ctx, locked, error)
    return 0


async def post(target: Target, headers: dict[str, str], body: bytes, time_limit: float) -> int:
    """POST to the checked address (never resolving the host again); the answer's status code."""
    parts = urlsplit(target.url)
    address = f"[{target.address}]" if ":" in target.address else target.address
    url = parts._replace(netloc=f"{address}:{target.port}").geturl()
    default_port = 443 if target.scheme == "https" else 80
    host = target.host if target.port == default_port else f"{target.host}:{target.port}"
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    async with httpx.AsyncClient(timeout=time_limit, follow_redirects=False, trust_env=False) as client:
        async with asyncio.timeout(time_limit):
            request = client.build_request(
                "POST", url, content=body, headers={**headers, "host": host}, extensions=extensions
            )
            response = await client.send(request, stream=True)
            await response.aclose()  # the status is the answer; the body is not read
    return response.status_code


async def _disable(session: AsyncSession, ctx: Context, endpoint: WebhookEndpoint, reason: str) -> None:
    before = {"status": endpoint.status}
    endpoint.status = "disabled"
    endpoint.disabled_at = ctx.now
    endpoint.disabled_reason = f"every delivery failed for 3 days; last: {reason}"[:200]
    await session.flush()
    await audit.record(
        session,
        action="webhook_endpoint.disabled",
        entity_type="webhook_endpoint",
        entity_id=endpoint.id,
        before=before,
        after={"status": endpoint.status, "disabled_reason": endpoint.disabled_reason},
    )
    assert ctx.tenant_id is not None
    tenant = await TenantAccountRepository(session).get(ctx.tenant_id)
    failing_since = endpoint.failing_since or ctx.now
    for owner in await UserRepository(session).owners():
        await mail.enqueue(
            session,
            ctx,
            to=owner.email,
            template="webhook_endpoint_disabled",
            name=owner.full_name,
            business_name=tenant.business_name if tenant else "",
            host=urlsplit(endpoint.url).hostname or endpoint.url,
            url=endpoint.url,
            description=endpoint.description,
            endpoint_id=str(endpoint.id),
            failing_since=mail_time(failing_since),
            disabled_at=mail_time(ctx.now),
            reason=reason,
        )


def mail_time(moment: datetime) -> str:
    from app.domain.fiscal import INDIA

    return moment.astimezone(INDIA).strftime("%d %b %Y, %H:%M IST")
