"""/webhook-endpoints (owner/admin): where the tenant's business events are POSTed (Standard
Webhooks), their deliveries and redelivery. See app.services.platform.webhook_delivery."""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, status

from app.api.deps import ContextDep, ManagerUser, PaginationDep, SessionDep
from app.schemas.common import Page, problem_responses
from app.schemas.platform.webhooks import (
    DeliveryStatus,
    EndpointStatus,
    EventType,
    WebhookDeliveryRead,
    WebhookEndpointCreate,
    WebhookEndpointRead,
    WebhookEndpointUpdate,
    WebhookEndpointWithSecret,
)
from app.services.platform import webhook_endpoints

router = APIRouter(prefix="/webhook-endpoints", tags=["webhooks"], responses=problem_responses(401, 403, 422))


@router.get("", response_model=Page[WebhookEndpointRead])
async def list_webhook_endpoints(
    _: ManagerUser,
    session: SessionDep,
    page: PaginationDep,
    status_: Annotated[EndpointStatus | None, Query(alias="status")] = None,
) -> Any:
    rows, next_cursor = await webhook_endpoints.list_page(session, limit=page.limit, cursor=page.cursor, status=status_)
    return Page[WebhookEndpointRead](
        items=[WebhookEndpointRead.model_validate(r) for r in rows], next_cursor=next_cursor
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=WebhookEndpointWithSecret,
    responses=problem_responses(400),
)
async def create_webhook_endpoint(
    body: WebhookEndpointCreate, _: ManagerUser, session: SessionDep, ctx: ContextDep
) -> WebhookEndpointWithSecret:
    """A new endpoint, active at once. The answer carries its signing `secret`: the only time it is
    shown (rotate-secret makes a new one)."""
    endpoint, secret = await webhook_endpoints.create(session, ctx, **body.model_dump())
    return WebhookEndpointWithSecret.model_validate(
        {**WebhookEndpointRead.model_validate(endpoint).model_dump(), "secret": secret}
    )


@router.get("/{endpoint_id:uuid}", response_model=WebhookEndpointRead, responses=problem_responses(404))
async def read_webhook_endpoint(endpoint_id: uuid.UUID, _: ManagerUser, session: SessionDep) -> WebhookEndpointRead:
    return WebhookEndpointRead.model_validate(await webhook_endpoints.get(session, endpoint_id))


@router.patch("/{endpoint_id:uuid}", response_model=WebhookEndpointRead, responses=problem_responses(400, 404))
async def update_webhook_endpoint(
    endpoint_id: uuid.UUID, body: WebhookEndpointUpdate, _: ManagerUser, session: SessionDep, ctx: ContextDep
) -> WebhookEndpointRead:
    changes = body.model_dump(exclude_unset=True)
    return WebhookEndpointRead.model_validate(await webhook_endpoints.update(session, ctx, endpoint_id, changes))


@router.delete("/{endpoint_id:uuid}", status_code=status.HTTP_204_NO_CONTENT, responses=problem_responses(404))
async def delete_webhook_endpoint(endpoint_id: uuid.UUID, _: ManagerUser, session: SessionDep) -> None:
    """The endpoint and its deliveries' history (the events stay in GET /events)."""
    await webhook_endpoints.delete(session, endpoint_id)


@router.post(
    "/{endpoint_id:uuid}/rotate-secret", response_model=WebhookEndpointWithSecret, responses=problem_responses(404)
)
async def rotate_webhook_secret(
    endpoint_id: uuid.UUID, _: ManagerUser, session: SessionDep, ctx: ContextDep
) -> WebhookEndpointWithSecret:
    """A new signing secret, answered once and used from the next attempt on (the old one stops at once)."""
    endpoint, secret = await webhook_endpoints.rotate_secret(session, ctx, endpoint_id)
    return WebhookEndpointWithSecret.model_validate(
        {**WebhookEndpointRead.model_validate(endpoint).model_dump(), "secret": secret}
    )


@router.get(
    "/{endpoint_id:uuid}/deliveries", response_model=Page[WebhookDeliveryRead], responses=problem_responses(404)
)
async def list_webhook_deliveries(
    endpoint_id: uuid.UUID,
    _: ManagerUser,
    session: SessionDep,
    page: PaginationDep,
    status_: Annotated[DeliveryStatus | None, Query(alias="status")] = None,
    event_type: Annotated[EventType | None, Query()] = None,
    event_id: Annotated[uuid.UUID | None, Query()] = None,
) -> Any:
    """The endpoint's deliveries, newest first: status, attempts, the last answer or error."""
    rows, next_cursor = await webhook_endpoints.deliveries(
        session,
        endpoint_id,
        limit=page.limit,
        cursor=page.cursor,
        status=status_,
        event_type=event_type,
        event_id=event_id,
    )
    return Page[WebhookDeliveryRead](
        items=[WebhookDeliveryRead.model_validate(r) for r in rows], next_cursor=next_cursor
    )


@router.post(
    "/{endpoint_id:uuid}/deliveries/{delivery_id:uuid}/redeliver",
    status_code=status.HTTP_201_CREATED,
    response_model=WebhookDeliveryRead,
    responses=problem_responses(400, 404),
)
async def redeliver_webhook(
    endpoint_id: uuid.UUID, delivery_id: uuid.UUID, _: ManagerUser, session: SessionDep, ctx: ContextDep
) -> WebhookDeliveryRead:
    """Send the delivery's event again: a new delivery (`redelivery_of` names the original), with
    the same `webhook-id`, sent at once after commit and retried like any other."""
    return WebhookDeliveryRead.model_validate(await webhook_endpoints.redeliver(session, ctx, endpoint_id, delivery_id))
