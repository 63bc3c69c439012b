"""Usage meters (global catalog), each plan's monthly quota per meter, and each tenant's usage
periods and usage ledger (issue 4 §4).

A period is one cycle of one meter for one tenant: its quota (NULL = unlimited), what was carried
into it by an upgrade, and what has been used. Exactly one period per (tenant, meter) is current;
a new cycle is a new row (history kept) and `(tenant_id, meter, period_start)` is unique, so a
cycle is opened at most once however many jobs or requests race to open it. The ledger records
every movement (consumption, new period, carry-over, plan change, usage reset) with the numbers
after it: the periods are a cache of the ledger, never a bare counter without history.
"""

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, func, text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, TenantScoped, Timestamps, tenant_fk, utcnow


class Meter(Timestamps, Base):
    """A metered resource (`tokens`, ...). Global; seeded by migration 0006; the application role
    may only read it. Another meter is a row here plus its quotas in `plan_meter_quotas`."""

    __tablename__ = "meters"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    unit: Mapped[str] = mapped_column(String(40))


class PlanMeterQuota(Timestamps, Base):
    """A plan's monthly quota of a meter (NULL = unlimited; no row = not included, quota 0). The
    `tokens` rows follow `plans.monthly_token_quota` (a trigger of migration 0006 keeps them equal)."""

    __tablename__ = "plan_meter_quotas"
    __table_args__ = (CheckConstraint("monthly_quota IS NULL OR monthly_quota >= 0", name="monthly_quota"),)

    plan_code: Mapped[str] = mapped_column(String(20), ForeignKey("plans.code"), primary_key=True)
    meter: Mapped[str] = mapped_column(String(40), ForeignKey("meters.code"), primary_key=True)
    monthly_quota: Mapped[int | None] = mapped_column(BigInteger)


class UsagePeriod(TenantScoped, Timestamps, Base):
    """One cycle of one meter of a tenant. `quota` NULL = unlimited. `used` may exceed `quota` only
    up to `used_at_downgrade` (what was used when a downgrade lowered the quota below it): nothing
    more can be consumed then, and the CHECK backs it."""

    __tablename__ = "usage_periods"
    __table_args__ = (
        CheckConstraint("period_end > period_start", name="period_order"),
        CheckConstraint("quota IS NULL OR quota >= 0", name="quota"),
        CheckConstraint("carried_over >= 0 AND (quota IS NULL OR carried_over <= quota)", name="carried_over"),
        CheckConstraint("used >= 0 AND used_at_downgrade >= 0", name="used"),
        CheckConstraint("quota IS NULL OR used <= GREATEST(quota, used_at_downgrade)", name="used_within_quota"),
        Index(
            "uq_usage_periods_tenant_id_meter_current",
            "tenant_id",
            "meter",
            unique=True,
            postgresql_where=text("is_current"),
        ),
        Index("uq_usage_periods_tenant_id_meter_period_start", "tenant_id", "meter", "period_start", unique=True),
    )

    meter: Mapped[str] = mapped_column(String(40), ForeignKey("meters.code"))
    plan_code: Mapped[str] = mapped_column(String(20), ForeignKey("plans.code"))
    period_start: Mapped[datetime]
    period_end: Mapped[datetime]
    quota: Mapped[int | None] = mapped_column(BigInteger)
    carried_over: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    used: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    used_at_downgrade: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    is_current: Mapped[bool] = mapped_column(default=True, server_default=text("true"))

    @property
    def remaining(self) -> int | None:
        """What may still be consumed (never below 0); None = unlimited."""
        return None if self.quota is None else max(0, self.quota - self.used)


class UsageKind(StrEnum):
    opened = "opened"  # the first period of a meter (registration, or lazily)
    reset = "reset"  # a new cycle on the same plan (the monthly reset)
    plan_changed = "plan_changed"  # upgrade, downgrade, or the plan in force changed (trial ended ...)
    carried_over = "carried_over"  # remaining of the previous period added to an upgrade's quota
    consumed = "consumed"
    used_reset = "used_reset"  # set-plan same tier with reset_used (after a renewal payment)


KIND_CHECK = "kind IN ({})".format(", ".join(f"'{k.value}'" for k in UsageKind))


class UsageLedgerEntry(TenantScoped, Base):
    """Append-only (the application role may INSERT and SELECT only). `quantity`: consumed,
    carried over, granted (the new quota; NULL = unlimited) or the `used` that was reset.
    `used_after`/`balance_after` are the period's numbers after the movement (balance NULL =
    unlimited). `idempotency_key`, when given, is unique per tenant: a repeated key debits once."""

    __tablename__ = "usage_ledger"
    __table_args__ = (
        tenant_fk(["period_id"], "usage_periods"),
        CheckConstraint(KIND_CHECK, name="kind"),
        CheckConstraint("quantity IS NULL OR quantity >= 0", name="quantity"),
        CheckConstraint("kind NOT IN ('consumed', 'carried_over') OR quantity > 0", name="movement_quantity"),
        CheckConstraint("used_after >= 0 AND (balance_after IS NULL OR balance_after >= 0)", name="after"),
        Index("ix_usage_ledger_tenant_id_period_id", "tenant_id", "period_id"),
        Index(
            "uq_usage_ledger_tenant_id_idempotency_key",
            "tenant_id",
            "idempotency_key",
            unique=True,
            postgresql_where=text("idempotency_key IS NOT NULL"),
        ),
    )

    period_id: Mapped[uuid.UUID]
    meter: Mapped[str] = mapped_column(String(40), ForeignKey("meters.code"))
    plan_code: Mapped[str] = mapped_column(String(20), ForeignKey("plans.code"))
    kind: Mapped[str] = mapped_column(String(20))
    quantity: Mapped[int | None] = mapped_column(BigInteger)
    used_after: Mapped[int] = mapped_column(BigInteger)
    balance_after: Mapped[int | None] = mapped_column(BigInteger)
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
