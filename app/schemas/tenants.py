import uuid
from datetime import datetime

from pydantic import EmailStr, Field

from app.schemas.common import Name, Phone, ReadModel, RequestBody


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
    name: Name | None = None
    business_name: Name | None = None
    contact_email: EmailStr | None = Field(None, max_length=320)
    contact_phone: Phone | None = None
