"""Online payments (GET /online-payments), payment links of invoices (POST
/invoices/{id}/payment-link) and a Payment Link's signed callback (POST /online-payments/{id}/verify)."""

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.models.commerce.online_payment import OnlinePayment
from app.schemas.billing.business_fields import DecimalOut
from app.schemas.common import Page, ReadModel, RequestBody
from app.schemas.money import Currency

OnlinePaymentStatus = Literal["created", "failed", "expired", "cancelled", "paid"]
OnlinePaymentPurpose = Literal["invoice", "order"]
OnlinePaymentSort = Literal["created_at", "-created_at"]
PAYMENT_ID_PATTERN = r"^pay_[A-Za-z0-9]{1,60}$"
LINK_ID_PATTERN = r"^plink_[A-Za-z0-9]{1,58}$"


class PaymentLinkCreate(RequestBody):
    expires_in_days: int | None = Field(
        None,
        ge=1,
        le=366,
        description="How long the link can be paid (default PAYMENT_LINK_TTL_DAYS; at most "
        "PAYMENT_LINK_MAX_TTL_DAYS, else 400). Ignored when an open link is answered again.",
        examples=[15],
    )


class OnlinePaymentRead(ReadModel):
    id: uuid.UUID
    purpose: OnlinePaymentPurpose
    invoice_id: uuid.UUID | None
    order_id: uuid.UUID | None
    company_id: uuid.UUID
    customer_id: uuid.UUID
    gateway_kind: Literal["payment_link", "order"]
    gateway_ref: str = Field(description="The Payment Link's (plink_...) or order's (order_...) id at Razorpay.")
    short_url: str | None = Field(description="A Payment Link's page, to send to the customer.")
    amount: DecimalOut = Field(description="Asked for.")
    currency: Currency = "INR"
    status: OnlinePaymentStatus = Field(
        description="created, failed (an attempt failed; a link stays payable), expired (its time passed "
        "unpaid), cancelled (replaced or withdrawn), paid."
    )
    is_sandbox: bool
    expires_at: datetime | None
    razorpay_payment_id: str | None
    amount_paid: DecimalOut | None
    paid_at: datetime | None
    receipt_id: uuid.UUID | None = Field(description="The receipt (mode razorpay) that recorded the payment.")
    failure_reason: str | None
    refund_due: bool = Field(description="The money should go back (e.g. paid for a void invoice).")
    refund_due_reason: str | None
    amount_refunded: DecimalOut
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, payment: OnlinePayment, *, now: datetime) -> "OnlinePaymentRead":
        read = cls.model_validate(payment)
        if read.status in ("created", "failed") and read.expires_at is not None and read.expires_at <= now:
            read.status = "expired"
        return read


class OnlinePaymentPage(Page[OnlinePaymentRead]):
    pass


class PaymentLinkRead(BaseModel):
    """The invoice's open payment link, and what to send the customer (WhatsApp, email)."""

    payment: OnlinePaymentRead
    invoice_number: str | None
    short_url: str = Field(examples=["https://rzp.io/i/nxrHnLJ"])
    amount: DecimalOut
    currency: Currency = "INR"
    expires_at: datetime | None
    reused: bool = Field(description="An open link for the same balance existed: it is answered again.")
    message: str = Field(
        description="A message with the link, for WhatsApp or an email.",
        examples=[
            "Invoice INV/26-27/00042 from Sharma Traders: please pay ₹1,180.00 online by 29 Dec 2026 at "
            "https://rzp.io/i/nxrHnLJ"
        ],
    )
    whatsapp_url: str = Field(
        description="https://wa.me/<the customer's phone, country code first>?text=<message>; "
        "https://wa.me/?text=... when the customer has no usable phone."
    )
    sandbox_pay_url: str | None = Field(
        description="Sandbox mode only (RAZORPAY_MODE=sandbox, no keys): opening it pays the link as Razorpay's "
        "callback would. Null on a live gateway."
    )


class LinkVerify(RequestBody):
    """The query parameters Razorpay adds to a Payment Link's callback URL once it is paid."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "razorpay_payment_id": "pay_RZ3gK8zA1bCdEf",
                    "razorpay_payment_link_id": "plink_RZ3fJ7xY2kLmNp",
                    "razorpay_payment_link_reference_id": "INV/26-27/00042-9c41d2",
                    "razorpay_payment_link_status": "paid",
                    "razorpay_signature": "5e7d2c9b1f0a4e3d8c6b5a4f3e2d1c0b9a8f7e6d5c4b3a29181716151413121",
                }
            ]
        },
    )

    razorpay_payment_id: str = Field(pattern=PAYMENT_ID_PATTERN, max_length=64)
    razorpay_payment_link_id: str = Field(pattern=LINK_ID_PATTERN, max_length=64)
    razorpay_payment_link_reference_id: str = Field(min_length=1, max_length=40, pattern=r"^[\x21-\x7e]+$")
    razorpay_payment_link_status: str = Field(pattern=r"^[a-z_]{1,20}$")
    razorpay_signature: str = Field(pattern=r"^[0-9a-f]{64}$")


class LinkVerified(BaseModel):
    payment: OnlinePaymentRead
    outcome: str = Field(
        description="paid, paid-advance (part or all of it is the customer's advance), paid-refund-due (the "
        "invoice is void), already-paid (recorded before: by a webhook or an earlier verify), not-paid-<status>."
    )
