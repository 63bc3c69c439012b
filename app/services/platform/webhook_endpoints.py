"""The tenant's webhook endpoints (issue 13 §4): create (the signing secret is answered once),
list, read, change, enable/disable, delete, rotate the secret; their deliveries and redelivery.

A URL is checked when saved (scheme: https only with ENV=prod; no credentials; its host must
resolve, and only to public addresses: app.services.platform.webhook_targets) and again before
every delivery. `event_types` is a subset of app.services.platform.events.EVENT_TYPES (empty =
every type, including types added later)."""

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.context import Context
from app.core.errors import NotFound, RuleViolation
from app.core.secret_box import secret_box
from app.models.platform.events import WebhookDelivery, WebhookEndpoint
from app.repositories.platform.webhooks import WebhookDeliveryRepository, WebhookEndpointRepository
from app.services.platform import audit, webhook_delivery
from app.services.platform.events import EVENT_TYPES
from app.services.platform.webhook_targets import TargetRefused, new_secret, resolve

FIELDS = ["url", "description", "event_types", "status"]


async def _check_url(ctx: Context, url: str) -> None:
    try:
        await resolve(url, ctx.settings)
    except TargetRefused as exc:
        if exc.kind == "invalid":
            raise RuleViolation("url", str(exc), code="webhook-url-invalid") from exc
        if exc.kind == "unresolvable":
            raise RuleViolation("url", str(exc), code="webhook-url-unresolvable") from exc
        raise RuleViolation("url", str(exc), code="webhook-url-refused") from exc


def _check_types(event_types: list[str]) -> list[str]:
    unknown = [t for t in event_types if t not in EVENT_TYPES]
    if unknown:
        raise RuleViolation(
            "event_types",
            f"Unknown event type {unknown[0]!r}; known types: {', '.join(EVENT_TYPES)}.",
            code="unknown-event-type",
        )
    return sorted(set(event_types))


def _encrypt(ctx: Context, secret: str) -> str:
    return secret_box(tuple(ctx.settings.payment_secret_keys)).encrypt(secret)


async def list_page(
    session: AsyncSession, *, limit: int, cursor: str | None, status: str | None
) -> tuple[list[WebhookEndpoint], str | None]:
    return await WebhookEndpointRepository(session).list_page(limit=limit, cursor=cursor, status=status)


async def get(session: AsyncSession, endpoint_id: uuid.UUID, *, for_update: bool = False) -> WebhookEndpoint:
    endpoint = await WebhookEndpointRepository(session).get(endpoint_id, for_update=for_update)
    if endpoint is None:
        raise NotFound("Webhook endpoint not found.")
    return endpoint


async def create(
    session: AsyncSession, ctx: Context, *, url: str, event_types: list[str], description: str | None
) -> tuple[WebhookEndpoint, str]:
    """The new endpoint and its secret (the only time the secret is answered)."""
    types = _check_types(event_types)
    await _check_url(ctx, url)
    secret = new_secret()
    endpoint = WebhookEndpoint(
        url=url,
        description=description,
        event_types=types,
        secret_encrypted=_encrypt(ctx, secret),
        status="active",
        created_by=ctx.actor_id,
    )
    await WebhookEndpointRepository(session).add(endpoint)
    await _audit(session, endpoint, "created", None)
    return endpoint, secret


async def update(
    session: AsyncSession, ctx: Context, endpoint_id: uuid.UUID, changes: dict[str, Any]
) -> WebhookEndpoint:
    endpoint = await get(session, endpoint_id, for_update=True)
    before = audit.snapshot(endpoint, FIELDS)
    if "url" in changes and changes["url"] != endpoint.url:
        await _check_url(ctx, changes["url"])
        endpoint.url = changes["url"]
    if "event_types" in changes:
        endpoint.event_types = _check_types(changes["event_types"])
    if "description" in changes:
        endpoint.description = changes["description"]
    enabled = changes.get("enabled")
    if enabled is True and endpoint.status != "active":
        await _check_url(ctx, endpoint.url)
        endpoint.status, endpoint.disabled_at, endpoint.disabled_reason = "active", None, None
        endpoint.failing_since = None
    elif enabled is False and endpoint.status != "disabled":
        endpoint.status, endpoint.disabled_at, endpoint.disabled_reason = "disabled", ctx.now, "disabled by a user"
    await session.flush()
    await _audit(session, endpoint, "updated", before)
    return endpoint


