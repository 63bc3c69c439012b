import uuid
from datetime import datetime
from typing import Any

from pydantic import field_validator

from app.schemas.common import ReadModel


class AuditLogRead(ReadModel):
    id: uuid.UUID
    actor_user_id: uuid.UUID | None
    action: str
    entity_type: str
    entity_id: uuid.UUID | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    ip: str | None
    user_agent: str | None
    request_id: str | None
    at: datetime

    @field_validator("ip", mode="before")
    @classmethod
    def _ip_as_text(cls, value: Any) -> str | None:
        return None if value is None else str(value)
