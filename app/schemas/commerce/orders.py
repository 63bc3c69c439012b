"""Orders (issue 12 §3): a customer's cart (draft) and its lines, placed with stock reserved and
paid online (a gateway order on the tenant's Razorpay account) or later (cash on delivery).

Amounts are computed like an invoice's (app.domain.invoice_math): a body that sends a total, a
status or a tenant is a 422 (request bodies forbid unknown fields)."""

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.schemas.billing.business_fields import DecimalOut, Money
from app.schemas.billing.invoices import MAX_LINES, LongText, PlaceOfSupply, Quantity, UnitPrice
from app.schemas.common import RequestBody

ORDER_STATUSES = ("draft", "placed", "confirmed", "fulfilled", "cancelled")
OrderStatus = Literal[*ORDER_STATUSES]
PaymentMethod = Literal["online", "pay_later"]
RAZORPAY_ID = r"^[A-Za-z0-9_]{1,64}$"
SIGNATURE = r"^[0-9a-fA-F]{64}$"
PRODUCT = "0194f0a2-5c1e-7b1a-9d7e-2f9c3e1a0b55"
EXAMPLE = {
    "company_id": "0194f0a2-5c1e-7b1a-9d7e-2f9c3e1a0b11",
    "customer_id": "0194f0a2-5c1e-7b1a-9d7e-2f9c3e1a0b22",
    "notes": "Deliver after 6 pm.",
    "lines": [{"product_id": PRODUCT, "quantity": "2"}],
}


class OrderLineIn(RequestBody):
    model_config = ConfigDict(json_schema_extra={"examples": [{"product_id": PRODUCT, "quantity": "3"}]})

    product_id: uuid.UUID = Field(description="A product of the catalogue (not archived); one line per product.")
    quantity: Quantity = Field(
        description="More than zero, in the product's unit (its decimals). May exceed the stock in a draft: "
        "the stock is checked (and reserved) when the order is placed."
    )
    unit_price: UnitPrice | None = Field(
        None,
        description="Per unit, before tax; defaults to the product's sale price (made tax-exclusive when it "
        "includes tax). Fixed on the line when the order is placed.",
    )
    discount: Money = Field(Decimal("0.00"), description="Off the line's value, before tax.")


class OrderLineUpdate(RequestBody):
    model_config = ConfigDict(json_schema_extra={"examples": [{"quantity": "5"}]})

    quantity: Quantity | None = None
    unit_price: UnitPrice | None = Field(None, description="null: back to the product's price.")
    discount: Money | None = None


class OrderCreate(RequestBody):
    """A draft order (the cart). Lines may come now or one by one (POST /orders/{id}/lines)."""

    model_config = ConfigDict(json_schema_extra={"examples": [EXAMPLE]})

    company_id: uuid.UUID = Field(description="The company (place of business) whose stock the order reserves.")
    customer_id: uuid.UUID
    place_of_supply: PlaceOfSupply | None = Field(None, description="State code; defaults to the customer's state.")
    notes: LongText | None = None
    lines: list[OrderLineIn] = Field(default_factory=list, max_length=MAX_LINES)


class OrderUpdate(RequestBody):
    """A draft's header; fields left out stay as they are."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"notes": "Call before delivering."}]})

    customer_id: uuid.UUID | None = None
    place_of_supply: PlaceOfSupply | None = None
    notes: LongText | None = None


class PlaceRequest(RequestBody):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"payment_method": "online"}, {"payment_method": "pay_later"}]}
    )

    payment_method: PaymentMethod = Field(
        description="online: a gateway order on the tenant's Razorpay account, paid within the hold time "
        "(the answer's `checkout` has what Razorpay Checkout needs). pay_later: cash on delivery; the stock "
        "stays reserved (no hold time) until the order is fulfilled (the tax invoice is then issued, on the "
        "customer's account) or cancelled."
    )


class VerifyPaymentRequest(RequestBody):
    """What Razorpay Checkout hands the buyer's browser after a payment."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "razorpay_order_id": "order_Nd8x1B2c3D4e5F",
                    "razorpay_payment_id": "pay_Nd8x9Z8y7X6w5V",
                    "razorpay_signature": "9f2c" * 16,
                }
            ]
        }
    )

    razorpay_order_id: str = Field(pattern=RAZORPAY_ID, max_length=64, examples=["order_Nd8x1B2c3D4e5F"])
    razorpay_payment_id: str = Field(pattern=RAZORPAY_ID, max_length=64, examples=["pay_Nd8x9Z8y7X6w5V"])
    razorpay_signature: str = Field(pattern=SIGNATURE, examples=["9f2c" * 16])


