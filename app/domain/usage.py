"""What token usage reads as (pure values): a meter's period, the report GET /usage shows, one
consumption and a plan change. The services compute them; the schemas render them."""

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class MeterUsage:
    meter: str
    plan_code: str
    quota: int | None
    used: int
    carried_over: int
    period_start: datetime
    period_end: datetime

    @property
    def remaining(self) -> int | None:
        return None if self.quota is None else max(0, self.quota - self.used)


@dataclass(frozen=True)
class Report:
    """What GET /usage shows: the plan in force, when these numbers next change by themselves, and
    every meter."""

    plan_code: str
    plan_end_at: datetime
    meters: list[MeterUsage]

    def meter(self, code: str) -> MeterUsage | None:
        return next((m for m in self.meters if m.meter == code), None)


@dataclass(frozen=True)
class Consumption:
    entry_id: str
    usage: MeterUsage
    quantity: int
    replayed: bool = False


@dataclass(frozen=True)
class PlanChange:
    change: str  # upgraded, downgraded, reset, unchanged
    report: Report
