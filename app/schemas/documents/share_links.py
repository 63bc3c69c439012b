"""Share links of an invoice: POST|GET|DELETE /invoices/{id}/share."""

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from app.schemas.common import ReadModel, RequestBody


class ShareLinkCreate(RequestBody):
    expires_in_days: int | None = Field(
        None,
        ge=1,
        le=366,
        description="How long the link lives (default SHARE_LINK_TTL_DAYS; at most SHARE_LINK_MAX_TTL_DAYS, else 400).",
        examples=[30],
    )


class ShareLinkCreated(BaseModel):
    """The token is in `url` and `whatsapp_url` here only: it is never shown again (only its hash is kept)."""

    id: uuid.UUID
    url: str = Field(examples=["https://billing.example.in/p/Xc2...43-characters"])
    expires_at: datetime
    whatsapp_url: str = Field(
        description="https://wa.me/<the customer's phone, country code first>?text=<the message with the link>; "
        "https://wa.me/?text=... when the customer has no usable phone."
    )


class ShareLinkRead(ReadModel):
    id: uuid.UUID
    created_at: datetime
    expires_at: datetime
    view_count: int
    last_viewed_at: datetime | None
    created_by: uuid.UUID | None


class ShareLinkList(BaseModel):
    items: list[ShareLinkRead]
