from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from app.models.platform.plan import Plan
from app.models.platform.subscription import Subscription
from app.schemas.money import CURRENCY, Currency, Rupees


class LimitUse(BaseModel):
    limit: int | None = Field(description="The plan's limit; null = unlimited.")
    used: int


class Limits(BaseModel):
    customers: LimitUse
    invoices_this_month: LimitUse = Field(description="Invoices issued this calendar month (Asia/Kolkata).")
    active_users: LimitUse
    products: LimitUse = Field(description="Products not archived (archived ones do not count).")


class PlanRead(BaseModel):
    code: str
    name: str
    price: Rupees = Field(description="Price per billing period, in rupees.")
    currency: Currency
    billing_period: Literal["month", "none"]
    monthly_token_quota: int | None = Field(description="null = unlimited.")


class SubscriptionRead(BaseModel):
    """The subscription in force now (computed from the stored state and the clock)."""

    plan: PlanRead
    status: Literal["trialing", "active", "free", "grace", "locked", "cancelled"]
    post_trial_mode: Literal["free_tier", "hard_lock"]
    trial_start: datetime | None
    trial_end: datetime | None
    trial_days_remaining: int = Field(description="Whole days left of the trial, rounded up; 0 when not trialing.")
    current_period_start: datetime
    current_period_end: datetime | None = Field(
        description="When this status ends (trial end, paid period end, grace end); null = open-ended."
    )
    cancel_at_period_end: bool
    limits: Limits

    @classmethod
    def of(
        cls,
        *,
        plan: Plan,
        row: Subscription,
        status: str,
        period: tuple[datetime, datetime | None],
        trial_days_remaining: int,
        limits: dict[str, dict[str, int | None]],
        mode: str,
    ) -> "SubscriptionRead":
        """From the stored row, the state in force now (`status`, `period`) and each limit's use."""
        return cls(
            plan=PlanRead(
                code=plan.code,
                name=plan.name,
                price=plan.price_paise,
                currency=CURRENCY,
                billing_period=plan.billing_period,
                monthly_token_quota=plan.monthly_token_quota,
            ),
            status=status,
            post_trial_mode=mode,
            trial_start=row.trial_start,
            trial_end=row.trial_end,
            trial_days_remaining=trial_days_remaining,
            current_period_start=period[0],
            current_period_end=period[1],
            cancel_at_period_end=row.cancel_at_period_end,
            limits=Limits.model_validate(limits),
        )
