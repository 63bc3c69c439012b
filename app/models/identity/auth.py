"""Refresh-token sessions and the single-use tokens of verification, reset and invitation."""

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, Index, String, func
from sqlalchemy.dialects.postgresql import INET
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, TenantScoped, tenant_fk, utcnow
from app.models.identity.user import ROLE_CHECK


class AuthSession(TenantScoped, Base):
    """One refresh token. Rotation makes a chain (parent -> replaced_by) inside one family."""

    __tablename__ = "sessions"
    __table_args__ = (
        tenant_fk(["user_id"], "users"),
        Index("uq_sessions_tenant_id_token_hash", "tenant_id", "token_hash", unique=True),
        Index("ix_sessions_tenant_id_family_id", "tenant_id", "family_id"),
        Index("ix_sessions_tenant_id_user_id", "tenant_id", "user_id"),
    )

    user_id: Mapped[uuid.UUID]
    family_id: Mapped[uuid.UUID]
    parent_id: Mapped[uuid.UUID | None]
    token_hash: Mapped[str] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(500))
    ip: Mapped[str | None] = mapped_column(INET)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    replaced_by: Mapped[uuid.UUID | None]


class _SingleUseToken(TenantScoped):
    token_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class EmailVerification(_SingleUseToken, Base):
    __tablename__ = "email_verifications"
    __table_args__ = (
        tenant_fk(["user_id"], "users"),
        Index("uq_email_verifications_tenant_id_token_hash", "tenant_id", "token_hash", unique=True),
    )

    user_id: Mapped[uuid.UUID]


class PasswordReset(_SingleUseToken, Base):
    __tablename__ = "password_resets"
    __table_args__ = (
        tenant_fk(["user_id"], "users"),
        Index("uq_password_resets_tenant_id_token_hash", "tenant_id", "token_hash", unique=True),
    )

    user_id: Mapped[uuid.UUID]


class UserInvitation(_SingleUseToken, Base):
    __tablename__ = "user_invitations"
    __table_args__ = (
        tenant_fk(["invited_by"], "users"),
        CheckConstraint(ROLE_CHECK, name="role"),
        Index("uq_user_invitations_tenant_id_token_hash", "tenant_id", "token_hash", unique=True),
        Index("ix_user_invitations_tenant_id_invited_by", "tenant_id", "invited_by"),
    )

    email: Mapped[str] = mapped_column(String(320))
    role: Mapped[str] = mapped_column(String(20))
    invited_by: Mapped[uuid.UUID]
    # Revoked by an owner/admin (also marked used, so the token no longer redeems).
    revoked_at: Mapped[datetime | None]

    def status(self, now: datetime) -> str:
        """pending, accepted, revoked or expired (expired also covers an inviter deactivated or demoted)."""
        if self.revoked_at is not None:
            return "revoked"
        if self.used_at is not None:
            return "accepted"
        return "expired" if self.expires_at <= now else "pending"


class EmailChange(TenantScoped, Base):
    """A requested change of a user's login email: pending until the new address confirms it with
    the token mailed there (`token_hash`); the old address is told and can cancel it with its own
    token (`cancel_token_hash`). Ended by `confirmed_at` or `cancelled_at` (a newer request
    cancels an older one); `requested_by_family_id` is the session family that asked, the one
    session a confirmed change leaves logged in."""

    __tablename__ = "email_changes"
    __table_args__ = (
        tenant_fk(["user_id"], "users"),
        Index("uq_email_changes_tenant_id_token_hash", "tenant_id", "token_hash", unique=True),
        Index("uq_email_changes_tenant_id_cancel_token_hash", "tenant_id", "cancel_token_hash", unique=True),
        Index("ix_email_changes_tenant_id_user_id", "tenant_id", "user_id"),
    )

    user_id: Mapped[uuid.UUID]
    old_email: Mapped[str] = mapped_column(String(320))
    new_email: Mapped[str] = mapped_column(String(320))
    token_hash: Mapped[str] = mapped_column(String(64))
    cancel_token_hash: Mapped[str] = mapped_column(String(64))
    requested_by_family_id: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    expires_at: Mapped[datetime]
    confirmed_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
