import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Index, String, func, text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, TenantScoped, Timestamps, utcnow


class UserRole(StrEnum):
    owner = "owner"
    admin = "admin"
    accountant = "accountant"
    viewer = "viewer"


ROLE_CHECK = "role IN ({})".format(", ".join(f"'{r.value}'" for r in UserRole))


class User(TenantScoped, Timestamps, Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(ROLE_CHECK, name="role"),
        Index("uq_users_tenant_id_lower_email", "tenant_id", func.lower(text("email")), unique=True),
    )

    email: Mapped[str] = mapped_column(String(320))
    full_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(20))
    email_verified_at: Mapped[datetime | None]
    is_active: Mapped[bool] = mapped_column(default=True, server_default=text("true"))


class UserIdentity(Base):
    """Global email -> (tenant, user) map: the one way to find a user before a tenant is bound.

    It spans tenants, so it has no row-level security; instead the application role has no privilege
    on it and uses the SECURITY DEFINER functions of migration 0009 (one exact address at a time).
    The primary key makes emails unique across all tenants (emails are stored lower-cased).

    A lookup table distributable by its own key (email) on Citus, so no foreign key into `users`
    since migration 0014 (a distributed table cannot reference one distributed by another key).
    Rows are written only by `claim_identity`/`release_identity`, in the transaction that adds the
    user or changes its email; users are deactivated, never deleted, by the application. A row
    whose user is gone reads as an unknown address (login finds no user).
    """

    __tablename__ = "user_identities"
    __table_args__ = (CheckConstraint("email = lower(email)", name="email_lower"),)

    email: Mapped[str] = mapped_column(String(320), primary_key=True)
    tenant_id: Mapped[uuid.UUID]
    user_id: Mapped[uuid.UUID]
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