class OrderLineRead(BaseModel):
    id: uuid.UUID
    position: int
    product_id: uuid.UUID
    description: str | None = Field(description="The product's name (null if the order cannot be priced now).")
    hsn_sac: str | None
    quantity: DecimalOut
    unit: str | None
    unit_price: DecimalOut | None = Field(description="Before tax; fixed when the order was placed.")
    discount: DecimalOut
    gst_rate: DecimalOut | None
    taxable_value: DecimalOut | None
    tax: DecimalOut | None = Field(description="CGST + SGST/UTGST + IGST of the line.")
    total: DecimalOut | None


class PricingProblem(BaseModel):
    code: str
    detail: str


class OrderPaymentRead(BaseModel):
    id: uuid.UUID
    status: str
    gateway_ref: str = Field(description="The gateway order's id (order_...).")
    amount: DecimalOut
    amount_paid: DecimalOut | None
    razorpay_payment_id: str | None
    receipt_id: uuid.UUID | None
    refund_due: bool
    is_sandbox: bool


class OrderRead(BaseModel):
    id: uuid.UUID
    company_id: uuid.UUID
    customer_id: uuid.UUID
    status: OrderStatus
    payment_method: PaymentMethod | None
    place_of_supply: str | None
    supply_type: str | None = Field(description="intra_state or inter_state, as an invoice of it would be.")
    notes: str | None
    lines: list[OrderLineRead]
    taxable_value: DecimalOut | None
    tax_total: DecimalOut | None
    round_off: DecimalOut | None
    total: DecimalOut | None = Field(
        description="Computed like an invoice; fixed when the order is placed (what the customer pays)."
    )
    pricing_problem: PricingProblem | None = Field(
        None, description="Why a draft cannot be priced now (an archived product, a rate no longer in force ...)."
    )
    amount_paid: DecimalOut
    amount_refunded: DecimalOut
    hold_until: datetime | None = Field(description="Online payment: the stock is held until then.")
    placed_at: datetime | None
    confirmed_at: datetime | None
    fulfilled_at: datetime | None
    cancelled_at: datetime | None
    cancel_reason: str | None = Field(description="cancelled, hold_expired or refunded.")
    invoice_id: uuid.UUID | None = Field(description="The tax invoice its confirmation issued.")
    needs_attention: bool
    attention_reason: str | None
    payments: list[OrderPaymentRead]
    created_at: datetime
    updated_at: datetime


class OrderSummary(BaseModel):
    """An order in a list (GET /orders/{id} has its lines and amounts)."""

    id: uuid.UUID
    company_id: uuid.UUID
    customer_id: uuid.UUID
    status: OrderStatus
    payment_method: PaymentMethod | None
    total: DecimalOut | None = Field(description="Fixed when placed; null for a draft.")
    amount_paid: DecimalOut
    hold_until: datetime | None
    invoice_id: uuid.UUID | None
    needs_attention: bool
    created_at: datetime


class CheckoutRead(BaseModel):
    """Options for Razorpay Checkout (https://razorpay.com/docs/payments/payment-gateway/web-integration/)."""

    key: str = Field(description="The tenant's key id.")
    order_id: str
    amount: int = Field(description="In paise.")
    currency: str
    name: str = Field(description="The company's trade or legal name.")
    description: str
    prefill: dict[str, str]
    notes: dict[str, str]
    sandbox: bool
    sandbox_payment: dict[str, str] | None = Field(
        None, description="Sandbox only: what Checkout would return once paid (POST it to verify-payment)."
    )


class PlacedOrderRead(OrderRead):
    checkout: CheckoutRead | None = Field(description="online: what Checkout needs; pay_later: null.")
