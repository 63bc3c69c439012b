"""Refunds through the tenant's gateway: of an order (all of it, some of its lines, or an amount)
and of an online payment flagged for refund; reads.

An order's refund body is one of three shapes, each stated exactly in the spec: `full: true`,
`lines` (units of the order's lines) or `amount` (rupees, tax included). Every amount paid back is
computed: a body cannot set it, nor a status or a gateway id (request bodies forbid unknown fields)."""

import uuid
from datetime import datetime
from typing import Annotated, Literal

from fastapi import Body
from pydantic import ConfigDict, Field, StrictBool

from app.schemas.billing.business_fields import DecimalOut
from app.schemas.billing.invoices import MAX_LINES, Quantity, Reason
from app.schemas.billing.receipts import PositiveMoney
from app.schemas.common import Page, RequestBody, SelectableRead
from app.schemas.money import CURRENCY, Currency

ORDER_LINE_ID = "0194f0a2-5c1e-7b1a-9d7e-2f9c3e1a0b55"
RefundStatus = Literal["pending", "processed", "failed"]
RESTOCK = Field(
    False,
    description="The goods came back in a state to sell again: the refunded units go back to the order's "
    "company's stock (`return` movements). False (the default): they do not (damaged, kept by the customer).",
)


class RefundLineIn(RequestBody):
    order_line_id: uuid.UUID
    quantity: Quantity = Field(description="More than zero; at most what is not yet credited of the line.")


class FullRefundIn(RequestBody):
    """All of the order: a full credit note for its invoice, and every rupee paid and not yet
    refunded goes back. A confirmed order is cancelled by it. Only when nothing of the invoice was
    credited before (409 `invoice-already-credited`: refund what remains by lines or amount)."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"full": True, "reason": "Customer cancelled", "restock": True}]}
    )

    full: Literal[True] = Field(examples=[True])
    reason: Reason
    restock: StrictBool = RESTOCK


class LinesRefundIn(RequestBody):
    """Units of the order's lines: a credit note for them at the invoice's prices and tax, and
    that much of the payment goes back."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "reason": "Two units returned",
                    "restock": True,
                    "lines": [{"order_line_id": ORDER_LINE_ID, "quantity": "2"}],
                }
            ]
        }
    )

    lines: list[RefundLineIn] = Field(min_length=1, max_length=MAX_LINES, description="Each order line at most once.")
    reason: Reason
    restock: StrictBool = RESTOCK


class AmountRefundIn(RequestBody):
    """An amount, tax included (a price reduction, a goodwill refund): first from what the payment
    left as the customer's advance, the rest by a credit note by value on the invoice's lines in
    proportion to what remains of each, coming to that rest to the paisa (the paise of tax rounding
    in its round_off). No goods go back."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"amount": "150.00", "reason": "Late delivery"}]})

    amount: PositiveMoney = Field(description="At most what was paid and not yet refunded (409 `refund-exceeds-paid`).")
    reason: Reason


OrderRefundCreate = Annotated[FullRefundIn | LinesRefundIn | AmountRefundIn, Body()]


class PaymentRefundIn(RequestBody):
    """Money of a payment flagged for refund (its invoice was voided, or its order could not be
    honoured), paid back from the customer's advance it left."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "Invoice voided"}]})

    amount: PositiveMoney | None = Field(
        None, description="Defaults to all of the payment's advance not yet refunded; at most that (409)."
    )
    reason: Reason


class RefundRead(SelectableRead):
    id: uuid.UUID
    online_payment_id: uuid.UUID
    order_id: uuid.UUID | None
    customer_id: uuid.UUID
    receipt_id: uuid.UUID | None = Field(description="The receipt whose money went back.")
    amount: DecimalOut
    currency: Currency = CURRENCY
    status: RefundStatus = Field(
        description="pending: asked of the gateway; processed: the gateway paid it out; failed: it did not (the "
        "amount is the customer's advance again, and the payment is flagged for refund)."
    )
    razorpay_refund_id: str | None
    credit_note_id: uuid.UUID | None = Field(description="The credit note for the refunded goods or amount, if any.")
    restock: bool
    reason: str | None
    failure_reason: str | None
    processed_at: datetime | None
    failed_at: datetime | None
    created_at: datetime
    updated_at: datetime


RefundSort = Literal["created_at", "-created_at", "amount", "-amount"]
RefundPage = Page[RefundRead]
