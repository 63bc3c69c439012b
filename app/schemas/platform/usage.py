from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, StringConstraints

from app.domain.usage import Consumption, MeterUsage, PlanChange, Report
from app.schemas.common import PlanCode, RequestBody

MeterCode = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$"), Field(examples=["tokens"])]


# Bounded so that a sum of quantities stays far inside BIGINT.
def _not_text_or_boolean(value: object) -> object:
    """JSON Schema's integer includes 50.0 but not "50" or true: coerce nothing else."""
    if isinstance(value, (str, bool)):
        raise ValueError("must be an integer")
    return value


Quantity = Annotated[int, Field(ge=1, le=1_000_000_000, examples=[50]), BeforeValidator(_not_text_or_boolean)]
UNLIMITED = "null = unlimited."


class MeterUsageRead(BaseModel):
    meter: str
    plan: str = Field(description="The plan whose quota this period has.")
    quota: int | None = Field(description="This period's quota, carry-over included; " + UNLIMITED)
    used: int
    remaining: int | None = Field(description="quota - used, never below 0; " + UNLIMITED)
    carried_over: int = Field(description="Tokens carried into this period by an upgrade (part of `quota`).")
    period_start: datetime
    period_end: datetime = Field(description="When the quota resets (30-day cycles).")

    @classmethod
    def of(cls, usage: MeterUsage) -> "MeterUsageRead":
        return cls(
            meter=usage.meter,
            plan=usage.plan_code,
            quota=usage.quota,
            used=usage.used,
            remaining=usage.remaining,
            carried_over=usage.carried_over,
            period_start=usage.period_start,
            period_end=usage.period_end,
        )


class UsageRead(BaseModel):
    """The web app's token fields (the `tokens` meter) and every meter."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "plan": "standard",
                    "token_quota": 10700,
                    "token_used": 1200,
                    "remaining": 9500,
                    "plan_end_at": "2026-12-23T14:00:00Z",
                    "meters": [
                        {
                            "meter": "tokens",
                            "plan": "standard",
                            "quota": 10700,
                            "used": 1200,
                            "remaining": 9500,
                            "carried_over": 700,
                            "period_start": "2026-11-23T14:00:00Z",
                            "period_end": "2026-12-23T14:00:00Z",
                        }
                    ],
                }
            ]
        }
    )

    plan: str = Field(description="The plan in force.")
    token_quota: int | None = Field(description=UNLIMITED)
    token_used: int
    remaining: int | None = Field(description="Tokens left this period; " + UNLIMITED)
    plan_end_at: datetime = Field(
        description="When these numbers next change by themselves: the token period's end, or the "
        "plan's own end if earlier (trial end, paid period end)."
    )
    meters: list[MeterUsageRead]

    @classmethod
    def of(cls, report: Report) -> "UsageRead":
        tokens = report.meter("tokens")
        return cls(
            plan=report.plan_code,
            token_quota=tokens.quota,
            token_used=tokens.used,
            remaining=tokens.remaining,
            plan_end_at=report.plan_end_at,
            meters=[MeterUsageRead.of(m) for m in report.meters],
        )


class ConsumeRequest(RequestBody):
    model_config = ConfigDict(json_schema_extra={"examples": [{"meter": "tokens", "quantity": 50}]})

    meter: MeterCode
    quantity: Quantity


class ConsumeRead(MeterUsageRead):
    entry_id: str = Field(description="The usage ledger entry of this debit.")
    quantity: int

    @classmethod
    def of_consumption(cls, consumption: Consumption) -> "ConsumeRead":
        usage = MeterUsageRead.of(consumption.usage).model_dump()
        return cls(**usage, entry_id=consumption.entry_id, quantity=consumption.quantity)


class SetPlanRequest(RequestBody):
    model_config = ConfigDict(json_schema_extra={"examples": [{"plan": "standard", "reset_used": False}]})

    plan: PlanCode
    reset_used: StrictBool = Field(
        False,
        description="Same plan only: set used to 0. On a plan with a quota this needs a payment made "
        "during the current period (a renewal), and each payment resets once.",
    )


class SetPlanRead(UsageRead):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{**UsageRead.model_config["json_schema_extra"]["examples"][0], "change": "upgraded"}]
        }
    )

    change: Literal["upgraded", "downgraded", "reset", "unchanged"]

    @classmethod
    def of_change(cls, change: PlanChange) -> "SetPlanRead":
        return cls(**UsageRead.of(change.report).model_dump(), change=change.change)