async def delete(session: AsyncSession, endpoint_id: uuid.UUID) -> None:
    """The endpoint and its deliveries' history (the events stay). The deliveries go first: an
    attempt in flight holds its row, then locks the endpoint to record its result, so locking the
    endpoint first and then waiting for that row (the cascade) would deadlock with it."""
    await get(session, endpoint_id)
    await WebhookDeliveryRepository(session).delete_of_endpoint(endpoint_id)
    endpoint = await get(session, endpoint_id, for_update=True)
    before = audit.snapshot(endpoint, FIELDS)
    await session.delete(endpoint)
    await session.flush()
    await audit.record(
        session, action="webhook_endpoint.deleted", entity_type="webhook_endpoint", entity_id=endpoint_id, before=before
    )


async def rotate_secret(session: AsyncSession, ctx: Context, endpoint_id: uuid.UUID) -> tuple[WebhookEndpoint, str]:
    """A new secret, in force at once for every later attempt (pending retries included)."""
    endpoint = await get(session, endpoint_id, for_update=True)
    secret = new_secret()
    endpoint.secret_encrypted = _encrypt(ctx, secret)
    await session.flush()
    await audit.record(
        session, action="webhook_endpoint.secret_rotated", entity_type="webhook_endpoint", entity_id=endpoint.id
    )
    return endpoint, secret


async def deliveries(
    session: AsyncSession,
    endpoint_id: uuid.UUID,
    *,
    limit: int,
    cursor: str | None,
    status: str | None,
    event_type: str | None,
    event_id: uuid.UUID | None,
) -> tuple[list[WebhookDelivery], str | None]:
    await get(session, endpoint_id)
    return await WebhookDeliveryRepository(session).list_page(
        endpoint_id, limit=limit, cursor=cursor, status=status, event_type=event_type, event_id=event_id
    )


async def redeliver(
    session: AsyncSession, ctx: Context, endpoint_id: uuid.UUID, delivery_id: uuid.UUID
) -> WebhookDelivery:
    """A new pending delivery of the same event to the same endpoint (sent after commit, in order
    behind any older pending delivery of the same resource). The endpoint must be active."""
    endpoint = await get(session, endpoint_id)
    repo = WebhookDeliveryRepository(session)
    original = await repo.of_endpoint(endpoint_id, delivery_id)
    if original is None:
        raise NotFound("Webhook delivery not found.")
    if endpoint.status != "active":
        raise RuleViolation(
            "enabled", "Enable the endpoint before redelivering to it.", code="webhook-endpoint-disabled"
        )
    row = WebhookDelivery(
        endpoint_id=endpoint_id,
        event_id=original.event_id,
        event_seq=original.event_seq,
        event_type=original.event_type,
        resource_id=original.resource_id,
        status="pending",
        attempts=0,
        next_attempt_at=ctx.now,
        redelivery_of=original.id,
        created_at=ctx.now,
    )
    await repo.add(row)
    await audit.record(
        session,
        action="webhook_delivery.redelivered",
        entity_type="webhook_endpoint",
        entity_id=endpoint_id,
        after={"delivery_id": str(row.id), "redelivery_of": str(original.id), "event_id": str(original.event_id)},
    )
    webhook_delivery.kick_redelivery(session, ctx, row.id)
    return row


async def _audit(session: AsyncSession, endpoint: WebhookEndpoint, action: str, before: dict[str, Any] | None) -> None:
    await audit.record(
        session,
        action=f"webhook_endpoint.{action}",
        entity_type="webhook_endpoint",
        entity_id=endpoint.id,
        before=before,
        after=audit.snapshot(endpoint, FIELDS),
    )
