"""Webhook endpoints and deliveries (issue 13 §4)."""

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from app.schemas.billing.business_fields import text
from app.schemas.common import ReadModel, RequestBody

WebhookUrl = Annotated[
    str,
    # No `\s` (ECMA, Python and Rust regex disagree on it) and no stripping (it would change a
    # schema-valid value's length): control characters and spaces are refused by an explicit range.
    StringConstraints(min_length=10, max_length=2000, pattern=r"^https?://[^\x00-\x20\x7f/?#]+[^\x00-\x20\x7f]*$"),
    Field(
        description="Where events are POSTed: https (http only outside production); its host must resolve to "
        "public addresses only (private, loopback, link-local, CGNAT, multicast and reserved addresses are "
        "refused, at save and at every delivery).",
        examples=["https://example.com/webhooks/rms"],
    ),
]
EventType = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z_]+(\.[a-z_]+)+$", max_length=60),
    Field(examples=["invoice.issued"]),
]
EventTypes = Annotated[
    list[EventType],
    Field(
        max_length=50,
        description="The event types to send (see GET /events for the list); empty = every type, including "
        "types added later.",
        examples=[["invoice.issued", "invoice.paid"]],
    ),
]
Description = text(200, example="ERP sync")
EndpointStatus = Literal["active", "disabled"]
DeliveryStatus = Literal["pending", "succeeded", "failed"]


class WebhookEndpointCreate(RequestBody):
    url: WebhookUrl
    event_types: EventTypes = []
    description: Description | None = None


class WebhookEndpointUpdate(RequestBody):
    """Change the URL (checked again), the event types, the description; `enabled` disables the
    endpoint (nothing is sent; new events are not queued for it) or enables it again (pending
    deliveries resume in order)."""

    url: WebhookUrl = None
    event_types: EventTypes = None
    description: Description | None = None
    enabled: bool = None


class WebhookEndpointRead(ReadModel):
    id: uuid.UUID
    url: str
    description: str | None
    event_types: list[str]
    status: EndpointStatus
    disabled_at: datetime | None
    disabled_reason: str | None
    failing_since: datetime | None = Field(
        description="Since when every delivery attempt has failed (null while healthy); the endpoint is "
        "disabled after 3 days of that and its owners mailed."
    )
    created_at: datetime
    updated_at: datetime


class WebhookEndpointWithSecret(WebhookEndpointRead):
    secret: str = Field(
        description="The signing secret (Standard Webhooks `whsec_` + base64): answered only now; store it. "
        "Verify `webhook-signature` = `v1,` + base64(HMAC-SHA256(base64-decoded secret, "
        "`{webhook-id}.{webhook-timestamp}.{body}`)).",
        examples=["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
    )


class WebhookDeliveryRead(ReadModel):
    id: uuid.UUID
    endpoint_id: uuid.UUID
    event_id: uuid.UUID = Field(description="The event, and the `webhook-id` header of every attempt.")
    event_type: str
    resource_id: uuid.UUID
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime | None
    first_attempt_at: datetime | None
    last_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    delivered_at: datetime | None
    redelivery_of: uuid.UUID | None
    created_at: datetime
