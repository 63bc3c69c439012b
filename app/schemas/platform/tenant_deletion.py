from datetime import datetime
from typing import Literal

from pydantic import Field

from app.schemas.common import Name, ReadModel, RequestBody
from app.schemas.identity.auth import OpaqueToken


class TenantDeleteRequest(RequestBody):
    """The owner's current password and the business name typed exactly as on the account."""

    password: str = Field(min_length=1, max_length=200)
    confirmation: Name = Field(description="The business name (`business_name`), typed exactly.")


class TenantDeletionCancelRequest(RequestBody):
    """The token of the link mailed when the business was closed, and an owner's password."""

    token: OpaqueToken
    password: str = Field(min_length=1, max_length=200)


class TenantDeletionRead(ReadModel):
    """`closed`: logins refused, every row purged after `purge_after` unless cancelled before; `open`."""

    status: Literal["closed", "open"]
    closed_at: datetime | None
    purge_after: datetime | None
