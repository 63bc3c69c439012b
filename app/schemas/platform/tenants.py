import uuid
from datetime import datetime

from app.schemas.common import Email, Name, Phone, ReadModel, RequestBody


class TenantRead(ReadModel):
    id: uuid.UUID
    name: str
    business_name: str
    contact_email: str | None
    contact_phone: str | None
    trial_start_date: datetime | None
    trial_end_date: datetime | None
    is_trial_used: bool
    created_at: datetime
    updated_at: datetime


class TenantUpdate(RequestBody):
    """Fields left out stay as they are; the names cannot be cleared (null is refused)."""

    name: Name = None
    business_name: Name = None
    contact_email: Email | None = None
    contact_phone: Phone | None = None
