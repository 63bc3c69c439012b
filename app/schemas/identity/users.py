import uuid
from datetime import datetime
from typing import Literal

from pydantic import Field, computed_field

from app.models.identity.user import UserRole
from app.schemas.common import Email, Name, ReadModel, RequestBody


class UserRead(ReadModel):
    id: uuid.UUID
    tenant_id: uuid.UUID
    email: str
    full_name: str
    role: UserRole
    is_active: bool
    email_verified_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @computed_field
    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None


class UserMeUpdate(RequestBody):
    full_name: Name | None = None
    email: Email | None = Field(
        None,
        description=(
            "A new login email. Needs `current_password` (else 400 `wrong-password`). Nothing changes "
            "yet: the new address is mailed a confirmation link (`POST /auth/confirm-email-change`), "
            "the current one a notice with a cancel link (`POST /auth/cancel-email-change`); until the "
            "new address confirms, the current one keeps logging in. The answer is the same whether or "
            "not the new address already has an account (that address is told instead)."
        ),
    )
    current_password: str | None = Field(
        None, min_length=1, max_length=200, description="Required with `email`: the user's current password."
    )


class UserUpdate(RequestBody):
    role: UserRole | None = None
    is_active: bool | None = None


class InviteRequest(RequestBody):
    email: Email
    role: UserRole


InvitationStatus = Literal["pending", "accepted", "revoked", "expired"]


class InvitationRead(ReadModel):
    id: uuid.UUID
    email: str
    role: UserRole
    invited_by: uuid.UUID
    status: InvitationStatus = Field(
        description="pending until accepted, revoked, or expired (its time ran out, a newer invitation to the "
        "same email replaced it, or its inviter was deactivated or can no longer grant its role)."
    )
    expires_at: datetime
    revoked_at: datetime | None
    created_at: datetime

    @classmethod
    def of(cls, invitation, now: datetime) -> "InvitationRead":
        return cls.model_validate(
            {k: getattr(invitation, k) for k in cls.model_fields if k != "status"} | {"status": invitation.status(now)}
        )
