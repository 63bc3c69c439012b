"""Declarative base, naming convention and the mixins every table uses."""

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, ForeignKey, ForeignKeyConstraint, MetaData, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column
from uuid6 import uuid7

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_id() -> uuid.UUID:
    """Time-ordered UUIDv7: ids sort by creation, which keyset pagination relies on."""
    return uuid.UUID(bytes=uuid7().bytes)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: DateTime(timezone=True), dict[str, Any]: JSONB}


class Timestamps:
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow, server_default=func.now())


def _tenant_id_column() -> Mapped[uuid.UUID]:
    return mapped_column(ForeignKey("tenants.id"), primary_key=True)


class TenantOwned:
    """A row of one tenant: the ORM filter scopes it, row-level security guards its table."""

    @declared_attr
    def tenant_id(cls) -> Mapped[uuid.UUID]:
        return _tenant_id_column()


class TenantScoped(TenantOwned):
    """Composite primary key (tenant_id, id)."""

    @declared_attr
    def tenant_id(cls) -> Mapped[uuid.UUID]:  # declared again so that the key is (tenant_id, id)
        return _tenant_id_column()

    @declared_attr
    def id(cls) -> Mapped[uuid.UUID]:
        return mapped_column(primary_key=True, default=new_id)


def tenant_fk(columns: list[str], target: str, **kwargs: Any) -> ForeignKeyConstraint:
    """Composite foreign key (tenant_id, x_id) -> target(tenant_id, id)."""

    return ForeignKeyConstraint(["tenant_id", *columns], [f"{target}.tenant_id", f"{target}.id"], **kwargs)
