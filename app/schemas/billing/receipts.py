"""Receipts (payments received) and their allocations to invoices.

`number`, `status`, `amount_allocated` and the allocations' dates are output only: a body that
sends one is a 422 (request bodies forbid unknown fields)."""

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import ConfigDict, Field, computed_field

from app.models.billing.receipt import PAYMENT_MODES, Receipt, ReceiptAllocation
from app.schemas.billing.business_fields import DecimalOut, IsoDate, decimal_string, long_text, text
from app.schemas.common import Page, ReadModel, RequestBody, SelectableRead
from app.schemas.money import CURRENCY, Currency

# More than zero, at most 13 digits before the point (under ₹10 lakh crore), paise optional.
PositiveMoney = decimal_string(r"^([1-9][0-9]{0,12}(\.[0-9]{1,2})?|0\.(0[1-9]|[1-9][0-9]?))$", "500.00")
PaymentMode = Literal[*PAYMENT_MODES]
ReceiptStatus = Literal["active", "void"]
Reference = text(100, example="UTR 402611223344")
Notes = long_text(2000, example="Part payment against October's bookkeeping.")
Reason = text(500, example="Cheque bounced")
MAX_ALLOCATIONS = 100

ALLOCATION_EXAMPLE = {"invoice_id": "0194f0a2-5c1e-7b1a-9d7e-2f9c3e1a0b33", "amount": "500.00"}
EXAMPLE = {
    "customer_id": "0194f0a2-5c1e-7b1a-9d7e-2f9c3e1a0b22",
    "company_id": "0194f0a2-5c1e-7b1a-9d7e-2f9c3e1a0b11",
    "amount": "1500.00",
    "receipt_date": "2026-11-23",
    "mode": "upi",
    "reference": "UTR 402611223344",
    "allocations": [ALLOCATION_EXAMPLE],
}


class AllocationIn(RequestBody):
    invoice_id: uuid.UUID
    amount: PositiveMoney = Field(description="At most the invoice's balance due and the receipt's remainder.")


class ReceiptCreate(RequestBody):
    """Money received. What `allocations` do not apply to invoices stays on the receipt as the
    customer's advance, to be allocated later."""

    model_config = ConfigDict(json_schema_extra={"examples": [EXAMPLE]})

    customer_id: uuid.UUID
    company_id: uuid.UUID = Field(description="The company whose receipt series numbers it.")
    amount: PositiveMoney
    receipt_date: IsoDate
    mode: PaymentMode
    reference: Reference | None = Field(None, description="UTR, cheque number, card slip ...")
    notes: Notes | None = None
    allocations: list[AllocationIn] = Field(default_factory=list, max_length=MAX_ALLOCATIONS)


class AllocateRequest(RequestBody):
    model_config = ConfigDict(json_schema_extra={"examples": [{"allocations": [ALLOCATION_EXAMPLE]}]})

    allocations: list[AllocationIn] = Field(min_length=1, max_length=MAX_ALLOCATIONS)


class ReceiptVoid(RequestBody):
    reason: Reason


class AllocationRead(ReadModel):
    id: uuid.UUID
    invoice_id: uuid.UUID
    invoice_number: str | None
    amount: DecimalOut
    allocated_on: date
    created_at: datetime

    @classmethod
    def of(cls, allocation: ReceiptAllocation, invoice_number: str | None) -> "AllocationRead":
        plain = {name: getattr(allocation, name) for name in cls.model_fields if name != "invoice_number"}
        return cls(**plain, invoice_number=invoice_number)


class ReceiptRead(SelectableRead):
    id: uuid.UUID
    company_id: uuid.UUID
    company_name: str | None = Field(description="The company's trade name, else its legal name (now).")
    customer_id: uuid.UUID
    customer_name: str | None = Field(description="The customer's name (now).")
    number: str
    financial_year: str
    receipt_date: date
    amount: DecimalOut
    currency: Currency = CURRENCY
    amount_allocated: DecimalOut
    amount_refunded: DecimalOut = Field(description="Sent back to the customer through the payment gateway (refunds).")
    mode: PaymentMode
    reference: str | None
    notes: str | None
    status: ReceiptStatus
    voided_at: datetime | None
    void_reason: str | None
    created_at: datetime
    updated_at: datetime
    allocations: list[AllocationRead] | None = Field(None, description="On single reads and writes; null in lists.")

    @computed_field(description="The customer's advance left on this receipt (0 once void).")
    @property
    def amount_unallocated(self) -> DecimalOut:
        if self.status == "void":
            return Decimal("0.00")
        return self.amount - self.amount_allocated - self.amount_refunded

    @classmethod
    def of(
        cls,
        receipt: Receipt,
        allocations: list[AllocationRead] | None = None,
        *,
        names: tuple[str | None, str | None] = (None, None),
    ) -> "ReceiptRead":
        """`names`: (customer name, company name), as the list's query or DisplayNameRepository.parties answers them."""
        skip = {"allocations", "customer_name", "company_name", "currency"}
        plain = {name: getattr(receipt, name) for name in cls.model_fields if name not in skip}
        return cls(**plain, allocations=allocations, customer_name=names[0], company_name=names[1])


ReceiptSort = Literal["receipt_date", "-receipt_date", "amount", "-amount", "created_at", "-created_at"]
ReceiptPage = Page[ReceiptRead]
