import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, StringConstraints

from app.schemas.common import Page, PlanCode, ReadModel, RequestBody
from app.schemas.money import Currency, Rupees

# Razorpay's id shapes: request bodies state them, and the webhook parser accepts only them.
ORDER_ID_PATTERN = r"^order_[A-Za-z0-9_]{1,58}$"
PAYMENT_ID_PATTERN = r"^pay_[A-Za-z0-9_]{1,60}$"
OrderId = Annotated[str, StringConstraints(pattern=ORDER_ID_PATTERN), Field(examples=["order_RZ3fJ7xY2kLmNp"])]
PaymentId = Annotated[str, StringConstraints(pattern=PAYMENT_ID_PATTERN), Field(examples=["pay_RZ3gK8zA1bCdEf"])]
Signature = Annotated[
    str,
    StringConstraints(pattern=r"^[0-9a-f]{64}$"),
    Field(description="Hex HMAC-SHA256, as Razorpay Checkout returns it.", examples=["0" * 64]),
]


class UpgradeRequest(RequestBody):
    plan: PlanCode = Field(description="Code of a public, paid plan (see `upgrade_plans` in 402 problems).")

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"plan": "standard"}]})


class CheckoutResult(RequestBody):
    """What Razorpay Checkout hands the page when the buyer has paid (its `handler` argument)."""

    razorpay_order_id: OrderId
    razorpay_payment_id: PaymentId
    razorpay_signature: Signature

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "razorpay_order_id": "order_RZ3fJ7xY2kLmNp",
                    "razorpay_payment_id": "pay_RZ3gK8zA1bCdEf",
                    "razorpay_signature": "9c6f" + "0" * 60,
                }
            ]
        },
    )


class UpgradeOrder(ReadModel):
    """What Razorpay Checkout needs (`key`, `order_id`, `amount`, `currency`)."""

    payment_id: uuid.UUID = Field(description="Our payment record (see GET /tenants/payments).")
    order_id: str = Field(description="Razorpay order id: Checkout's `order_id`.")
    amount: Rupees = Field(description="What the order charges, in rupees.")
    currency: Currency
    checkout_amount: int = Field(
        description="The same amount in paise, as Razorpay Checkout's `amount` option takes it: the gateway's "
        "unit, the one integer-paise field of the API."
    )
    key_id: str = Field(description="Checkout's `key`.")
    plan: str
    sandbox: bool = Field(description="true: RAZORPAY_MODE=sandbox, no money moves.")
    sandbox_checkout: CheckoutResult | None = Field(
        None, description="Sandbox only: a paid checkout, ready to POST to /tenants/upgrade/verify."
    )


class PaymentRead(ReadModel):
    id: uuid.UUID
    razorpay_order_id: str
    razorpay_payment_id: str | None
    plan: str = Field(validation_alias="plan_code")
    amount: Rupees = Field(validation_alias="amount_paise", description="What the order charges, in rupees.")
    currency: Currency
    status: Literal["created", "failed", "captured"]
    sandbox: bool = Field(validation_alias="is_sandbox")
    failure_reason: str | None
    captured_at: datetime | None
    period_start: datetime | None = Field(description="The period this payment bought, once applied.")
    period_end: datetime | None
    event_ids: list[str] = Field(description="Razorpay webhook events that touched it, in arrival order.")
    saas_invoice_number: str | None = Field(
        description="The number of the SaaS's GST tax invoice for it, once issued "
        "(its PDF: GET /tenants/payments/{id}/invoice.pdf)."
    )
    created_at: datetime


PaymentPage = Page[PaymentRead]


class WebhookResult(ReadModel):
    result: Literal["processed", "duplicate", "ignored"]
    detail: str
