"""The public price list (GET /plans): what the web app's pricing page shows, from the plans table."""

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field

from app.models.platform.plan import Plan
from app.schemas.money import Currency, Rupees


class PlanLimits(BaseModel):
    """The plan's limits; null = unlimited."""

    customers: int | None
    invoices_per_month: int | None
    active_users: int | None
    products: int | None


class PublicPlan(BaseModel):
    code: str
    name: str
    description: str | None
    price: Rupees = Field(description="Price per billing period in rupees, as `price_includes_tax` states it.")
    price_paise: int = Field(description="The same price in paise (what Razorpay charges).")
    currency: Currency
    price_includes_tax: bool = Field(description="true: GST is included in the price; false: GST is added to it.")
    gst_rate: Decimal = Field(description="GST percent charged on the plan (the SaaS's tax invoice).")
    price_with_tax: Rupees = Field(description="What one period costs with GST (equal to price when included).")
    sac_code: str
    billing_period: Literal["month", "none"]
    trial_days: int
    limits: PlanLimits
    monthly_token_quota: int | None = Field(description="null = unlimited.")
    custom_branding: bool
    purchasable: bool = Field(description="A paid monthly plan that POST /tenants/upgrade sells.")

    @classmethod
    def of(cls, plan: Plan, price_with_tax: Decimal) -> "PublicPlan":
        return cls(
            code=plan.code,
            name=plan.name,
            description=plan.description,
            price=plan.price_paise,
            price_paise=plan.price_paise,
            currency="INR",
            price_includes_tax=plan.price_includes_tax,
            gst_rate=plan.gst_rate,
            price_with_tax=price_with_tax,
            sac_code=plan.sac_code,
            billing_period=plan.billing_period,
            trial_days=plan.trial_days,
            limits=PlanLimits(
                customers=plan.max_customers,
                invoices_per_month=plan.max_invoices_per_month,
                active_users=plan.max_active_users,
                products=plan.max_products,
            ),
            monthly_token_quota=plan.monthly_token_quota,
            custom_branding=plan.custom_branding,
            purchasable=plan.price_paise > 0 and plan.billing_period == "month",
        )


class PlanList(BaseModel):
    items: list[PublicPlan]
