import uuid
from datetime import datetime
from typing import Literal

from app.schemas.common import ReadModel


class CompanyLogoRead(ReadModel):
    """The stored logo as re-encoded: its type, size in pixels and SHA-256 (the image itself is
    GET /companies/{id}/logo)."""

    company_id: uuid.UUID
    media_type: Literal["image/png", "image/jpeg"]
    width: int
    height: int
    sha256: str
    updated_at: datetime
