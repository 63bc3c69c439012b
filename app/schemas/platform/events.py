import uuid
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from app.schemas.common import ReadModel


class BusinessEventRead(ReadModel):
    """One business event: `type` and `payload_version` say the shape of `payload` (README,
    "Business events"); `seq` orders the tenant's events as they were written."""

    id: uuid.UUID = Field(description="Stable: the `webhook-id` of its webhook deliveries.")
    seq: int
    type: str = Field(validation_alias="event_type", examples=["invoice.issued"])
    resource_type: str = Field(examples=["invoice"])
    resource_id: uuid.UUID
    occurred_at: datetime
    payload_version: int
    payload: dict[str, Any]
    actor_user_id: uuid.UUID | None


class ActivityDay(BaseModel):
    day: date = Field(description="An Indian (Asia/Kolkata) calendar day.")
    total: int
    counts: dict[str, int] = Field(description="Events of each type that day (types with none left out).")


class ActivityRead(BaseModel):
    date_from: date
    date_to: date
    timezone: str = "Asia/Kolkata"
    totals: dict[str, int] = Field(description="Events of each type over the range.")
    days: list[ActivityDay] = Field(description="Every day of the range, in order, empty days included.")
